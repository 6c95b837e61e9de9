"""``POST /v1/ask`` (one JSON answer) and ``POST /v1/ask/stream`` (Server-Sent Events).

Stream protocol (``text/event-stream``), in order:

- ``event: meta``  — ``{"answer_id", "session_id", "question", "standalone_question"?}``
- ``event: delta`` — ``{"text": "…"}``, one per sentence-sized segment; their concatenation is the answer text
- ``event: done``  — the full answer object, exactly as ``POST /v1/ask`` returns it (citations, contexts,
  timings_ms, grounded, answer_id, session_id …)
- ``event: error`` — ``{"detail", "hint"}`` if the stream fails after it started (the last event then)

The answer is computed before the response starts, so bad input, a missing index, etc. still get a proper
4xx/5xx JSON response instead of an error inside a 200 stream.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Body, FastAPI, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api import limits, sessions
from api.deps import AssistantDep, SettingsDep, StoreDep
from api.routes.feedback import answer_record, remember_answer
from api.routes.metrics import observe_answer
from api.schemas import AskRequest, AskResponse, error
from assistant.errors import AssistantError
from assistant.redact import redact
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.store import Store

log = logging.getLogger(__name__)

router = APIRouter(tags=["问答"])

STREAM_EVENTS_DOC = (
    "Server-Sent Events：先 `event: meta`（answer_id、session_id、改写后的问题），再若干 `event: delta`"
    "（`{\"text\": 片段}`，按句切分，拼起来就是完整回答），最后 `event: done`（与 POST /v1/ask 相同的完整 JSON："
    "引用、上下文、耗时）。流开始后若出错，以 `event: error`（`{\"detail\", \"hint\"}`）结束。"
)

_SENTENCE = re.compile(r".*?(?:[。！？；!?;]+|\n+|$)(?:\[\d+\])*", re.S)
_CLAUSE = re.compile(r".*?(?:[，、,：:]|$)", re.S)
MAX_SEGMENT_CHARS = 40


def install(app: FastAPI) -> None:
    """Hook called by ``create_app``: the body-size and rate-limit guards for every /v1 route."""
    limits.install(app)


def segments(text: str) -> list[str]:
    """Split an answer into sentence-sized pieces (long sentences at commas); ``"".join(...) == text``."""
    out: list[str] = []
    for sentence in (m.group(0) for m in _SENTENCE.finditer(text)):
        if not sentence:
            continue
        if len(sentence) <= MAX_SEGMENT_CHARS:
            out.append(sentence)
            continue
        piece = ""
        for clause in (m.group(0) for m in _CLAUSE.finditer(sentence)):
            piece += clause
            if len(piece) >= MAX_SEGMENT_CHARS // 2:
                out.append(piece)
                piece = ""
        if piece:
            out.append(piece)
    return out


def answer_question(
    *,
    app: FastAPI,
    settings: Settings,
    assistant: Assistant,
    store: Store,
    question: str,
    history: list[str] | None = None,
    session_id: str | None = None,
    top_k: int | None = None,
    filters: dict[str, Any] | None = None,
    endpoint: str,
) -> AskResponse:
    """Check → (session history) → ask → remember the turn and the answer → metrics. Used by every Q&A route.

    With ``session_id`` the history comes from (and the question goes to) the session; otherwise ``history``
    is used as given (the OpenAI endpoint sends the whole conversation each time).
    """
    q = limits.check_question(settings, question)
    use_session = history is None
    sid = session_id or sessions.new_session_id()
    previous = sessions.history(store, session_id) if use_session else list(history or [])
    answer = assistant.ask(q, history=previous, top_k=top_k, filters=filters)
    answer_id = uuid.uuid4().hex
    if use_session:  # the turn and the answer in one commit
        sessions.record(store, settings, sid, q, previous, also=[answer_record(answer_id, answer, sid)])
    else:
        remember_answer(store, answer_id, answer, None)
    observe_answer(app, answer, endpoint)
    return AskResponse(**answer.model_dump(), answer_id=answer_id, session_id=sid)


ASK_BODY = Body(
    openapi_examples={
        "single": {"summary": "单个问题", "value": {"question": "“虹桥人才荟”是做什么的？"}},
        "follow_up": {
            "summary": "多轮追问（带上一轮返回的 session_id）",
            "value": {"question": "它的文号是？", "session_id": "3f2c9a1e0b7d4c5e8f6a7b8c9d0e1f2a"},
        },
        "filtered": {
            "summary": "只在某个文件中检索",
            "value": {"question": "数字长宁建设有哪些专项行动？", "top_k": 3,
                      "filters": {"source": "proposal-122-reply-digital-changning-2025.txt"}},
        },
    }
)


@router.post(
    "/v1/ask",
    summary="提问（返回带引用的完整回答）",
    response_model=AskResponse,
    response_model_exclude_none=True,
    responses={422: error("问题为空、过长或参数有误"), 429: error("请求过于频繁")},
)
def ask(
    request: Request, settings: SettingsDep, assistant: AssistantDep, store: StoreDep, body: AskRequest = ASK_BODY
) -> AskResponse:
    """与 `assistant ask --json` 返回同一个 JSON 对象，另加 `answer_id`（用于反馈）和 `session_id`（用于追问）。"""
    return answer_question(
        app=request.app, settings=settings, assistant=assistant, store=store, question=body.question,
        session_id=body.session_id, top_k=body.top_k, filters=body.filters.as_dict() if body.filters else None,
        endpoint="ask",
    )


def sse(event: str, data: Any) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data, ensure_ascii=False), event=event)


@router.post(
    "/v1/ask/stream",
    summary="提问（SSE 流式返回）",
    description=STREAM_EVENTS_DOC,
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": STREAM_EVENTS_DOC}},
)
async def ask_stream(
    request: Request, settings: SettingsDep, assistant: AssistantDep, store: StoreDep, body: AskRequest = ASK_BODY
) -> EventSourceResponse:
    result = await run_in_threadpool(
        answer_question, app=request.app, settings=settings, assistant=assistant, store=store,
        question=body.question, session_id=body.session_id, top_k=body.top_k,
        filters=body.filters.as_dict() if body.filters else None, endpoint="ask_stream",
    )

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            meta = {"answer_id": result.answer_id, "session_id": result.session_id, "question": result.question}
            if result.standalone_question:
                meta["standalone_question"] = result.standalone_question
            yield sse("meta", meta)
            for piece in segments(result.answer):
                yield sse("delta", {"text": piece})
            yield sse("done", result.model_dump(exclude_none=True))
        except Exception as exc:  # noqa: BLE001 - reported in-band: the status line is already sent
            log.exception("stream failed")
            detail = exc.message if isinstance(exc, AssistantError) else "回答生成中断，请重试"
            yield sse("error", redact({"detail": detail, "hint": getattr(exc, "hint", "")}))

    return EventSourceResponse(events(), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
