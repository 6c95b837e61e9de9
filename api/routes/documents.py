"""Documents: list (public), upload and delete (admin key). Writes change the corpus folder and re-ingest it;
the ingest swaps the new index generation in atomically, so questions keep being answered meanwhile."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from api.deps import AssistantDep
from api.limits import AdminDep
from api.schemas import ADMIN_ERRORS, DocumentChange, DocumentList, error
from assistant.ingest.loaders import supported_suffixes
from assistant.service import Assistant, DocumentChunks, DocumentInfo

router = APIRouter(tags=["文件"])

ADMIN_RESPONSES = ADMIN_ERRORS


def safe_filename(raw: str | None) -> str:
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name.startswith((".", "~$")) or "\x00" in name or len(name.encode()) > 200:
        raise HTTPException(422, detail=f"文件名不可用：{raw!r}。请使用不以“.”开头、不超过 200 字节的普通文件名。")
    suffix = Path(name).suffix.lower()
    if suffix not in supported_suffixes():
        raise HTTPException(
            415,
            detail=f"不支持的文件类型 {suffix or '（无扩展名）'}；支持：{' '.join(supported_suffixes())}。",
        )
    return name


def find_document(assistant: Assistant, *, doc_id: str | None = None, source: str | None = None) -> DocumentInfo | None:
    for doc in assistant.documents():
        if doc.id == doc_id or doc.source == source:
            return doc
    return None


@router.get("/v1/documents", summary="已导入的文件（标题、文号、日期、片段数）", response_model=DocumentList)
def list_documents(assistant: AssistantDep) -> DocumentList:
    docs = assistant.documents()
    return DocumentList(documents=docs, count=len(docs))


@router.get(
    "/v1/documents/{doc_id}/chunks",
    summary="文件的片段：章节路径、原文、在清洗后文本中的位置，以及未进入索引的内容（应为空）",
    response_model=DocumentChunks,
    responses={404: error("没有这个文件 ID")},
)
def document_chunks(doc_id: str, assistant: AssistantDep) -> DocumentChunks:
    doc = find_document(assistant, doc_id=doc_id)
    if doc is None:
        raise HTTPException(404, detail=f"没有 ID 为 {doc_id} 的文件；请用 GET /v1/documents 查看现有文件的 id。")
    return assistant.document_chunks(doc.source)[0]


@router.post(
    "/v1/documents",
    summary="上传文件并导入（管理员）",
    status_code=201,
    response_model=DocumentChange,
    dependencies=[AdminDep],
    responses={**ADMIN_RESPONSES, 409: error("同名文件已存在（overwrite=true 可覆盖）或正在导入"),
               413: error("文件过大"), 415: error("不支持的文件类型"), 422: error("文件名不可用、文件为空或无法解析")},
)
async def upload_document(
    assistant: AssistantDep,
    file: Annotated[UploadFile, File(description="政策文件：.txt .md .pdf .docx .html")],
    overwrite: Annotated[bool, Form(description="同名文件已存在时覆盖")] = False,
) -> DocumentChange:
    name = safe_filename(file.filename)
    corpus = assistant.settings.corpus_dir
    corpus.mkdir(parents=True, exist_ok=True)
    target = corpus / name
    if target.exists() and not overwrite:
        raise HTTPException(409, detail=f"语料中已有同名文件 {name}；如需替换，请带上 overwrite=true。")
    tmp = corpus / f".upload-{uuid.uuid4().hex}{target.suffix}"
    backup = corpus / f".backup-{uuid.uuid4().hex}{target.suffix}"
    size = await run_in_threadpool(_save, file, tmp)
    if size == 0:
        tmp.unlink(missing_ok=True)
        raise HTTPException(422, detail=f"上传的文件 {name} 是空的。")
    had_previous = target.exists()
    if had_previous:
        os.replace(target, backup)
    os.replace(tmp, target)

    def undo() -> None:
        target.unlink(missing_ok=True)
        if had_previous:
            os.replace(backup, target)

    try:
        report = await run_in_threadpool(assistant.ingest)
    except BaseException:
        undo()
        raise
    skipped = next((s for s in report.skipped if s.source == name), None)
    if skipped is not None:
        undo()  # the index kept the previous version (or never had the file): the folder matches it again
        raise HTTPException(422, detail=f"文件无法导入：{skipped.reason}")
    backup.unlink(missing_ok=True)
    doc = find_document(assistant, source=name)
    if doc is None:  # pragma: no cover - ingest reported success but the document is not in the index
        raise HTTPException(500, detail=f"{name} 已保存，但导入后未出现在索引中，请查看服务日志。")
    return DocumentChange(document=doc, report=report.model_dump())


def _save(upload: UploadFile, path: Path) -> int:
    upload.file.seek(0)
    with open(path, "wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    return path.stat().st_size


@router.delete(
    "/v1/documents/{doc_id}",
    summary="删除文件并重新导入（管理员）",
    response_model=DocumentChange,
    dependencies=[AdminDep],
    responses={**ADMIN_RESPONSES, 404: error("没有这个文件 ID")},
)
async def delete_document(doc_id: str, assistant: AssistantDep) -> DocumentChange:
    doc = find_document(assistant, doc_id=doc_id)
    if doc is None:
        raise HTTPException(404, detail=f"没有 ID 为 {doc_id} 的文件；请用 GET /v1/documents 查看现有文件的 id。")
    corpus = assistant.settings.corpus_dir.resolve()
    path = (corpus / doc.source).resolve()
    if not path.is_relative_to(corpus):  # pragma: no cover - sources are relative paths written by ingest
        raise HTTPException(400, detail="文件路径不在语料目录内，拒绝删除。")
    path.unlink(missing_ok=True)
    report = await run_in_threadpool(assistant.ingest)
    return DocumentChange(document=doc, report=report.model_dump())
