"""Documents: list (public), upload and delete (admin key). Writes change the corpus folder and re-ingest it;
the ingest swaps the new index generation in atomically, so questions keep being answered meanwhile."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from api.deps import AssistantDep
from api.limits import AdminDep
from api.schemas import ADMIN_ERRORS, DocumentChange, DocumentList, error
from assistant.errors import AssistantError
from assistant.index.snapshot import read_pointer
from assistant.ingest.loaders import supported_suffixes
from assistant.service import Assistant, DocumentChunks, DocumentInfo
from assistant.settings import Settings

router = APIRouter(tags=["文件"])

# An upload or delete arriving while another ingest runs waits for it this long, then answers 409.
INGEST_WAIT_S = 120.0

ADMIN_RESPONSES = ADMIN_ERRORS


_PATH_CHARS = ("/", "\\")
_BAD_CHARS = re.compile(r'[\x00-\x1f\x7f:*?"<>|]')


def safe_filename(raw: str | None) -> str:
    """The upload's own file name, or 422/415 with the reason. A name with a path in it (``../x.txt``,
    ``/etc/x.txt``, ``..\\x.txt``, ``C:\\x.txt``) is refused, not trimmed: nothing is written outside the upload folder."""
    name = (raw or "").strip()
    if any(c in name for c in _PATH_CHARS):
        raise HTTPException(422, detail=f"文件名不能包含路径（/ 或 \\）：{raw!r}。请只上传文件本身，例如 新政策.pdf。")
    if not name or name in (".", "..") or name.startswith((".", "~$")) or len(name.encode()) > 200:
        raise HTTPException(422, detail=f"文件名不可用：{raw!r}。请使用不以“.”开头、不超过 200 字节的普通文件名。")
    if _BAD_CHARS.search(name):
        raise HTTPException(
            422, detail=f'文件名含有不允许的字符（控制字符或 : * ? " < > |）：{raw!r}。请改用普通文件名后再上传。'
        )
    suffix = Path(name).suffix.lower()
    if suffix not in supported_suffixes():
        raise HTTPException(
            415,
            detail=f"不支持的文件类型 {suffix or '（无扩展名）'}；支持：{' '.join(supported_suffixes())}。",
        )
    return name


def upload_folder(settings: Settings) -> Path:
    try:
        return settings.upload_folder()
    except AssistantError as exc:
        raise HTTPException(exc.status_code, detail=f"{exc.message}。{exc.hint}") from exc


def check_corpus(assistant: Assistant) -> None:
    """Refuse a write when the live index was built from another corpus folder than the server's: re-ingesting
    this server's folder into that data dir would replace the other corpus's documents."""
    pointer = read_pointer(assistant.settings.data_dir) or {}
    built_from = pointer.get("corpus_dir")
    if built_from and Path(built_from).resolve() != assistant.settings.corpus_dir.resolve():
        raise HTTPException(
            409,
            detail=(
                f"索引是从语料目录 {built_from} 导入的，而本服务的语料目录是 {assistant.settings.corpus_dir}，"
                "为免覆盖，拒绝写入。请用 assistant serve --corpus 或 ASSISTANT_CORPUS_DIR 指定正确的语料目录后重启服务。"
            ),
        )


def find_document(assistant: Assistant, *, doc_id: str | None = None, source: str | None = None) -> DocumentInfo | None:
    for doc in assistant.documents():
        if doc.id == doc_id or doc.source == source:
            return doc
    return None


@router.get("/v1/documents", summary="已导入的文件（标题、文号、日期、片段数）", response_model=DocumentList)
def list_documents(assistant: AssistantDep) -> DocumentList:
    docs = assistant.documents()
    try:
        folder = str(assistant.settings.upload_folder())
    except AssistantError:
        folder = ""
    return DocumentList(documents=docs, count=len(docs), skipped=assistant.skipped(), upload_dir=folder)


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
               413: error("文件过大（ASSISTANT_MAX_DOCUMENT_BYTES / ASSISTANT_MAX_BODY_BYTES）"),
               415: error("不支持的文件类型（detail 列出支持的类型）"),
               422: error("文件名不可用（含路径、控制字符）、文件为空或无法解析（detail 给出原因）")},
)
async def upload_document(
    assistant: AssistantDep,
    file: Annotated[UploadFile, File(description="政策文件：.txt .md .pdf .docx .html")],
    overwrite: Annotated[bool, Form(description="同名文件已存在时覆盖")] = False,
) -> DocumentChange:
    name = safe_filename(file.filename)
    check_corpus(assistant)
    settings = assistant.settings
    folder = upload_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.resolve().parent != folder:  # pragma: no cover - safe_filename already refused any path
        raise HTTPException(422, detail=f"文件名不可用：{file.filename!r}。")
    source = target.relative_to(settings.corpus_dir.resolve()).as_posix()
    if target.exists() and not overwrite:
        raise HTTPException(409, detail=f"语料中已有同名文件 {source}；如需替换，请带上 overwrite=true。")
    tmp = folder / f".upload-{uuid.uuid4().hex}{target.suffix}"
    backup = folder / f".backup-{uuid.uuid4().hex}{target.suffix}"
    limit = settings.max_document_bytes
    size = await run_in_threadpool(_save, file, tmp, limit)
    if size > limit:
        tmp.unlink(missing_ok=True)
        raise HTTPException(
            413,
            detail=f"文件 {name} 过大（超过 {limit} 字节的上限），未保存。请拆分文件或去掉其中的图片；管理员可调大 ASSISTANT_MAX_DOCUMENT_BYTES。",
        )
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
        report = await run_in_threadpool(assistant.ingest, wait_s=INGEST_WAIT_S)
    except BaseException:
        undo()
        raise
    skipped = next((s for s in report.skipped if s.source == source), None)
    if skipped is not None:
        undo()  # the index kept the previous version (or never had the file): the folder matches it again
        raise HTTPException(422, detail=f"文件无法导入：{skipped.reason}")
    backup.unlink(missing_ok=True)
    doc = find_document(assistant, source=source)
    if doc is None:  # pragma: no cover - ingest reported success but the document is not in the index
        raise HTTPException(500, detail=f"{source} 已保存，但导入后未出现在索引中，请查看服务日志。")
    return DocumentChange(document=doc, report=report.model_dump())


def _save(upload: UploadFile, path: Path, limit: int) -> int:
    """Copy the upload to ``path``; stop as soon as it passes ``limit`` bytes (returns a size > limit then)."""
    upload.file.seek(0)
    size = 0
    with open(path, "wb") as out:
        while block := upload.file.read(1 << 20):
            size += len(block)
            if size > limit:
                break
            out.write(block)
    return size


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
    check_corpus(assistant)
    corpus = assistant.settings.corpus_dir.resolve()
    path = (corpus / doc.source).resolve()
    if not path.is_relative_to(corpus):  # pragma: no cover - sources are relative paths written by ingest
        raise HTTPException(400, detail="文件路径不在语料目录内，拒绝删除。")
    backup = path.with_name(f".deleted-{uuid.uuid4().hex}{path.suffix}")
    os.replace(path, backup)  # kept until the index no longer has the file: a failed ingest puts it back
    try:
        report = await run_in_threadpool(assistant.ingest, wait_s=INGEST_WAIT_S)
    except BaseException:
        os.replace(backup, path)
        raise
    backup.unlink(missing_ok=True)
    return DocumentChange(document=doc, report=report.model_dump())
