"""Ingest a corpus folder into a new index generation, incrementally, then swap it in atomically."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field
from tqdm import tqdm

from assistant.errors import IngestBusyError, InputError, LoaderError
from assistant.index.lexical import LexicalIndex
from assistant.index.sentences import SentenceIndex
from assistant.index.snapshot import GENERATIONS, read_pointer, write_json_atomic, write_jsonl
from assistant.index.vector import VectorIndex, drop_collection, make_client
from assistant.ingest.chunking import build_document, chunk_sections
from assistant.ingest.clean import clean_blocks
from assistant.ingest.loaders import load_file
from assistant.ingest.metadata import extract_metadata
from assistant.settings import Settings
from assistant.types import Chunk, Document
from embeddings.base import PolicyEmbeddings, get_embeddings
from embeddings.bulk import embed_in_batches
from embeddings.cache import CachedEmbeddings

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
    paragraphs = clean_blocks(load_file(path))
    meta = extract_metadata(paragraphs, source, sha)
    doc, sections = build_document(paragraphs, meta)
    return doc, chunk_sections(doc, sections, settings.chunk_size, settings.chunk_overlap)


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".ingest.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestBusyError("另一个导入任务正在进行", "请等它结束后再试。") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _load_previous(data_dir: Path) -> tuple[dict | None, dict[str, Document], dict[str, list[Chunk]], dict]:
    pointer = read_pointer(data_dir)
    if pointer is None:
        return None, {}, {}, {}
    gen_dir = data_dir / GENERATIONS / pointer["generation"]
    try:
        manifest = json.loads((gen_dir / "manifest.json").read_text(encoding="utf-8"))
        docs: dict[str, Document] = {}
        for line in (gen_dir / "documents.jsonl").read_text(encoding="utf-8").splitlines():
            d = Document.model_validate_json(line)
            docs[d.meta.source] = d
        chunks: dict[str, list[Chunk]] = {}
        for line in (gen_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines():
            c = Chunk.model_validate_json(line)
            chunks.setdefault(c.source, []).append(c)
    except (OSError, ValueError) as exc:
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
) -> IngestReport:
    """Bring the index in line with ``settings.corpus_dir``; re-embed only what changed."""
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
        "format": 4,  # 2: heading lines in chunk text, items kept, sentence vectors; 3: a table row is one sentence;
        # 4: a section with no body has its heading as a sentence
    }

    with ingest_lock(data_dir):
        pointer, prev_docs, prev_chunks, manifest = _load_previous(data_dir)
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
        if same_config and not (report.added or report.updated or report.removed):
            report.generation = pointer["generation"] if pointer else None
            report.seconds = round(time.perf_counter() - started, 3)
            return report

        generation = datetime.now(UTC).strftime("g%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        collection = f"{settings.collection}-{generation}"
        gen_root = data_dir / GENERATIONS
        tmp_dir = gen_root / f".tmp-{generation}"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        client = make_client(settings)
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
            tmp_dir.rename(gen_root / generation)
        except BaseException:
            drop_collection(client, collection)
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        report.embedded = embeddings.embedded_texts - before

        write_json_atomic(
            data_dir / "current.json",
            {
                "generation": generation,
                "collection": collection,
                "embedding_model": embeddings.model_id,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "documents": len(documents),
                "chunks": len(all_chunks),
            },
        )
        _prune(data_dir, client, settings.collection, keep={generation, pointer["generation"] if pointer else ""})
        report.generation, report.changed = generation, True
        report.seconds = round(time.perf_counter() - started, 3)
        return report


def _prune(data_dir: Path, client: object, prefix: str, keep: set[str]) -> None:
    """Drop generations other than the live one and the one before it (kept for readers still on it)."""
    gen_root = data_dir / GENERATIONS
    for child in gen_root.iterdir() if gen_root.exists() else []:
        if child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)
    try:
        names = [getattr(c, "name", c) for c in client.list_collections()]  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return
    for name in names:
        if name.startswith(prefix + "-") and name[len(prefix) + 1 :] not in keep:
            drop_collection(client, name)  # type: ignore[arg-type]
