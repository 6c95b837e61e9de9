"""Matching profiles against the shipped corpus: ranking, reasons, condition statuses, verbatim citations; and
the gold profiles' precision@5 / recall@5."""

from __future__ import annotations

import json

import pytest

from assistant.errors import InputError
from assistant.match.catalogue import get_catalogue
from assistant.match.evaluation import DEFAULT_PATH, check_refs, evaluate_profiles, load_profiles
from assistant.match.matcher import MatchResponse, match
from assistant.match.profile import ProfileInput
from tests.conftest import PLAN, REPLY


def run(bot, top_k: int = 5, **fields) -> MatchResponse:
    return match(bot, ProfileInput(**fields), top_k=top_k)


def sections(response: MatchResponse) -> list[str]:
    return [r.section.split(" > ")[-1] for r in response.results]


def check_grounded(bot, response: MatchResponse) -> None:
    """Every result is a catalogue measure and every quote a verbatim substring of its document."""
    snap = bot.snapshot()
    catalogue = {m.id: m for m in get_catalogue(bot).measures}
    scores = [r.score for r in response.results]
    assert scores == sorted(scores, reverse=True), "best first"
    for r in response.results:
        m = catalogue[r.measure_id]
        assert (r.title, r.section, r.source) == (m.title, m.section, m.source)
        assert r.reasons and r.citations
        for c in r.citations:
            doc = snap.documents[c.source]
            assert c.quote in doc.text and c.quote in m.text
            assert (c.title, c.doc_number, c.section) == (doc.meta.title, doc.meta.doc_number, m.section)
        assert [c.text for c in r.conditions] == m.conditions
        assert all(c.status in ("满足", "不满足", "需确认") for c in r.conditions)


def test_issue_example_free_text(bot) -> None:
    response = run(bot, description="我们是一家做工业软件的成长期企业，想申请贷款，也担心海外专利纠纷")
    check_grounded(bot, response)
    got = sections(response)
    assert got[0] == "14、健全知识产权服务体系"
    assert {"12、提升科技金融服务能力", "六、强化金融服务功能"} <= set(got[:4])
    ip = response.results[0]
    assert any("知识产权" in reason and "海外维权" in reason for reason in ip.reasons)
    assert any("海外知识产权纠纷" in c.quote for c in ip.citations), "the sentence that matched is quoted"
    finance = next(r for r in response.results if r.section.endswith("12、提升科技金融服务能力"))
    [cond] = finance.conditions
    assert cond.text == "符合重点产业发展方向的中小微企业" and cond.status == "需确认", "size unknown"
    detail = {d.facet for d in finance.reason_details}
    assert "需求" in detail and "检索" in detail


def test_structured_profile_and_condition_met(bot) -> None:
    response = run(bot, industry="软件", needs=["融资/信贷"], size="50人", location="长宁区")
    check_grounded(bot, response)
    assert sections(response)[:2] == ["12、提升科技金融服务能力", "六、强化金融服务功能"]
    [cond] = response.results[0].conditions
    assert cond.status == "满足" and "小型" in cond.reason


def test_failed_condition_demotes_the_measure(bot) -> None:
    small = run(bot, top_k=10, description="互联网平台企业，想申请专项信贷产品", size=80)
    large = run(bot, top_k=10, description="互联网平台企业，想申请专项信贷产品", size=3000)
    key = "12、提升科技金融服务能力"
    small_hit = next(r for r in small.results if r.section.endswith(key))
    large_hit = next(r for r in large.results if r.section.endswith(key))
    assert small_hit.conditions[0].status == "满足"
    assert large_hit.conditions[0].status == "不满足"
    assert large_hit.score < small_hit.score
    assert any("不满足" in reason for reason in large_hit.reasons)
    assert sections(small).index(key) == 0 and sections(large).index(key) > 0

    outside = run(bot, description="人工智能企业，想参与试点场景", location="徐汇区")
    scenes = next(r for r in outside.results if r.section == "三、拓展数字应用场景")
    assert scenes.conditions[0].status == "不满足" and "徐汇区" in scenes.conditions[0].reason


def test_narrow_profile_gets_few_results_and_top_k_caps(bot) -> None:
    ip = run(bot, description="想在海外布局专利，同时需要知识产权维权援助", needs=["知识产权"])
    assert sections(ip) == ["14、健全知识产权服务体系"], "no padding with weak results"
    wide = run(bot, top_k=2, description="初创团队，想入驻孵化器，做概念验证和成果转化")
    assert len(wide.results) == 2
    with pytest.raises(InputError):
        run(bot, top_k=0, description="做软件的")
    with pytest.raises(InputError):
        run(bot, top_k=21, description="做软件的")
    with pytest.raises(InputError):
        run(bot, stage="成长")


def test_talent_and_qualification_profiles(bot) -> None:
    talent = run(
        bot, description="我们想从海外引进高层次人才，还要帮外籍专家办理工作许可", needs=["人才引进"]
    )
    check_grounded(bot, talent)
    assert sections(talent)[0] == "15、优化国际化人才创新创业服务"
    assert "在人才引进方面" in sections(talent)
    [high_end] = talent.results[0].conditions
    assert high_end.text == "高端人才" and high_end.status == "满足"

    quals = run(
        bot, description="科技型中小企业，计划申报高新技术企业和专精特新", qualifications=["科技型中小企业"]
    )
    assert sections(quals)[0] == "8、重点培育领军企业"
    assert any(r.startswith("资质「科技型中小企业」") for r in quals.results[0].reasons)


def test_results_serialise_to_the_api_contract(bot) -> None:
    data = run(bot, description="直播电商企业，想招聘和培养主播等技能人才").model_dump()
    assert set(data) == {"profile", "results"}
    for r in data["results"]:
        assert {"measure_id", "title", "score", "reasons", "conditions", "citations"} <= set(r)
        assert all(set(c) >= {"text", "status"} for c in r["conditions"])
        assert all(set(c) >= {"source", "title", "doc_number", "section", "quote"} for c in r["citations"])
        assert {c["source"] for c in r["citations"]} <= {PLAN, REPLY}


def test_gold_profiles_resolve_and_meet_the_targets(bot) -> None:
    rows = load_profiles()
    assert len(rows) >= 15
    check_refs(rows, get_catalogue(bot))
    result = evaluate_profiles(bot, DEFAULT_PATH)
    assert result.n_profiles == len(rows) and result.k == 5
    assert result.precision_at_5 >= 0.8, result.per_profile
    assert result.recall_at_5 >= 0.8, result.per_profile
    assert all(len(p.returned) <= 5 for p in result.per_profile)
    assert "precision@5" in result.definition


def test_gold_rows_with_unknown_refs_are_rejected(bot, tmp_path) -> None:
    path = tmp_path / "profiles.jsonl"
    row = {
        "id": "x1",
        "profile": {"description": "做软件"},
        "expected": [{"source": PLAN, "section": "16、不存在的任务"}],
    }
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        evaluate_profiles(bot, path)
    assert "x1" in exc.value.message and "16、不存在的任务" in exc.value.message
    path.write_text('{"id": "x2", "profile": {"description": "做软件"}, "expected": []}\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_profiles(path)
    assert "第 1 行" in exc.value.message
