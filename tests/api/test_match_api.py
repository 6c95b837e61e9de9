"""POST /v1/match and GET /v1/measures over real HTTP (uvicorn on a loopback port)."""

from __future__ import annotations

import httpx
import pytest

from assistant.match.matcher import match
from assistant.match.profile import ProfileInput
from tests.conftest import PLAN, REPLY

pytestmark = pytest.mark.slow

EXAMPLE = "我们是一家做工业软件的成长期企业，想申请贷款，也担心海外专利纠纷"
RESULT_KEYS = {"measure_id", "title", "score", "reasons", "conditions", "citations"}
CITATION_KEYS = {"source", "title", "doc_number", "section", "quote"}


def post(base: str, body: object) -> httpx.Response:
    return httpx.post(f"{base}/v1/match", json=body, timeout=60)


def test_match_contract(base_url: str, bot) -> None:
    r = post(base_url, {"description": EXAMPLE})
    assert r.status_code == 200, r.text
    data = r.json()
    assert set(data) == {"profile", "results"}
    assert data["profile"]["needs"] == ["融资/信贷", "知识产权", "国际化/出海"]
    assert data["profile"]["industries"] == ["软件/信息技术"] and data["profile"]["stage"] == "成长"
    results = data["results"]
    assert 1 <= len(results) <= 5
    assert [x["score"] for x in results] == sorted((x["score"] for x in results), reverse=True)
    snap = bot.snapshot()
    for x in results:
        assert RESULT_KEYS <= set(x) and x["reasons"] and x["citations"]
        for c in x["conditions"]:
            assert set(c) >= {"text", "status"} and c["status"] in ("满足", "不满足", "需确认")
        for c in x["citations"]:
            assert CITATION_KEYS <= set(c) and c["source"] in (PLAN, REPLY)
            assert c["quote"] in snap.documents[c["source"]].text
    assert results[0]["section"].endswith("14、健全知识产权服务体系")
    same = match(bot, ProfileInput(description=EXAMPLE)).model_dump(mode="json")
    assert [x["measure_id"] for x in results] == [x["measure_id"] for x in same["results"]], (
        "API = library = CLI"
    )


def test_match_structured_body_and_top_k(base_url: str) -> None:
    r = post(
        base_url,
        {"needs": ["人才引进"], "description": "想引进海外高层次人才", "location": "长宁区", "top_k": 2},
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert len(data["results"]) == 2
    assert data["results"][0]["title"] == "优化国际化人才创新创业服务"
    assert data["profile"]["explicit_needs"] == ["人才引进"] and data["profile"]["in_district"] is True


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "请至少填写企业描述"),
        ({"stage": "成长", "size": 20}, "请至少填写企业描述"),
        ({"description": "   "}, "请至少填写企业描述"),
        ({"description": "做软件的", "top_k": 50}, "top_k"),
        ({"description": "做软件的", "stage": "壮年"}, "无法识别发展阶段"),
        ({"description": "做软件的", "descripton": "typo"}, "descripton"),
        ({"description": "x" * 2001}, "description"),
        (["not", "an", "object"], "请求参数有误"),
    ],
)
def test_bad_bodies_are_422_with_a_chinese_message(base_url: str, body: object, words: str) -> None:
    r = post(base_url, body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert words in detail
    assert any("\u4e00" <= ch <= "\u9fff" for ch in detail)


def test_measures_catalogue_and_filters(base_url: str) -> None:
    r = httpx.get(f"{base_url}/v1/measures", timeout=30)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["count"] == len(data["measures"]) == 26 and data["generation"]
    plan = [m for m in data["measures"] if m["source"] == PLAN]
    assert [m["heading"].split("、")[0] for m in plan] == [str(i) for i in range(1, 16)]

    ip = httpx.get(f"{base_url}/v1/measures", params={"kind": "知识产权"}, timeout=30).json()
    assert [m["heading"] for m in ip["measures"]] == ["14、健全知识产权服务体系"]
    reply_finance = httpx.get(
        f"{base_url}/v1/measures", params={"kind": "融资/信贷", "source": REPLY}, timeout=30
    ).json()
    assert "六、强化金融服务功能" in [m["heading"] for m in reply_finance["measures"]]
    assert all(m["source"] == REPLY for m in reply_finance["measures"])
    q = httpx.get(f"{base_url}/v1/measures", params={"q": "博士后"}, timeout=30).json()
    assert [m["heading"] for m in q["measures"]] == ["在人才培育方面"]

    one = httpx.get(f"{base_url}/v1/measures/{ip['measures'][0]['id']}", timeout=30)
    assert one.status_code == 200 and one.json()["section"].endswith("14、健全知识产权服务体系")
    missing = httpx.get(f"{base_url}/v1/measures/m000", timeout=30)
    assert missing.status_code == 404 and "没有编号为 m000 的支持措施" in missing.json()["detail"]
    unknown = httpx.get(f"{base_url}/v1/measures", params={"kind": "免税"}, timeout=30)
    assert unknown.status_code == 422 and "未知的支持类型" in unknown.json()["detail"]


def test_taxonomy_for_the_form(base_url: str) -> None:
    r = httpx.get(f"{base_url}/v1/match/taxonomy", timeout=30)
    assert r.status_code == 200
    data = r.json()
    assert "知识产权" in [k["name"] for k in data["kinds"]] and data["kinds"][0]["description"]
    assert [s["name"] for s in data["stages"]] == ["初创", "成长", "成熟"]
    assert "高新技术企业" in [q["name"] for q in data["qualifications"]]
