"""OpenAI-compatible ``POST /v1/chat/completions`` (and ``GET /v1/models``) so any OpenAI-style chat front end
can use the assistant.

The last user message is the question, the earlier user messages are the conversation history (follow-ups
are rewritten from them). Citations survive: the message content ends with a numbered「参考来源」list, and
the response (the final chunk when streaming) carries them in a top-level ``citations`` field.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.deps import AssistantDep, SettingsDep, StoreDep
from api.routes.ask import answer_question, segments
from api.schemas import (
    ChatChoice,
    ChatChoiceMessage,
    ChatCompletion,
    ChatCompletionRequest,
    ChatUsage,
)
from assistant.errors import InputError
from assistant.types import Citation

router = APIRouter(tags=["OpenAI 兼容"])

MODEL_ID = "policy-assistant"


def references(citations: list[Citation]) -> str:
    """'\\n\\n参考来源：\\n[1] 《title》 文号 · 日期 · 章节：“quote”' (empty without citations)."""
    if not citations:
        return ""
    lines = []
    for c in citations:
        meta = " · ".join(x for x in (c.doc_number, c.date, c.section) if x)
        lines.append(f"[{c.n}] 《{c.title}》{' ' + meta if meta else ''}：“{c.quote}”")
    return "\n\n参考来源：\n" + "\n".join(lines)


def split_conversation(body: ChatCompletionRequest) -> tuple[str, list[str]]:
    """(question, history): the last message must be the user's; earlier user messages are the history."""
    last = body.messages[-1]
    if last.role != "user":
        raise InputError("最后一条消息必须是用户（role=user）的提问", "请把要问的问题作为最后一条 user 消息发送。")
    history = [m.text().strip() for m in body.messages[:-1] if m.role == "user" and m.text().strip()]
    return last.text(), history


CHAT_BODY = Body(
    openapi_examples={
        "single": {
            "summary": "单轮",
            "value": {"model": MODEL_ID, "messages": [{"role": "user", "content": "“虹桥人才荟”是做什么的？"}]},
        },
        "follow_up_stream": {
            "summary": "多轮 + 流式",
            "value": {
                "model": MODEL_ID,
                "stream": True,
                "messages": [
                    {"role": "user", "content": "“虹桥人才荟”是做什么的？"},
                    {"role": "assistant", "content": "围绕“虹桥人才荟”服务品牌建设……"},
                    {"role": "user", "content": "它的文号是？"},
                ],
            },
        },
    }
)


@router.get("/v1/models", summary="模型列表（OpenAI 兼容）")
def models() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "policy-assistant"}]}


@router.post(
    "/v1/chat/completions",
    summary="OpenAI 兼容的对话接口（支持 stream）",
    response_model=ChatCompletion,
    responses={200: {"content": {"text/event-stream": {}}, "description": "stream=true 时为 chat.completion.chunk 流"}},
)
async def chat_completions(
    request: Request,
    settings: SettingsDep,
    assistant: AssistantDep,
    store: StoreDep,
    body: ChatCompletionRequest = CHAT_BODY,
) -> Any:
    """最后一条 user 消息是问题，之前的 user 消息是多轮上下文。回答正文末尾附「参考来源」编号列表，
    响应另有顶层 `citations` 字段（流式时在最后一个 chunk 中）。"""
    question, history = split_conversation(body)
    result = await run_in_threadpool(
        answer_question, app=request.app, settings=settings, assistant=assistant, store=store,
        question=question, history=history, top_k=body.top_k, endpoint="chat",
    )
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    model = body.model or MODEL_ID
    refs = references(result.citations)
    content = result.answer + refs
    prompt_chars = sum(len(m.text()) for m in body.messages)
    usage = ChatUsage(prompt_tokens=prompt_chars, completion_tokens=len(content), total_tokens=prompt_chars + len(content))
    citations = [c.model_dump() for c in result.citations]

    if not body.stream:
        completion = ChatCompletion(
            id=completion_id, created=created, model=model,
            choices=[ChatChoice(message=ChatChoiceMessage(content=content))],
            usage=usage, citations=result.citations, grounded=result.grounded, answer_id=result.answer_id,
        )
        return JSONResponse(completion.model_dump())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> ServerSentEvent:
        payload = {
            "id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra,
        }
        return ServerSentEvent(data=json.dumps(payload, ensure_ascii=False))

    async def events() -> AsyncIterator[ServerSentEvent]:
        yield chunk({"role": "assistant", "content": ""})
        for piece in segments(result.answer):
            yield chunk({"content": piece})
        if refs:
            yield chunk({"content": refs})
        yield chunk(
            {}, "stop", citations=citations, grounded=result.grounded, answer_id=result.answer_id,
            usage=usage.model_dump(),
        )
        yield ServerSentEvent(data="[DONE]")

    return EventSourceResponse(events(), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
