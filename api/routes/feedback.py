"""👍/👎 on an answer (``POST /v1/feedback``), stored durably in the Store's log; ``GET /v1/feedback`` for admins.

Every answer the API gives is remembered for ``ANSWER_TTL_S`` under its ``answer_id`` so feedback can be
checked against a real answer and stored together with the question, the answer and its sources.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.exceptions import HTTPException

from api.deps import StoreDep
from api.limits import AdminDep
from api.routes.metrics import metrics_of
from api.schemas import ADMIN_ERRORS, FeedbackEntry, FeedbackList, FeedbackReceipt, FeedbackRequest, error
from assistant.store import KV, Store
from assistant.types import Answer

router = APIRouter(tags=["反馈"])

ANSWERS = "answer"
FEEDBACK = "feedback"
ANSWER_TTL_S = 30 * 24 * 3600


def answer_record(answer_id: str, answer: Answer, session_id: str | None) -> KV:
    """The write that keeps an answer for feedback (``remember_answer``, or batched with the session turn)."""
    return KV(
        ANSWERS,
        answer_id,
        {
            "question": answer.question,
            "answer": answer.answer,
            "grounded": answer.grounded,
            "session_id": session_id,
            "sources": sorted({c.source for c in answer.citations}),
        },
        ANSWER_TTL_S,
    )


def remember_answer(store: Store, answer_id: str, answer: Answer, session_id: str | None) -> None:
    store.set_many([answer_record(answer_id, answer, session_id)])


@router.post(
    "/v1/feedback", summary="对某个回答点赞/点踩", response_model=FeedbackReceipt, status_code=201,
    responses={404: error("找不到这个回答（已过期或 ID 有误）")},
)
def post_feedback(body: FeedbackRequest, store: StoreDep, request: Request) -> FeedbackReceipt:
    answer = store.get(ANSWERS, body.answer_id)
    if answer is None:
        raise HTTPException(404, detail=f"找不到回答 {body.answer_id}：可能已过期或 ID 有误，请对新的回答评价。")
    entry_id = store.append(
        FEEDBACK, {**answer, "answer_id": body.answer_id, "rating": body.rating, "comment": body.comment}
    )
    metrics_of(request.app).feedback.labels(body.rating).inc()
    return FeedbackReceipt(id=entry_id, answer_id=body.answer_id, rating=body.rating)


@router.get(
    "/v1/feedback", summary="查看反馈（管理员）", response_model=FeedbackList, dependencies=[AdminDep], responses=ADMIN_ERRORS
)
def list_feedback(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,  # SQLite integers are 64-bit
) -> FeedbackList:
    items = [FeedbackEntry.model_validate(e) for e in store.entries(FEEDBACK, limit=limit, offset=offset)]
    return FeedbackList(items=items, limit=limit, offset=offset)
