"""CORS: closed unless ``ASSISTANT_CORS_ORIGINS`` lists the origins allowed to call the API from a browser.

Closed means no CORS middleware at all: a browser on another origin gets no ``Access-Control-Allow-Origin``
and may not read any response (the chat page at ``/`` is same-origin and needs none). With origins listed,
Starlette's ``CORSMiddleware`` answers their preflights and marks their responses; other origins still get
nothing. Credentials (cookies) are never allowed: the API authenticates with headers, not cookies.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assistant.settings import Settings

ALLOWED_METHODS = ["GET", "POST", "DELETE"]
ALLOWED_HEADERS = ["Content-Type", "Authorization", "X-Admin-Key", "Last-Event-ID"]
PREFLIGHT_MAX_AGE_S = 600


def install(app: FastAPI, settings: Settings) -> None:
    """Add the CORS middleware when origins are configured; add it last so it is the outermost layer and its
    headers are also on 413/429 answers of the request guards."""
    origins = settings.cors_origin_list()
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_S,
    )
