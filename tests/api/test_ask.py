"""POST /v1/ask and /v1/ask/stream over real HTTP: same JSON as the CLI, SSE protocol, multi-turn sessions,
input errors."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from api.routes.ask import segments
from tests.api.conftest import sse_events
from tests.conftest import PLAN, REPLY

Q = "“虹桥人才荟”是做什么的？"
PLAN_NUMBER = "长科委〔2025〕13号"

pytestmark = pytest.mark.slow


def ask(base: str, **body) -> httpx.Response:
    return httpx.post(f"{base}/v1/ask", json=body, timeout=60)


def stream(base: str, **body) -> tuple[httpx.Response, list[tuple[str, object]]]:
    with httpx.stream("POST", f"{base}/v1/ask/stream", json=body, timeout=60) as r:
        if r.status_code != 200:
            r.read()
            return r, []
        return r, sse_events(r.iter_lines())


def test_ask_returns_the_cli_json_plus_ids(base_url, bot):
    r = ask(base_url, question=Q)
    assert r.status_code == 200, r.text
    got = r.json()
    cli = bot.ask(Q).model_dump(exclude_none=True)  # what `assistant ask --json` prints
    assert set(got) == set(cli) | {"answer_id", "session_id"}
    for key in ("question", "answer", "grounded", "citations", "contexts"):
        assert got[key] == cli[key], key
    assert set(got["timings_ms"]) == {"retrieve", "answer", "total"}
    assert re.fullmatch(r"[0-9a-f]{32}", got["answer_id"]) and got["session_id"]
    assert got["grounded"] and any(c["doc_number"] == PLAN_NUMBER for c in got["citations"])


def test_stream_sends_meta_deltas_then_done(base_url):
    r, events = stream(base_url, question=Q, session_id="stream-1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    names = [e for e, _ in events]
    assert names[0] == "meta" and names[-1] == "done" and set(names[1:-1]) == {"delta"}, names
    assert len(names) >= 3
    meta, done = events[0][1], events[-1][1]
    assert meta["session_id"] == "stream-1" == done["session_id"] and meta["answer_id"] == done["answer_id"]
    text = "".join(d["text"] for e, d in events if e == "delta")
    assert text == done["answer"] and "虹桥人才荟" in text
    assert done["grounded"] and done["citations"] and done["contexts"]
    assert {"retrieve", "answer", "total"} <= set(done["timings_ms"])
    # the final event is the same object /v1/ask returns
    plain = ask(base_url, question=Q).json()
    assert {k for k in plain if k != "standalone_question"} == {k for k in done if k != "standalone_question"}


def test_follow_up_is_rewritten_within_a_session(base_url):
    first = ask(base_url, question=Q).json()
    sid = first["session_id"]
    assert "standalone_question" not in first
    follow = ask(base_url, question="它的文号是？", session_id=sid).json()
    assert "虹桥人才荟" in follow["standalone_question"]
    assert PLAN_NUMBER in follow["answer"] and follow["grounded"]
    assert follow["session_id"] == sid
    # the same follow-up without the session has nothing to resolve "它" against
    alone = ask(base_url, question="它的文号是？").json()
    assert "standalone_question" not in alone


def test_follow_up_in_the_stream_reports_the_rewrite(base_url):
    stream(base_url, question="行动方案有哪些重点任务？", session_id="s-enum")
    _, events = stream(base_url, question="那第二项具体是什么？", session_id="s-enum")
    meta = events[0][1]
    assert "重点任务" in meta["standalone_question"]
    assert events[-1][1]["standalone_question"] == meta["standalone_question"]


def test_sessions_expire(make_app, live_server):
    base = live_server(make_app(session_ttl_s=1))
    sid = ask(base, question=Q).json()["session_id"]
    time.sleep(1.3)
    follow = ask(base, question="它的文号是？", session_id=sid).json()
    assert "standalone_question" not in follow


def test_sessions_keep_at_most_max_turns(make_app, live_server):
    app = make_app(session_max_turns=2)
    base = live_server(app)
    for q in (Q, "行动方案的发展目标是什么？", "数字长宁建设有哪些专项行动？"):
        ask(base, question=q, session_id="bounded")
    kept = app.state.store.get("session", "bounded")["questions"]
    assert kept == ["行动方案的发展目标是什么？", "数字长宁建设有哪些专项行动？"]


def test_filters_restrict_the_sources(base_url):
    got = ask(base_url, question="数字长宁建设有哪些专项行动？", filters={"source": REPLY}, top_k=3).json()
    assert got["contexts"] and {c["source"] for c in got["contexts"]} == {REPLY}
    assert len(got["contexts"]) <= 3
    other = ask(base_url, question=Q, filters={"source": [PLAN]}).json()
    assert {c["source"] for c in other["contexts"]} == {PLAN}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"question": "   "}, "问题不能为空"),
        ({"question": "长" * 30}, "问题过长"),
        ({"question": Q, "session_id": "../../etc"}, "session_id"),
        ({"question": Q, "top_k": 0}, "top_k"),
        ({"question": Q, "filters": {"title": "x"}}, "filters"),
        ({"query": Q}, "question"),
    ],
)
def test_bad_input_is_a_422_with_a_chinese_message(make_app, live_server, body, fragment):
    base = live_server(make_app(max_question_chars=20))
    for path in ("/v1/ask", "/v1/ask/stream"):
        r = httpx.post(f"{base}{path}", json=body, timeout=30)
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/json")
        detail = r.json()["detail"]
        assert fragment in detail and re.search(r"[\u4e00-\u9fff]", detail), detail


def test_malformed_json_is_a_422_not_a_500(base_url):
    r = httpx.post(f"{base_url}/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "请求参数有误" in r.json()["detail"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "短句。[1]",
        "围绕“虹桥人才荟”服务品牌建设，充分运用梯度化人才引进政策和特殊人才引进政策，吸引集聚一批行业领军人才和创新团队。[1]",
        "第一句。[1][2]第二句！\n\n第三句没有句号",
        "抱歉，现有政策文件中没有找到。\n最接近的文件：《甲》（长科委〔2025〕6号）。\n建议换个问法。",
    ],
)
def test_segments_cover_the_answer_exactly(text):
    parts = segments(text)
    assert "".join(parts) == text
    assert all(parts) and all(not re.match(r"^\[\d+\]", p) for p in parts)  # markers stay with their sentence
    if len(text) > 60:
        assert len(parts) > 1
