"""Hybrid retrieval: dense (Chroma) + lexical (BM25) fused by reciprocal rank, then a relevance gate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.index.lexical import salient_terms
from assistant.index.snapshot import Snapshot
from assistant.settings import Settings
from assistant.types import Gate, Hit
from embeddings.base import PolicyEmbeddings

# Words that name a document's metadata: answered from metadata, so not required in the passage text.
META_WORDS = re.compile(r"文号|发文字号|签发人|签发|联系人|联系电话|电话|联系方式|地址|邮编|邮政编码|发文机关|发文单位|成文日期|印发日期|发布日期|日期|时间|哪天|何时|哪一天")


@dataclass
class Retrieval:
    query: str
    hits: list[Hit]
    gate: Gate


def _where(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    if not filters:
        return None
    clauses = []
    for key, value in filters.items():
        if isinstance(value, list | tuple | set):
            clauses.append({key: {"$in": list(value)}})
        else:
            clauses.append({key: value})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class HybridRetriever:
    def __init__(self, snapshot: Snapshot, embeddings: PolicyEmbeddings, settings: Settings) -> None:
        self.snapshot = snapshot
        self.embeddings = embeddings
        self.settings = settings

    def _allowed(self, filters: dict[str, Any] | None) -> set[str] | None:
        if not filters:
            return None
        allowed = set()
        for cid, chunk in self.snapshot.chunks.items():
            ok = True
            for key, value in filters.items():
                have = getattr(chunk, key, None)
                want = set(value) if isinstance(value, list | tuple | set) else {value}
                ok &= have in want
            if ok:
                allowed.add(cid)
        return allowed

    def search(self, query: str, top_k: int | None = None, filters: dict[str, Any] | None = None) -> Retrieval:
        s = self.settings
        top_k = top_k or s.top_k
        snap = self.snapshot
        allowed = self._allowed(filters)
        dense = snap.vector.search(self.embeddings.embed_query(query), s.candidate_k, _where(filters))
        lexical = snap.lexical.search(query, s.candidate_k, allowed)

        fused: dict[str, Hit] = {}
        for rank, (cid, sim) in enumerate(dense, 1):
            if cid not in snap.chunks:
                continue
            hit = fused.setdefault(cid, Hit(chunk=snap.chunks[cid], score=0.0))
            hit.score += s.dense_weight / (s.rrf_k + rank)
            hit.dense_score, hit.dense_rank = sim, rank
        for rank, (cid, bm25) in enumerate(lexical, 1):
            if cid not in snap.chunks:
                continue
            hit = fused.setdefault(cid, Hit(chunk=snap.chunks[cid], score=0.0))
            hit.score += s.lexical_weight / (s.rrf_k + rank)
            hit.lexical_score, hit.lexical_rank = bm25, rank
        hits = sorted(fused.values(), key=lambda h: h.score, reverse=True)[:top_k]
        return Retrieval(query=query, hits=hits, gate=self.gate(query, hits, dense))

    def gate(self, query: str, hits: list[Hit], dense: list[tuple[str, float]]) -> Gate:
        """Does the corpus answer this? Weighted share of the question's salient terms found in the top
        passages (rare terms weigh more; terms absent from the corpus weigh most), or a very close dense match."""
        top_dense = dense[0][1] if dense else 0.0
        if not hits:
            return Gate(passed=False, coverage=0.0, top_dense=top_dense)
        lex = self.snapshot.lexical
        terms = [t for t in salient_terms(query) if not META_WORDS.fullmatch(t)]
        if not terms:
            return Gate(passed=True, coverage=1.0, top_dense=top_dense)
        haystack = "\n".join(h.chunk.lexical_text().lower() for h in hits[:3])
        total = found = 0.0
        missing = []
        for t in terms:
            w = lex.idf(t)
            total += w
            if t in haystack:
                found += w
            elif lex.doc_freq(t) == 0:
                missing.append(t)
        coverage = found / total if total else 1.0
        passed = coverage >= self.settings.min_coverage or top_dense >= self.settings.min_dense_score
        return Gate(passed=passed, coverage=round(coverage, 4), top_dense=round(top_dense, 4), missing_terms=missing)
