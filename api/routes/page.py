"""The staff chat page: ``GET /`` serves ``api/static/index.html``; its js/css are under ``/static``.
Plain files, no build step."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Hook called by ``create_app``: serve the page's js/css."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


@router.get("/", summary="员工问答页面")
def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})
