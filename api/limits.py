"""Request guards: body size cap, per-client rate limit, question length, admin key.

The two middlewares are plain ASGI (they also cover streaming responses) and read the limits from
``app.state.settings`` on every request, so a test can build an app with tiny limits. Rate-limit counters
live in the shared ``Store``: every worker process sees the same count.
"""

from __future__ import annotations

import hmac
import json
import time
from typing import Annotated

from fastapi import Depends, FastAPI, Header
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import SettingsDep
from assistant.checks import check_question as assistant_check_question
from assistant.errors import StoreUnavailableError
from assistant.settings import Settings

RATE_WINDOW_S = 60
RATE_LIMITED_PREFIX = "/v1/"


async def send_json(send: Send, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def too_large(limit: int) -> dict[str, str]:
    return {
        "detail": f"请求体过大（上限 {limit} 字节）",
        "hint": "请缩小上传文件或请求内容；管理员可调整 ASSISTANT_MAX_BODY_BYTES。",
    }


class BodySizeLimitMiddleware:
    """413 when Content-Length exceeds ``settings.max_body_bytes``, or when a chunked body grows past it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int = scope["app"].state.settings.max_body_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, too_large(limit))
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPException from body parsing; the app's handler renders it.
                    raise HTTPException(413, detail=too_large(limit)["detail"])
            return message

        await self.app(scope, limited_receive, send)


def client_key(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class RateLimitMiddleware:
    """Fixed one-minute window per client IP on /v1/ routes; 429 with ``Retry-After``. A limit ≤ 0 disables it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(RATE_LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        limit: int = state.settings.rate_limit_per_minute
        if limit > 0:
            # SQLite write: off the event loop (a WAL checkpoint can take tens of ms)
            try:
                count = await run_in_threadpool(state.store.hit, "ratelimit", client_key(scope), RATE_WINDOW_S)
            except StoreUnavailableError as exc:  # raised outside the app's exception handlers: answer it here
                await send_json(send, exc.status_code, {"detail": exc.message, "hint": exc.hint})
                return
            if count > limit:
                retry_after = max(1, int(RATE_WINDOW_S - time.time() % RATE_WINDOW_S) + 1)
                await send_json(
                    send,
                    429,
                    {
                        "detail": f"请求过于频繁：每个客户端每分钟最多 {limit} 次",
                        "hint": f"请在 {retry_after} 秒后重试。",
                    },
                    {"Retry-After": str(retry_after)},
                )
                return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Add the guards to ``app`` (the last added middleware runs first: size check before counting)."""
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(BodySizeLimitMiddleware)


# ---- per-route checks ------------------------------------------------------------------------------------
def check_question(settings: Settings, question: str) -> str:
    """The question, stripped; ``InputError`` (422) when empty or longer than ``settings.max_question_chars``."""
    return assistant_check_question(settings, question)


def require_admin(
    settings: SettingsDep,
    x_admin_key: Annotated[str | None, Header(description="管理员密钥（ASSISTANT_ADMIN_KEY）")] = None,
    authorization: Annotated[str | None, Header(description="或 Authorization: Bearer <密钥>")] = None,
) -> None:
    """Admin routes: disabled (403) until ``ASSISTANT_ADMIN_KEY`` is set; 401 without a key, 403 with a wrong one."""
    if not settings.admin_key:
        raise HTTPException(403, detail="写操作已停用：服务端未设置 ASSISTANT_ADMIN_KEY。请管理员设置该环境变量后重启服务。")
    supplied = x_admin_key
    if supplied is None and authorization and authorization.lower().startswith("bearer "):
        supplied = authorization[7:].strip()
    if not supplied:
        raise HTTPException(
            401,
            detail="需要管理员密钥：请在请求头 X-Admin-Key 或 Authorization: Bearer <密钥> 中提供。",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(supplied.encode(), settings.admin_key.encode()):
        raise HTTPException(403, detail="管理员密钥不正确。")


AdminDep = Depends(require_admin)
