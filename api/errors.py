"""Every error leaves as JSON ``{"detail": ..., "hint": ...}`` with the right status, never a 200 or a bare 500,
and with any secret masked (``assistant.redact``)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import AssistantError
from assistant.redact import redact

log = logging.getLogger(__name__)

BODY_PARSE_ERROR = "There was an error parsing the body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AssistantError)
    async def assistant_error(_: Request, exc: AssistantError) -> JSONResponse:
        return JSONResponse(redact({"detail": exc.message, "hint": exc.hint}), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "；".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}" for e in exc.errors()
        )
        return JSONResponse(redact({"detail": f"请求参数有误：{problems}", "errors": jsonable(exc.errors())}), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:  # FastAPI's own words: say it in Chinese
            body = {"detail": "请求体无法解析", "hint": "请发送有效的 JSON（Content-Type: application/json）或表单数据。"}
            return JSONResponse(body, status_code=400)
        return JSONResponse(
            redact({"detail": exc.detail}), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    app.add_middleware(UnexpectedErrorMiddleware)  # the first added: just outside the routes' own handlers


class UnexpectedErrorMiddleware:
    """An unexpected exception becomes the JSON 500 here, inside the app. Registered as an ``Exception``
    handler it would be re-raised by Starlette after the 500 is sent, and uvicorn then closes the connection at
    once: a client could get a connection reset instead of the answer (seen in tests)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.exception("unhandled error")
            if started:  # the response is under way: nothing sensible can be sent any more
                raise
            body = {"detail": "服务内部错误，请稍后再试", "hint": type(exc).__name__}
            await JSONResponse(body, status_code=500)(scope, receive, send)


def jsonable(errors: list) -> list:
    out = []
    for e in errors:
        e = dict(e)
        e.pop("ctx", None)
        e.pop("input", None)
        out.append(e)
    return out
