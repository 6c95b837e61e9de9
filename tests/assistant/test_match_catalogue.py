"""The support-measures catalogue extracted from the shipped corpus."""

from __future__ import annotations

import json

import pytest

from assistant.errors import InputError
from assistant.index.snapshot import GENERATIONS
from assistant.match.catalogue import CACHE_FILE, Catalogue, build_catalogue, get_catalogue, list_measures
from assistant.match.taxonomy import load_taxonomy
from tests.conftest import PLAN, REPLY

TASKS = {
    "（一）深化园区管理体制机制改革": ["1、强化园区工作机制", "2、构建园区管理体系", "3、做实园区运营机构"],
    "（二）激发创新策源地": ["4、多方联手共育创新源头", "5、构建科技创新孵化体系"],
    "（三）培育发展产业集聚": [
        "6、重点发展互联网服务主导产业",
        "7、打造在线新经济特色产业",
        "8、重点培育领军企业",
    ],
    "（四）优化园区空间布局": ["9、推进“上海硅巷”建设", "10、优化园区空间布局"],
    "（五）完善创新创业生态体系": [
        "11、全力打造市级高质量孵化器",
        "12、提升科技金融服务能力",
        "13、深化人才引进培育举措",
        "14、健全知识产权服务体系",
        "15、优化国际化人才创新创业服务",
    ],
}


@pytest.fixture(scope="module")
def catalogue(bot) -> Catalogue:
    return get_catalogue(bot)


def by_heading(catalogue: Catalogue, source: str, heading: str):
    found = [m for m in catalogue.measures if m.source == source and m.heading == heading]
    assert len(found) == 1, f"{heading}: {[m.section for m in found]}"
    return found[0]


def test_each_of_the_15_tasks_is_a_measure_with_its_section_path(catalogue: Catalogue, bot) -> None:
    plan = [m for m in catalogue.measures if m.source == PLAN]
    expected = [f"二、重点任务 > {group} > {task}" for group, tasks in TASKS.items() for task in tasks]
    assert len(expected) == 15
    assert [m.section for m in plan] == expected, (
        "the 15 tasks, in document order, and nothing else of the plan"
    )
    doc = bot.snapshot().documents[PLAN]
    for m in plan:
        assert (
            m.doc_number == "长科委〔2025〕13号" and m.date == "2025-07-25" and m.doc_title == doc.meta.title
        )
        assert m.text == doc.text[m.start : m.end] and m.text.strip() == m.text and len(m.text) > 100
        assert m.heading not in m.text, "the body, not the heading"
        assert m.chunk_ids and all(bot.snapshot().chunks[c].source == PLAN for c in m.chunk_ids)
        assert m.title == m.heading.split("、", 1)[1]
    ip = by_heading(catalogue, PLAN, "14、健全知识产权服务体系")
    assert ip.text.startswith("通过长宁区知识产权公共服务窗口") and ip.text.endswith("运作过程之中。")


def test_reply_measures_include_sections_sub_items_and_run_in_items(catalogue: Catalogue, bot) -> None:
    reply = [m for m in catalogue.measures if m.source == REPLY]
    sections = [m.section for m in reply]
    assert sections == [
        "一、完善政策支撑体系",
        "二、创新成果转化模式 > （一）中科新微“集成电路应用创新概念验证中心”",
        "二、创新成果转化模式 > （二）东华大学国家大学科技园技术转移中心",
        "三、拓展数字应用场景",
        "四、优化人才服务体系 > 在人才引进方面",
        "四、优化人才服务体系 > 在人才培育方面",
        "五、构建创新生态系统",
        "六、强化金融服务功能",
        "七、下一步工作思考 > （一）优化服务功能，打通科创全链条",
        "七、下一步工作思考 > （二）打响科创品牌，打造特色科创街区",
        "七、下一步工作思考 > （三）凝聚科创力量，构建创新生态",
    ]
    doc = bot.snapshot().documents[REPLY]
    intake = by_heading(catalogue, REPLY, "在人才引进方面")
    assert intake.title == "优化人才服务体系 · 人才引进"
    assert intake.text.startswith("在人才引进方面，一是用好户籍政策") and "在人才培育方面" not in intake.text
    assert doc.text[intake.start : intake.end] == intake.text
    for m in reply:
        assert m.doc_number == "长科委〔2025〕6号" and m.date == "2025-04-17"
        assert m.contacts == ["王建涛 22050980"], "the reply states its contact person"


