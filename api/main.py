"""App factory: ``create_app()`` builds settings, the ``Assistant`` and the ``Store`` and mounts one router per
feature. Nothing is built at import time; ``assistant serve`` runs ``uvicorn api.main:create_app --factory``."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api import cors
from api.errors import install_error_handlers
from api.schemas import CHANNEL_ERRORS, COMMON_ERRORS, V1_ERRORS
from assistant import redact
from assistant.service import Assistant
from assistant.settings import Settings, get_settings
from assistant.store import make_store

log = logging.getLogger(__name__)

# One module per feature under api/routes, each exposing `router`.
# Error responses documented on every operation of a feature (the OpenAPI schema is a contract: tested by
# schemathesis in tests/reliability); routes add their own (404, 409 …).
ROUTER_ERRORS = {
    **{name: {**COMMON_ERRORS, **V1_ERRORS} for name in ("ask", "chat", "documents", "feedback", "bot", "match")},
    "wechat": {**COMMON_ERRORS, **CHANNEL_ERRORS},
    "wecom": {**COMMON_ERRORS, **CHANNEL_ERRORS},
}
ROUTERS = ("health", "ask", "chat", "documents", "feedback", "metrics", "wechat", "wecom", "bot", "match", "page")


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    settings = settings or get_settings()
    redact.install(settings)  # secrets masked in every log record from here on

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Warm the index and the model in the background so /healthz answers at once and /readyz turns ready.
        def warm() -> None:
            try:
                app.state.assistant.warm_up()
            except Exception as exc:  # noqa: BLE001 - reported by /readyz
                log.warning("warm-up failed: %s", exc)

        threading.Thread(target=warm, name="warm-up", daemon=True).start()
        yield

    # FastAPIOffline serves Swagger UI / ReDoc assets from the package, so /docs works without a CDN.
    app = FastAPIOffline(
        title="政策问答助手 API",
        version="0.1.0",
        description="基于政策文件的检索增强问答：每个回答都带可核对的引用（标题、文号、日期、章节、原文）。",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.assistant = assistant or Assistant(settings)
    app.state.store = make_store(settings)
    install_error_handlers(app)
    for name in ROUTERS:
        try:
            module = importlib.import_module(f"api.routes.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"api.routes.{name}":
                continue  # feature not built yet
            raise
        router = module.build_router(settings) if hasattr(module, "build_router") else module.router
        app.include_router(router, responses=ROUTER_ERRORS.get(name, COMMON_ERRORS))
        getattr(module, "install", lambda _app: None)(app)  # optional hook: a feature's middleware
    cors.install(app, settings)  # last: the outermost middleware
    return app
