"""OpenAI compatibility: the official ``openai`` client talks to our /v1/chat/completions over real HTTP,
and citations survive both in the content and in a ``citations`` field."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.api.conftest import sse_events
from tests.conftest import PLAN

Q = "“虹桥人才荟”是做什么的？"
PLAN_NUMBER = "长科委〔2025〕13号"

pytestmark = pytest.mark.slow


@pytest.fixture
def client(base_url) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="any-string", max_retries=0, timeout=60)


def test_non_stream_has_reference_list_and_citations(client, bot):
    completion = client.chat.completions.create(
        model="policy-assistant", messages=[{"role": "system", "content": "你是助手"}, {"role": "user", "content": Q}]
    )
    content = completion.choices[0].message.content
    expected = bot.ask(Q)
    assert completion.choices[0].finish_reason == "stop"
    assert content.startswith(expected.answer)
    assert "\n\n参考来源：\n[1] 《" in content and PLAN_NUMBER in content
    for c in expected.citations:
        assert f"[{c.n}] 《{c.title}》" in content and f"“{c.quote}”" in content
    extra = completion.model_extra
    assert [c["quote"] for c in extra["citations"]] == [c.quote for c in expected.citations]
    assert extra["citations"][0]["source"] == PLAN and extra["grounded"] is True and extra["answer_id"]
    assert completion.usage.total_tokens > 0


def test_stream_yields_chunks_and_citations_in_the_last_one(client):
    chunks = list(
        client.chat.completions.create(
            model="policy-assistant", messages=[{"role": "user", "content": Q}], stream=True
        )
    )
    assert len(chunks) >= 3 and all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "虹桥人才荟" in text and "参考来源：" in text and PLAN_NUMBER in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"][0]["doc_number"] == PLAN_NUMBER
    assert len({c.id for c in chunks}) == 1


def test_prior_user_messages_are_the_history(client):
    completion = client.chat.completions.create(
        model="policy-assistant",
        messages=[
            {"role": "user", "content": Q},
            {"role": "assistant", "content": "围绕“虹桥人才荟”服务品牌建设……[1]"},
            {"role": "user", "content": [{"type": "text", "text": "它的文号是？"}]},
        ],
    )
    content = completion.choices[0].message.content
    assert content.split("\n\n参考来源")[0].count(PLAN_NUMBER) >= 1
    assert completion.model_extra["grounded"] is True


def test_stream_wire_format_ends_with_done(base_url):
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": Q}]}
    with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=body, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.iter_lines())
    assert events[-1] == ("message", "[DONE]")
    assert all(name == "message" for name, _ in events)


def test_unanswerable_question_says_so_without_citations(client):
    completion = client.chat.completions.create(
        model="policy-assistant", messages=[{"role": "user", "content": "今天上海的天气怎么样？"}]
    )
    assert completion.model_extra["grounded"] is False and completion.model_extra["citations"] == []
    assert "参考来源" not in completion.choices[0].message.content
    assert "没有找到" in completion.choices[0].message.content


def test_errors_reach_the_client_as_4xx(client):
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.chat.completions.create(
            model="policy-assistant", messages=[{"role": "user", "content": Q}, {"role": "assistant", "content": "x"}]
        )
    assert "最后一条消息" in info.value.response.json()["detail"]
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model="policy-assistant", messages=[{"role": "user", "content": "  "}])


def test_models_list(client):
    assert [m.id for m in client.models.list()] == ["policy-assistant"]
