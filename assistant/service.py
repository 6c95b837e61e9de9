"""The ``Assistant``: one object per process that owns the index snapshot, the embedder and the chain.

The CLI and every API route go through it. Nothing is loaded at import; the index loads on first use and
reloads when ingest swaps in a new generation.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.chain import build_chain
from assistant.checks import check_question
from assistant.errors import InputError, NotFoundError
from assistant.index.publish import is_shared, live_pointer, local_generation
from assistant.index.snapshot import Snapshot, pointer_path
from assistant.index.vector import make_client
from assistant.ingest.coverage import Gap, uncovered
from assistant.ingest.pipeline import IngestReport, SkippedFile, last_report, make_embeddings, run_ingest
from assistant.retrieve import HybridRetriever, Retrieval
from assistant.settings import Settings
from assistant.types import Answer, Chunk
from embeddings.cache import CachedEmbeddings

log = logging.getLogger(__name__)


class DocumentInfo(BaseModel):
    id: str
    source: str
    title: str
    doc_number: str
    issuer: str
    date: str
    kind: str
    chunks: int
    effective_date: str = ""  # 施行日期 read from the text
    expiry_date: str = ""  # end of validity read from the text
    status: list[str] = []  # 试行 / 征求意见稿 / 废止 / 修订
    title_from_filename: bool = False  # no title line found in the text: the file name stands in


class ChunkView(BaseModel):
    """One chunk as staff see it in the chunk viewer (``assistant chunks``, ``GET /v1/documents/{id}/chunks``)."""

    chunk_id: str
    source: str
    section: str
    text: str
    start: int  # character offsets into the document's cleaned text
    end: int
    ordinal: int
    heading: str
    chars: int


class DocumentChunks(BaseModel):
    document: DocumentInfo
    chunks: list[ChunkView]
    count: int
    uncovered: list[Gap]  # document text no chunk holds: empty unless ingest lost something


class Assistant:
    def __init__(self, settings: Settings, embeddings: CachedEmbeddings | None = None) -> None:
        self.settings = settings
        self.embeddings = embeddings or make_embeddings(settings)
        self._lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._pointer_mtime: float | None = None
        self._polled = float("-inf")  # when the shared pointer was last read (Chroma server)
        self._client: Any = None
        self._chain: Any = None
        self.warmed = False

    # ---- index lifecycle ----------------------------------------------------------------------------
    def _client_once(self) -> Any:
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client

    def snapshot(self) -> Snapshot:
        """The live index generation, reloaded if ingest has swapped the pointer since (ingest in this process, in
        another process on this data dir, or — with a Chroma server — on another replica)."""
        if is_shared(self.settings):
            return self._shared_snapshot()
        path = pointer_path(self.settings.data_dir)
        mtime = path.stat().st_mtime if path.exists() else None
        with self._lock:
            if self._snapshot is None or mtime != self._pointer_mtime:
                self._snapshot = Snapshot.load(self.settings.data_dir, self._client_once(), self.embeddings)
                self._pointer_mtime = mtime
                self._chain = build_chain(self.settings, self._snapshot, self.embeddings)
            return self._snapshot

    def _shared_snapshot(self) -> Snapshot:
        """Replicas poll the pointer on the Chroma server at most every ``index_poll_s``; a new generation is fetched
        into this data dir and loaded. If that fails, the generation being served stays (tried again next poll)."""
        with self._lock:
            now = time.monotonic()
            current = self._snapshot
            if current is not None and now - self._polled < self.settings.index_poll_s:
                return current
            try:
                client = self._client_once()
                pointer = live_pointer(self.settings, client)
                if current is None or pointer is None or pointer["generation"] != current.generation:
                    if pointer is not None:
                        local_generation(self.settings, client, pointer["generation"], keep=[current.generation] if current else [])
                    self._snapshot = Snapshot.load(self.settings.data_dir, client, self.embeddings, pointer=pointer)
                    self._chain = build_chain(self.settings, self._snapshot, self.embeddings)
            except Exception as exc:
                if current is None:
                    raise
                log.warning("still serving index generation %s: the new one did not load (%s)", current.generation, exc)
            self._polled = now
            return self._snapshot  # type: ignore[return-value]

    def ready(self) -> bool:
        try:
            self.snapshot()
            return True
        except Exception:  # noqa: BLE001 - readiness is a yes/no
            return False

    def warm_up(self) -> None:
        from assistant.index import lexical

        self.snapshot()
        lexical.warm_up()
        self.embeddings.warm_up()
        self.ask("预热：长宁区科技创新政策有哪些？")  # first pass through every stage
        # not the measures catalogue: ingest saved it with the generation, the first matching request reads it
        self.warmed = True

    def build_catalogue(self) -> int:
        """Build (or load) the support-measures catalogue of the live generation; returns its size."""
        from assistant.match.catalogue import get_catalogue

        return len(get_catalogue(self).measures)

    def ingest(self, progress: bool = False, force: bool = False, wait_s: float = 0.0) -> IngestReport:
        report = run_ingest(self.settings, embeddings=self.embeddings, progress=progress, force=force, wait_s=wait_s)
        with self._lock:
            self._snapshot = None
        if not self.warmed and report.documents:
            self.warm_up()  # a server started before the first ingest becomes ready now
        return report

    # ---- questions ----------------------------------------------------------------------------------
    def check_question(self, question: str) -> str:
        return check_question(self.settings, question)

    def ask(
        self,
        question: str,
        *,
        history: list[str] | None = None,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
    ) -> Answer:
        q = self.check_question(question)
        if top_k is not None and not 1 <= top_k <= 50:
            raise InputError(f"top_k 必须在 1 到 50 之间（收到 {top_k}）")
        self.snapshot()
        started = time.perf_counter()
        answer: Answer = self._chain.invoke({"question": q, "history": history or [], "top_k": top_k, "filters": filters})
        answer.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def retrieve(
        self,
        question: str,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        dense_mode: str | None = None,
    ) -> Retrieval:
        """Hybrid retrieval only (no answer). ``dense_mode="always"`` forces the dense side for every query."""
        snap = self.snapshot()
        settings = self.settings.model_copy(update={"dense_mode": dense_mode}) if dense_mode else self.settings
        return HybridRetriever(snap, self.embeddings, settings).search(self.check_question(question), top_k, filters)

    # ---- documents ----------------------------------------------------------------------------------
    def chunks(self) -> list[Chunk]:
        return list(self.snapshot().chunks.values())

    def documents(self) -> list[DocumentInfo]:
        snap = self.snapshot()
        counts: dict[str, int] = {}
        for c in snap.chunks.values():
            counts[c.source] = counts.get(c.source, 0) + 1
        out = []
        for source, doc in sorted(snap.documents.items()):
            m = doc.meta
            out.append(
                DocumentInfo(
                    id=m.sha256[:16], source=source, title=m.title, doc_number=m.doc_number, issuer=m.issuer,
                    date=m.date, kind=m.kind, chunks=counts.get(source, 0), effective_date=m.effective_date,
                    expiry_date=m.expiry_date, status=list(m.status), title_from_filename=m.title_from_filename,
                )
            )
        return out

    def skipped(self) -> list[SkippedFile]:
        """Files of the corpus the last ingest could not read, with the reason and what to do (files since removed
        from the folder are left out)."""
        report = last_report(self.settings.data_dir)
        if report is None:
            return []
        corpus = Path(report.corpus_dir)  # the folder that ingest read, whatever this process was started with
        return [s for s in report.skipped if (corpus / s.source).exists()]

    def document_chunks(self, source: str | None = None) -> list[DocumentChunks]:
        """Every document (or the one at ``source``) with its chunks in document order, and what they miss."""
        snap = self.snapshot()
        if source is not None and source not in snap.documents:
            raise NotFoundError(
                f"没有导入文件 {source}",
                "请用 `assistant documents` 查看已导入的文件（路径相对于语料目录）。",
            )
        infos = {d.source: d for d in self.documents()}
        by_source: dict[str, list[Chunk]] = {}
        for c in snap.chunks.values():
            by_source.setdefault(c.source, []).append(c)
        out = []
        for src in [source] if source is not None else sorted(snap.documents):
            chunks = sorted(by_source.get(src, []), key=lambda c: c.ordinal)
            views = [
                ChunkView(chunk_id=c.id, source=c.source, section=c.section, text=c.text, start=c.start, end=c.end,
                          ordinal=c.ordinal, heading=c.heading, chars=len(c.text))
                for c in chunks
            ]
            out.append(DocumentChunks(document=infos[src], chunks=views, count=len(views),
                                      uncovered=uncovered(snap.documents[src], chunks)))
        return out
