"""Ingest a corpus folder into a new index generation, incrementally, then swap it in atomically."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from tqdm import tqdm

from assistant.errors import AssistantError, IngestBusyError, InputError, LoaderError
from assistant.index.lexical import LexicalIndex
from assistant.index.publish import SharedIndex, generation_of, is_shared, live_pointer, local_generation
from assistant.index.sentences import SentenceIndex
from assistant.index.snapshot import GENERATIONS, write_json_atomic, write_jsonl
from assistant.index.vector import VectorIndex, drop_collection, make_client
from assistant.ingest.chunking import build_document, chunk_sections
from assistant.ingest.clean import clean_blocks
from assistant.ingest.loaders import load_file, supported_suffixes
from assistant.ingest.metadata import extract_metadata
from assistant.ingest.script import to_simplified
from assistant.settings import Settings
from assistant.types import Chunk, Document
from embeddings.base import PolicyEmbeddings, get_embeddings
from embeddings.bulk import embed_in_batches
from embeddings.cache import CachedEmbeddings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

log = logging.getLogger(__name__)


class SkippedFile(BaseModel):
    source: str
    reason: str
    kept_previous: bool = False


class IngestReport(BaseModel):
    corpus_dir: str
    generation: str | None
    changed: bool
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    embedded: int = 0  # texts that reached the embedding model (cache misses)
    seconds: float = 0.0
    measures: int | None = None  # support measures in the generation's catalogue (None: it could not be built)
    measures_error: str = ""  # why not, and what to do


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# Data files an office may keep beside the documents (synonyms, matching taxonomy): not documents.
RESERVED = frozenset({"synonyms.txt", "taxonomy.yaml", "taxonomy.yml", "README.md"})


def iter_corpus(corpus_dir: Path) -> Iterator[Path]:
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith((".", "~$")) for part in rel.parts) or not path.is_file():
            continue
        if len(rel.parts) == 1 and rel.name in RESERVED:
            continue
        yield path


def process_file(path: Path, source: str, sha: str, settings: Settings) -> tuple[Document, list[Chunk]]:
    """load → clean → metadata → sections → chunks for one file."""
    size = path.stat().st_size
    if size > settings.max_document_bytes:  # refused before reading: memory stays bounded whatever lands here
        raise LoaderError(
            f"{path.name}: 文件过大（{_size(size)}，上限 {_size(settings.max_document_bytes)}），未导入",
            "请拆分文件或去掉其中的图片；确需导入时，管理员可调大 ASSISTANT_MAX_DOCUMENT_BYTES。",
        )
    paragraphs = clean_blocks(load_file(path))
    meta = extract_metadata(paragraphs, source, sha)
    doc, sections = build_document(paragraphs, meta)
    chunks = chunk_sections(doc, sections, settings.chunk_size, settings.chunk_overlap)
    if to_simplified(doc.text) != doc.text:  # a traditional-Chinese document: searchable by simplified questions
        for c in chunks:
            c.simplified = to_simplified(c.lexical_text())
    return doc, chunks


LOCK_FILE = ".ingest.lock"


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.1f} KiB"


@contextmanager
def ingest_lock(data_dir: Path, wait_s: float = 0.0) -> Iterator[None]:
    """One ingest per data dir. ``flock`` is released by the kernel when its holder dies (even by kill -9), so a
    lock file left behind by a killed ingest never blocks the next one; the holder's pid and start time are
    written into it so that a refused run can say who is busy."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK_FILE, "a+") as fh:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                fh.seek(0)
                holder = fh.read().strip()
                who = f"（{holder}）" if holder else ""
                raise IngestBusyError(
                    f"另一个导入任务正在进行{who}，本次导入未执行",
                    "请等它结束后再试；索引和正在提供的问答不受影响。",
                ) from exc
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"进程 {os.getpid()}，开始于 {datetime.now().astimezone():%Y-%m-%d %H:%M:%S}")
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _load_previous(
    settings: Settings, client: ClientAPI | None
) -> tuple[dict | None, dict[str, Document], dict[str, list[Chunk]], dict]:
    """The live generation (the shared one, fetched if need be, when replicas share a Chroma server)."""
    pointer = live_pointer(settings, client)
    if pointer is None:
        return None, {}, {}, {}
    try:
        gen_dir = local_generation(settings, client, pointer["generation"])
        manifest = json.loads((gen_dir / "manifest.json").read_text(encoding="utf-8"))
        docs: dict[str, Document] = {}
        for line in (gen_dir / "documents.jsonl").read_text(encoding="utf-8").splitlines():
            d = Document.model_validate_json(line)
            docs[d.meta.source] = d
        chunks: dict[str, list[Chunk]] = {}
        for line in (gen_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines():
            c = Chunk.model_validate_json(line)
            chunks.setdefault(c.source, []).append(c)
    except (OSError, ValueError, AssistantError) as exc:
        log.warning("previous index unreadable (%s); rebuilding from scratch", exc)
        return None, {}, {}, {}
    return pointer, docs, chunks, manifest


def _file_error(path: Path, exc: Exception) -> LoaderError:
    if isinstance(exc, OSError):
        return LoaderError(f"{path.name}: 无法读取文件（{exc.strerror or exc}）", "请检查文件是否存在、权限是否正确。")
    log.exception("processing %s failed", path)
    return LoaderError(f"{path.name}: 处理失败（{type(exc).__name__}: {exc}）", "请检查文件内容；若文件正常，请把它反馈给维护者。")


def make_embeddings(settings: Settings, inner: PolicyEmbeddings | None = None) -> CachedEmbeddings:
    return CachedEmbeddings(inner or get_embeddings(settings), settings.data_dir / "cache" / "embeddings.sqlite")


def run_ingest(
    settings: Settings,
    *,
    embeddings: CachedEmbeddings | None = None,
    progress: bool = False,
    force: bool = False,
    wait_s: float = 0.0,
) -> IngestReport:
    """Bring the index in line with ``settings.corpus_dir``; re-embed only what changed. Another ingest on the
    same data dir: wait up to ``wait_s`` for it, then ``IngestBusyError``."""
    started = time.perf_counter()
    corpus_dir, data_dir = settings.corpus_dir, settings.data_dir
    if not corpus_dir.is_dir():
        raise InputError(f"语料目录不存在：{corpus_dir}", "请用 --corpus 指定包含政策文件的目录。")
    embeddings = embeddings or make_embeddings(settings)
    report = IngestReport(corpus_dir=str(corpus_dir), generation=None, changed=False)
    config = {
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "embedding_model": embeddings.model_id,
        "format": 10,  # 2: heading lines in chunk text, items kept, sentence vectors; 3: a table row is one sentence;
        # 4: a section with no body has its heading as a sentence; 5: dates in Chinese numerals, title guards;
        # 6: the issuer named at the head of the title; 7: traditional-Chinese chunks' simplified form
        # 9: sentences split at whitespace gaps between Chinese characters (8 was an interim rule);
        # 10: a bullet glyph starts a paragraph, bulleted one-line items stay whole
    }

    with ingest_lock(data_dir, wait_s):
        # the embedded client is opened only when something changed (an unchanged re-ingest stays a file scan)
        client = make_client(settings) if is_shared(settings) else None
        pointer, prev_docs, prev_chunks, manifest = _load_previous(settings, client)
        same_config = bool(pointer) and manifest.get("config") == config and not force
        prev_files: dict[str, dict] = manifest.get("files", {}) if same_config else {}

        documents: dict[str, Document] = {}
        chunks_by_source: dict[str, list[Chunk]] = {}
        files = list(iter_corpus(corpus_dir))
        for path in tqdm(files, desc="读取文件", unit="file", disable=not progress):
            source = path.relative_to(corpus_dir).as_posix()
            try:
                sha = file_sha256(path)
                if source in prev_files and prev_files[source]["sha256"] == sha and source in prev_docs:
                    documents[source] = prev_docs[source]
                    chunks_by_source[source] = prev_chunks.get(source, [])
                    report.unchanged.append(source)
                    continue
                doc, chunks = process_file(path, source, sha, settings)
            except Exception as error:  # noqa: BLE001 - one bad file is reported, never fatal for the rest
                exc = error if isinstance(error, LoaderError) else _file_error(path, error)
                kept = source in prev_docs and bool(pointer)
                if kept:  # keep the last good version rather than lose it
                    documents[source] = prev_docs[source]
                    chunks_by_source[source] = prev_chunks.get(source, [])
                report.skipped.append(SkippedFile(source=source, reason=str(exc), kept_previous=kept))
                continue
            documents[source] = doc
            chunks_by_source[source] = chunks
            (report.updated if source in prev_docs else report.added).append(source)
        report.removed = sorted(set(prev_docs) - set(documents))

        all_chunks = [c for src in sorted(chunks_by_source) for c in chunks_by_source[src]]
        report.documents, report.chunks = len(documents), len(all_chunks)
        if not all_chunks:  # nothing readable: keep whatever index there is rather than swap in an empty one
            save_last_report(data_dir, report)
            unread = "；".join(s.reason.replace("\n", " ") for s in report.skipped[:5])
            raise InputError(
                f"语料目录 {corpus_dir} 中没有可导入的文件" + (f"（{len(report.skipped)} 个文件未能读取）" if report.skipped else ""),
                unread or f"请放入政策文件（{' '.join(supported_suffixes())}）后再导入；索引未改动。",
            )
        if same_config and not (report.added or report.updated or report.removed):
            report.generation = pointer["generation"] if pointer else None
            if pointer:  # the taxonomy (or LLM) may have changed since: the catalogue is rebuilt then
                gen_dir = data_dir / GENERATIONS / pointer["generation"]
                _catalogue(report, gen_dir, documents, all_chunks, pointer["generation"], settings)
            report.seconds = round(time.perf_counter() - started, 3)
            save_last_report(data_dir, report)
            return report

        # microseconds in the name: generations sort by creation even when two ingests share a second
        # (pruning keeps the newest by name)
        generation = datetime.now(UTC).strftime("g%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]
        collection = f"{settings.collection}-{generation}"
        gen_root = data_dir / GENERATIONS
        tmp_dir = gen_root / f".tmp-{generation}"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        client = client or make_client(settings)
        shared = SharedIndex(client, settings.collection) if is_shared(settings) else None
        before = embeddings.embedded_texts
        try:
            vector = VectorIndex(client, collection, embeddings, create=True)
            vectors = embed_in_batches(embeddings, [c.dense_text() for c in all_chunks], "向量化", "chunk", progress)
            vector.add(all_chunks, vectors)
            del vectors
            LexicalIndex.build(
                [c.id for c in all_chunks], [c.lexical_text() for c in all_chunks], progress=progress
            ).save(tmp_dir / "lexical")
            SentenceIndex.build(all_chunks, embeddings, progress=progress).save(tmp_dir / "sentences")
            write_jsonl(tmp_dir / "documents.jsonl", [documents[s] for s in sorted(documents)])
            write_jsonl(tmp_dir / "chunks.jsonl", all_chunks)
            files_manifest = {
                s: {"sha256": documents[s].meta.sha256, "chunks": [c.id for c in chunks_by_source[s]]}
                for s in sorted(documents)
            }
            write_json_atomic(tmp_dir / "manifest.json", {"config": config, "files": files_manifest})
            _catalogue(report, tmp_dir, documents, all_chunks, generation, settings)
            tmp_dir.rename(gen_root / generation)
            if shared is not None:  # replicas on other machines fetch the files from the server
                shared.publish(generation, gen_root / generation)
        except BaseException:
            drop_collection(client, collection)
            if shared is not None:
                shared.drop(generation)
            shutil.rmtree(tmp_dir, ignore_errors=True)
            shutil.rmtree(gen_root / generation, ignore_errors=True)
            raise
        report.embedded = embeddings.embedded_texts - before

        new_pointer = {
            "generation": generation,
            "collection": collection,
            "embedding_model": embeddings.model_id,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "documents": len(documents),
            "chunks": len(all_chunks),
            "corpus_dir": str(corpus_dir),
        }
        write_json_atomic(data_dir / "current.json", new_pointer)
        if shared is not None:
            shared.write_pointer(new_pointer)
        _prune(data_dir, client, settings.collection, keep={generation, pointer["generation"] if pointer else ""})
        report.generation, report.changed = generation, True
        report.seconds = round(time.perf_counter() - started, 3)
        save_last_report(data_dir, report)
        return report


def _catalogue(
    report: IngestReport, gen_dir: Path, documents: dict[str, Document], chunks: list[Chunk], generation: str,
    settings: Settings,
) -> None:
    """The support-measures catalogue, derived from the documents like the lexical index and saved with them (the
    server reads it on the first matching request). A catalogue that cannot be built (an invalid taxonomy file)
    does not fail the ingest: the report says why, and matching says it again when asked."""
    from assistant.match.catalogue import ensure_catalogue

    try:
        report.measures = ensure_catalogue(gen_dir, documents, chunks, generation, settings)
    except AssistantError as exc:
        report.measures, report.measures_error = None, f"{exc.message}（{exc.hint}）" if exc.hint else exc.message
        log.warning("measures catalogue not built: %s", report.measures_error)
    except OSError as exc:
        report.measures, report.measures_error = None, f"政策措施目录无法写入（{exc}），首次匹配时再生成"
        log.warning("measures catalogue not built: %s", report.measures_error)


LAST_REPORT = "last-ingest.json"


def save_last_report(data_dir: Path, report: IngestReport) -> None:
    """The last ingest's report, so the documents listing (API, chat page) can show what was not ingested and why."""
    write_json_atomic(data_dir / LAST_REPORT, report.model_dump())


def last_report(data_dir: Path) -> IngestReport | None:
    try:
        return IngestReport.model_validate_json((data_dir / LAST_REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _prune(data_dir: Path, client: ClientAPI, prefix: str, keep: set[str]) -> None:
    """Drop generations other than the live one and the one before it (kept for readers still on it).

    Collections: only this prefix's generations (vectors and published files) older than the newest kept one, so
    another index on the same Chroma server, the shared pointer and a newer ingest still being built are left alone.
    """
    gen_root = data_dir / GENERATIONS
    for child in gen_root.iterdir() if gen_root.exists() else []:
        if child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)
    try:
        names = [getattr(c, "name", c) for c in client.list_collections()]
    except Exception:  # noqa: BLE001
        return
    newest = max(keep)
    for name in names:
        gen = generation_of(prefix, str(name))
        if gen is not None and gen not in keep and gen < newest:
            drop_collection(client, str(name))
