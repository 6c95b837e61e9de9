"""Profile inference from free text, and condition statuses (满足 / 不满足 / 需确认)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.errors import InputError
from assistant.match.conditions import evaluate_condition, extract_conditions
from assistant.match.profile import ProfileInput, understand
from assistant.match.taxonomy import Taxonomy, load_taxonomy
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def tax(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    return load_taxonomy(make_settings(tmp_path_factory.mktemp("tax")))


def read(tax: Taxonomy, **fields):
    return understand(ProfileInput(**fields), tax)


# ---- profile ------------------------------------------------------------------------------------------
def test_issue_example_is_understood_from_free_text_alone(tax: Taxonomy) -> None:
    p = read(tax, description="我们是一家做工业软件的成长期企业，想申请贷款，也担心海外专利纠纷")
    assert p.industries == ["软件/信息技术"]
    assert p.stage == "成长"
    assert p.needs == ["融资/信贷", "知识产权", "国际化/出海"]
    assert p.explicit_needs == []
    assert p.inferred == {
        "industries": ["软件/信息技术"],
        "needs": ["融资/信贷", "知识产权", "国际化/出海"],
        "stage": ["成长"],
    }
    assert p.evidence["needs"]["融资/信贷"] == ["贷款"] and p.evidence["industries"]["软件/信息技术"] == [
        "工业软件"
    ]


def test_stated_fields_are_resolved_and_win_over_inference(tax: Taxonomy) -> None:
    p = read(
        tax,
        industry="软件",
        needs=["融资", "人才引进", "算力券"],
        stage="成长期",
        size="50人",
        location="上海市长宁区",
        qualifications=["高企"],
    )
    assert p.industries == ["软件/信息技术"] and p.needs == ["融资/信贷", "人才引进"]
    assert p.explicit_needs == p.needs and p.other_needs == ["算力券"], (
        "unknown needs are kept as search words"
    )
    assert (p.stage, p.employees, p.size_class, p.in_district) == ("成长", 50, "小型", True)
    assert p.qualifications == ["高新技术企业"] and p.inferred == {}
    assert "算力券" in p.search_text() and "融资 信贷" in p.search_text()

    assert read(tax, needs="融资/信贷，知识产权").needs == ["融资/信贷", "知识产权"], (
        "a comma-separated string works"
    )
    assert read(tax, industry="AI", size=500).size_class == "大型"
    assert read(tax, industry="AI", size="小微").size_class == "小型"
    assert read(tax, industry="AI", location="浦东新区").in_district is False


def test_inference_skips_negations_plans_and_what_the_company_is(tax: Taxonomy) -> None:
    p = read(tax, description="暂不需要贷款，想引进海外高层次人才")
    assert p.needs == ["人才引进"] and p.groups == ["海外人才", "高层次人才"]

    p = read(tax, description="科技型中小企业，计划申报高新技术企业和专精特新")
    assert p.qualifications == ["科技型中小企业"], "what it plans to become is not a qualification it holds"
    assert "资质认定" in p.needs

    p = read(tax, description="外资研发中心，需要为外籍专家办理工作许可")
    assert p.qualifications == ["外资研发中心"]
    assert "研发创新" not in p.needs, "the words naming the company are not a need"
    assert {"人才引进", "落户/居留"} <= set(p.needs)

    p = read(tax, description="位于虹桥的直播电商企业，30人，想在长宁设立总部")
    assert (p.location, p.in_district, p.employees, p.size_class) == ("虹桥", True, 30, "小型")
    p = read(tax, description="想在长宁设立总部的低空经济企业")
    assert p.location is None and p.in_district is None, "where it wants to go is not where it is"
    assert p.industries == ["低空经济/航空航天"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "请至少填写企业描述"),
        ({"stage": "成长", "size": 20}, "请至少填写企业描述"),
        ({"description": "   "}, "请至少填写企业描述"),
        ({"description": "做软件的", "stage": "壮年"}, "无法识别发展阶段"),
        ({"description": "做软件的", "size": "很多人"}, "无法识别企业规模"),
        ({"description": "做软件的", "qualifications": ["五星企业"]}, "无法识别资质"),
    ],
)
def test_unusable_profiles_are_input_errors(tax: Taxonomy, fields: dict, message: str) -> None:
    with pytest.raises(InputError) as exc:
        read(tax, **fields)
    assert message in exc.value.message and exc.value.status_code == 422


def test_profile_input_validation() -> None:
    with pytest.raises(ValidationError):
        ProfileInput(description="x" * 2001)
    with pytest.raises(ValidationError):
        ProfileInput.model_validate({"description": "做软件", "unknown_field": 1})


# ---- conditions ---------------------------------------------------------------------------------------
def test_conditions_are_verbatim_phrases(tax: Taxonomy) -> None:
    text = (
        "依托长宁区科技金融服务站，整合银行业金融机构，扩大创新创业专项信贷产品的规模，支持符合重点产业发展方向的中小微企业。"
        "对不符合上述人才引进条件，又是企业紧缺急需的人才，纳入特殊人才引进保障机制。"
        "支持本区企业和区属事业单位申报设立博士后科研工作站。为高端人才提供出入境便利服务。"
    )
    found = extract_conditions(text, tax)
    assert found == [
        "符合重点产业发展方向的中小微企业",
        "不符合上述人才引进条件，又是企业紧缺急需的人才",
        "本区企业和区属事业单位",
        "高端人才",
    ]
    assert all(c in text for c in found)
    assert extract_conditions("构建金融服务生态圈。", tax) == []


def status(tax: Taxonomy, condition: str, **fields) -> str:
    profile = read(tax, **fields)
    return evaluate_condition(condition, profile.facts(tax), tax).status


def test_condition_statuses(tax: Taxonomy) -> None:
    cond = "符合重点产业发展方向的中小微企业"
    assert status(tax, cond, industry="软件", size=50) == "满足"
    assert status(tax, cond, industry="软件", size=800) == "不满足"
    assert status(tax, cond, industry="软件") == "需确认", "size unknown"
    assert status(tax, cond, industry="生物医药", size=50) == "需确认", (
        "not a listed key industry: a person decides"
    )
    result = evaluate_condition(cond, read(tax, industry="软件", size=800).facts(tax), tax)
    assert "大型" in result.reason and "中小微企业" in result.reason
    assert [c.status for c in result.checks] == ["不满足", "满足"]

    local = "区内人工智能企业"
    assert status(tax, local, industry="人工智能", location="长宁区天山路") == "满足"
    assert status(tax, local, industry="人工智能", location="徐汇区") == "不满足"
    assert status(tax, local, industry="生物医药", location="长宁区") == "不满足"
    assert status(tax, local, industry="人工智能") == "需确认"

    vague = "不符合上述人才引进条件，又是企业紧缺急需的人才"
    assert status(tax, vague, description="急需引进紧缺人才") == "需确认"
    reason = evaluate_condition(vague, read(tax, industry="软件").facts(tax), tax).reason
    assert "紧缺急需" in reason

    assert status(tax, "高端人才", description="想引进海外高层次人才") == "满足"
    assert status(tax, "高端人才", description="想招聘主播等技能人才") == "需确认"
    assert status(tax, "某某条件", industry="软件") == "需确认"


def test_custom_condition_checks_come_from_the_taxonomy(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(
        "kinds:\n  - name: 资金\n    keywords: [补贴]\n"
        "stages:\n  - name: 初创\n    keywords: [初创]\n  - name: 成熟\n    keywords: [成熟]\n"
        "conditions:\n  checks:\n    - name: 初创企业\n      words: [初创企业]\n      facet: stage\n"
        "      satisfied_by: [初创]\n      otherwise: 不满足\n",
        encoding="utf-8",
    )
    tax = load_taxonomy(make_settings(tmp_path, taxonomy_path=str(path)))
    assert status(tax, "成立三年内的初创企业", needs=["资金"], stage="初创") == "满足"
    assert status(tax, "成立三年内的初创企业", needs=["资金"], stage="成熟") == "不满足"
    assert status(tax, "成立三年内的初创企业", needs=["资金"]) == "需确认"
