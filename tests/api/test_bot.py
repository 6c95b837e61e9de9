"""Generic bot webhook ``POST /v1/bot/message`` over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from assistant.channels.formatting import utf8_len

pytestmark = pytest.mark.slow  # real HTTP servers over the session index

QUESTION = "长宁园管理专班由哪个部门牵头组建？"


def ask(base: str, **body: Any) -> httpx.Response:
    return httpx.post(base + "/v1/bot/message", json=body, timeout=30)


def test_reply_text_answers_and_cites(make_app, live_server) -> None:
    base = live_server(make_app())
    response = ask(base, user_id="u-1", text=QUESTION, channel="dingtalk")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"reply_text", "citations", "grounded"}
    assert data["grounded"] is True
    text = data["reply_text"]
    assert text.index("长宁区科委") < text.index("\n【1】《")  # answer first, then citation lines
    assert "长科委〔2025〕13号" in text and "[1]" not in text and utf8_len(text) <= 2048
    [first, *_] = data["citations"]
    assert first["n"] == 1 and first["doc_number"] == "长科委〔2025〕13号" and "长宁区科委" in first["quote"]


def test_unanswerable_question_is_not_grounded(make_app, live_server) -> None:
    data = ask(live_server(make_app()), user_id="u-2", text="明天上海的天气怎么样？").json()
    assert data["grounded"] is False and data["citations"] == [] and "【1】" not in data["reply_text"]


def test_per_user_rate_limit_is_429_with_a_polite_message(make_app, live_server) -> None:
    if time.time() % 60 > 55:  # stay inside one fixed one-minute window
        time.sleep(61 - time.time() % 60)
    base = live_server(make_app(wechat_user_rate_per_minute=2))
    assert [ask(base, user_id="u-3", text=QUESTION).status_code for _ in range(2)] == [200, 200]
    limited = ask(base, user_id="u-3", text=QUESTION)
    assert limited.status_code == 429
    assert "每分钟最多" in limited.json()["detail"] and int(limited.headers["Retry-After"]) >= 1
    assert ask(base, user_id="u-4", text=QUESTION).status_code == 200  # other users are not affected
    assert ask(base, user_id="u-3", text=QUESTION, channel="feishu").status_code == 200  # nor other channels


def test_bad_input_is_422(make_app, live_server) -> None:
    base = live_server(make_app())
    assert ask(base, user_id="u-5", text="   ").status_code == 422
    assert ask(base, text=QUESTION).status_code == 422
    assert ask(base, user_id="u-5", text=QUESTION, channel="has space").status_code == 422
    too_long = ask(base, user_id="u-5", text="长" * 5000)
    assert too_long.status_code == 422 and "过长" in too_long.json()["detail"]


def test_follow_ups_get_this_users_earlier_questions(make_app, live_server, bot) -> None:
    seen: list[tuple[str, list[str]]] = []

    def answer_fn(question: str, history: list[str]) -> Any:
        seen.append((question, list(history)))
        return bot.ask(question, history=history)

    app = make_app()
    app.state.answer_fn = answer_fn
    base = live_server(app)
    ask(base, user_id="u-6", text="张江高新区长宁园行动方案有哪些保障措施？")
    follow_up = ask(base, user_id="u-6", text="第三项具体要做哪些工作？").json()
    ask(base, user_id="u-7", text="第三项具体要做哪些工作？")
    assert seen[1] == ("第三项具体要做哪些工作？", ["张江高新区长宁园行动方案有哪些保障措施？"])
    assert seen[2] == ("第三项具体要做哪些工作？", [])  # another user starts fresh
    assert "统计指标体系" in follow_up["reply_text"]