def test_goals_safeguards_headers_and_footers_are_not_measures(catalogue: Catalogue) -> None:
    sections = " | ".join(m.section for m in catalogue.measures)
    for absent in ("一、发展方向", "三、保障措施", "文件头", "落款", "关于印发", "二、创新成果转化模式 |"):
        assert absent not in sections + " |"


def test_kinds_targets_conditions_and_bodies(catalogue: Catalogue) -> None:
    ip = by_heading(catalogue, PLAN, "14、健全知识产权服务体系")
    assert ip.kinds[0] == "知识产权" and "国际化/出海" in ip.kinds
    assert ip.bodies == ["长宁区知识产权公共服务窗口", "长宁区知识产权海外维权援助工作站"]

    finance = by_heading(catalogue, PLAN, "12、提升科技金融服务能力")
    assert finance.kinds[0] == "融资/信贷" and finance.kind_strength["融资/信贷"] == 1.0
    assert finance.conditions == ["符合重点产业发展方向的中小微企业"]
    assert "长宁区科技金融服务站" in finance.bodies and "中小微企业" in finance.targets.entity_types

    leaders = by_heading(catalogue, PLAN, "8、重点培育领军企业")
    assert {"高新技术企业", "科技型中小企业", "专精特新", "外资研发中心"} <= set(
        leaders.targets.qualifications
    )
    assert leaders.kinds[0] == "资质认定"

    talent = by_heading(catalogue, PLAN, "15、优化国际化人才创新创业服务")
    assert {"人才引进", "落户/居留", "政务服务"} <= set(talent.kinds)
    assert "海外人才" in talent.targets.groups and talent.conditions == ["高端人才"]

    scenes = by_heading(catalogue, REPLY, "三、拓展数字应用场景")
    assert scenes.kinds == ["应用场景"] and scenes.conditions == ["区内人工智能企业"]
    assert "人工智能" in scenes.targets.industries

    training = by_heading(catalogue, REPLY, "在人才培育方面")
    assert training.kinds[0] == "人才培育" and "博士后" in training.targets.groups
    assert training.conditions == ["本区企业和区属事业单位", "本区企事业单位"]

    lowair = by_heading(catalogue, PLAN, "10、优化园区空间布局")
    assert "低空经济/航空航天" in lowair.targets.industries and lowair.kinds[0] == "场地/载体"


def test_ids_are_stable_and_the_catalogue_is_saved_with_the_generation(catalogue: Catalogue, bot) -> None:
    snap = bot.snapshot()
    taxonomy = load_taxonomy(bot.settings)
    rebuilt = build_catalogue(snap.documents, list(snap.chunks.values()), taxonomy, snap.generation)
    assert [m.model_dump() for m in rebuilt.measures] == [m.model_dump() for m in catalogue.measures]
    assert len({m.id for m in catalogue.measures}) == len(catalogue.measures)
    assert get_catalogue(bot) is catalogue, "served from memory"
    saved = bot.settings.data_dir / GENERATIONS / snap.generation / CACHE_FILE
    lines = saved.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["generation"] == snap.generation and header["taxonomy"] == taxonomy.fingerprint
    assert header["count"] == len(catalogue.measures) == len(lines) - 1
    rows = [json.loads(line) for line in lines[1:]]
    assert [r["id"] for r in rows] == [m.id for m in catalogue.measures]
    assert all("text" not in r for r in rows), "a measure's text is cut from its document when read"


def test_filters(bot, catalogue: Catalogue) -> None:
    assert [m.heading for m in list_measures(bot, kind="知识产权")] == ["14、健全知识产权服务体系"]
    financing = {m.heading for m in list_measures(bot, kind="融资")}  # one part of "融资/信贷" works too
    assert {"12、提升科技金融服务能力", "六、强化金融服务功能"} <= financing
    assert all(m.source == REPLY for m in list_measures(bot, source=REPLY))
    assert [m.heading for m in list_measures(bot, q="博士后 工作站")] == ["在人才培育方面"]
    assert list_measures(bot, source="nope.md") == []
    assert len(list_measures(bot)) == len(catalogue.measures) == 26
    with pytest.raises(InputError) as exc:
        list_measures(bot, kind="免税")
    assert "未知的支持类型" in exc.value.message and "知识产权" in exc.value.hint
