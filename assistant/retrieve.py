"""Hybrid retrieval: dense (Chroma) + lexical (BM25) fused by reciprocal rank, then a relevance gate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from assistant.answer.text import sentences
from assistant.index.lexical import known_word
from assistant.index.sentences import unit
from assistant.index.snapshot import Snapshot
from assistant.near_duplicates import Grouper, distinct_ranks
from assistant.question import QuestionAnalysis, TermWeights, analyse, corpus_word_for, is_phrasing, weigh
from assistant.rules import Rules, load_rules
from assistant.settings import Settings
from assistant.synonyms import load_synonyms, variants
from assistant.types import DocumentMeta, Gate, Hit
from embeddings.base import PolicyEmbeddings


def is_place(term: str, rules: Rules | None = None) -> bool:
    """A dictionary word naming a district/city/province (rules ``gate.place``; not a segmentation artefact
    like '市和区')."""
    return bool((rules or load_rules()).gate.place.fullmatch(term)) and bool(known_word(term))


@dataclass
class Retrieval:
    query: str
    hits: list[Hit]
    gate: Gate
    analysis: QuestionAnalysis  # the query understood once, shared by the gate and the answerer
    weights: TermWeights
    query_vector: np.ndarray | None = None  # unit vector of the query, when the dense side embedded it


DOCUMENT_FILTERS = frozenset({"kind", "issuer", "status", "exclude_status", "valid_on"})


def document_passes(meta: DocumentMeta, key: str, value: Any) -> bool:
    """One document-level filter: kind/issuer (any of), status (has any of), exclude_status (has none of),
    valid_on (ISO date within 施行日期…有效期 as far as the text gives them, and not 废止)."""
    values = set(value) if isinstance(value, list | tuple | set) else {value}
    if key in ("kind", "issuer"):
        return getattr(meta, key) in values
    if key == "status":
        return bool(values & set(meta.status))
    if key == "exclude_status":
        return not values & set(meta.status)
    day = str(value)
    return "废止" not in meta.status and (not meta.effective_date or meta.effective_date <= day) and (
        not meta.expiry_date or day <= meta.expiry_date)


def _where(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """The Chroma ``where`` for chunk-level filters (document-level ones are applied to the results)."""
    filters = {k: v for k, v in (filters or {}).items() if k not in DOCUMENT_FILTERS}
    if not filters:
        return None
    clauses = []
    for key, value in filters.items():
        if isinstance(value, list | tuple | set):
            clauses.append({key: {"$in": list(value)}})
        else:
            clauses.append({key: value})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def blank_instructions(text: str, pattern: re.Pattern[str] | None) -> str:
    """``text`` with every sentence that ``pattern`` finds replaced by spaces (line breaks kept)."""
    if pattern is None or not pattern.search(text):
        return text
    chars = list(text)
    for span in sentences(text):
        if pattern.search(span.text):
            chars[span.start : span.end] = [c if c == "\n" else " " for c in chars[span.start : span.end]]
    return "".join(chars)


class HybridRetriever:
    """``rules`` (the question and gate sections) default to the file at ``settings.rules_path``."""

    def __init__(
        self, snapshot: Snapshot, embeddings: PolicyEmbeddings, settings: Settings, rules: Rules | None = None
    ) -> None:
        self.snapshot = snapshot
        self.embeddings = embeddings
        self.settings = settings
        self.rules = rules or load_rules(settings.rules_path)

    def _allowed(self, filters: dict[str, Any] | None) -> set[str] | None:
        """Chunk ids that pass the filters: chunk fields (source, doc_number …) or the document's policy facts
        (``DOCUMENT_FILTERS``: kind, issuer, status, exclude_status, valid_on)."""
        if not filters:
            return None
        allowed = set()
        docs = self.snapshot.documents
        for cid, chunk in self.snapshot.chunks.items():
            doc = docs.get(chunk.source)
            ok = True
            for key, value in filters.items():
                if key in DOCUMENT_FILTERS:
                    ok &= doc is not None and document_passes(doc.meta, key, value)
                    continue
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
        qa = analyse(query, self.rules)
        tw = weigh(qa, snap.lexical, self.synonyms(), self.rules)
        # Near-duplicate passages count once (near_duplicates.py): BM25 scores every chunk anyway, so its list
        # comes duplicate_depth times deeper at no cost; the dense list is fetched deeper only when it came back
        # full of copies (fewer than candidate_k distinct passages).
        grouping = s.duplicate_similarity <= 1.0
        deep = s.candidate_k * (s.duplicate_depth if grouping else 1)
        lexical = snap.lexical.search(self.expand(query, qa), deep, allowed)
        vector: list[float] | None = None
        if s.dense_mode == "adaptive" and self._lexically_complete(tw, lexical[: s.candidate_k]):
            dense: list[tuple[str, float]] = []  # every salient term is already in BM25's top passages
        else:
            vector = self.embeddings.embed_query(query)
            dense = snap.vector.search(vector, s.candidate_k, _where(filters))

        grouper = Grouper(lambda cid: snap.chunks[cid].text, s.duplicate_similarity, snap.grams)
        dense_full = len(dense) >= s.candidate_k  # came back full (before filtering): copies may have filled it
        lexical, dense = self._known(lexical, None), self._known(dense, allowed)
        dense_rows, lexical_rows = distinct_ranks([dense, lexical], grouper, s.candidate_k)
        if grouping and vector is not None and dense_full and len(dense_rows) < s.candidate_k:
            dense = self._known(snap.vector.search(vector, deep, _where(filters)), allowed)
            dense_rows, lexical_rows = distinct_ranks([dense, lexical], grouper, s.candidate_k)
        fused: dict[str, Hit] = {}
        for group, _cid, sim, rank in dense_rows:
            hit = fused.setdefault(group, Hit(chunk=snap.chunks[group], score=0.0))
            hit.score += s.dense_weight / (s.rrf_k + rank)
            hit.dense_score, hit.dense_rank = sim, rank
        for group, _cid, bm25, rank in lexical_rows:
            hit = fused.setdefault(group, Hit(chunk=snap.chunks[group], score=0.0))
            hit.score += s.lexical_weight / (s.rrf_k + rank)
            hit.lexical_score, hit.lexical_rank = bm25, rank
        ranked = sorted(fused.values(), key=lambda h: h.score, reverse=True)[:top_k]
        hits = [self.without_instructions(self.with_copies(h, grouper)) for h in ranked]
        return Retrieval(query, hits, self.gate(qa, tw, hits, dense[: s.candidate_k]), qa, tw, unit(vector) if vector is not None else None)

    def _known(self, ranked: list[tuple[str, float]], allowed: set[str] | None) -> list[tuple[str, float]]:
        """``ranked`` without ids the snapshot lacks (and, given ``allowed``, ids outside it)."""
        chunks = self.snapshot.chunks
        return [(cid, v) for cid, v in ranked if cid in chunks and (allowed is None or cid in allowed)]

    def with_copies(self, hit: Hit, grouper: Grouper) -> Hit:
        """``hit`` with the other documents that hold a near duplicate of its passage (``also_in``)."""
        head = hit.chunk.id
        sources = {self.snapshot.chunks[c].source for c, g in grouper.group.items() if g == head and c != head}
        sources.discard(hit.chunk.source)
        return hit.model_copy(update={"also_in": sorted(sources)}) if sources else hit

    def without_instructions(self, hit: Hit) -> Hit:
        """``hit`` with its instruction-like sentences (``gate.instruction``: prompt injection) blanked, so neither
        the gate nor the answerer can take them as evidence; the text keeps its length and line breaks."""
        text = blank_instructions(hit.chunk.text, self.rules.gate.instruction)
        if text == hit.chunk.text:
            return hit
        return hit.model_copy(update={"chunk": hit.chunk.model_copy(update={"text": text})})

    def _lexically_complete(self, tw: TermWeights, lexical: list[tuple[str, float]]) -> bool:
        g = self.rules.gate
        if len(lexical) < g.dense_skip_min_hits or len(tw.weights) < g.dense_skip_min_terms:
            return False
        top = "\n".join(
            self.snapshot.chunks[cid].lexical_text() for cid, _ in lexical[: g.dense_skip_passages] if cid in self.snapshot.chunks
        )
        return tw.cover(top) >= self.settings.dense_skip_coverage

    @cached_property
    def _synonyms(self) -> dict[str, frozenset[str]]:
        extra = self.settings.corpus_dir / "synonyms.txt"  # looked for once per retriever (one per question)
        return load_synonyms(str(extra) if extra.exists() else None)

    def synonyms(self) -> dict[str, frozenset[str]]:
        return self._synonyms

    def expand(self, query: str, qa: QuestionAnalysis) -> str:
        """The query plus synonyms of its salient terms (for BM25)."""
        table = self.synonyms()
        extra = {v for t in qa.terms for v in variants(t, table)} - {query}
        return query + (" " + " ".join(sorted(extra)) if extra else "")

    def gate(self, qa: QuestionAnalysis, tw: TermWeights, hits: list[Hit], dense: list[tuple[str, float]]) -> Gate:
        """Does the corpus answer this? Refuse rather than answer from a near miss.

        - coverage: the share of the question's salient terms (weighted by corpus IDF, so rare terms and terms the
          corpus never uses weigh most) found in the top passages;
        - hard checks on the passages that best match: a number or year the question names must be there; a
          place the corpus never mentions means another jurisdiction; a question asking for an amount, rate,
          phone, address, deadline, count, condition or person needs a passage that contains one.
        """
        top_dense = dense[0][1] if dense else 0.0
        if not hits:
            return Gate(passed=False, coverage=0.0, top_dense=top_dense)
        g, rules = self.rules.gate, self.rules
        lex = self.snapshot.lexical
        texts = [h.chunk.lexical_text().lower() for h in hits[: g.top_passages]]
        union = "\n".join(texts)
        coverage = tw.cover(union)
        missing = [  # words no document uses — not a jieba fragment of one (征求意见稿里 → 稿里)
            t for t in qa.terms if not lex.used(t) and not is_phrasing(t, rules) and not tw.found(t) & tw.found(union)
            and corpus_word_for(t, qa.text, lex) is None
        ][: g.missing_terms_max]
        per_hit = [tw.cover(t) for t in texts]
        best = max(per_hit)
        kind = rules.question.answer_type(qa.answer_type)
        window = kind.window if kind else 0
        # the passages that may answer: those near the best one's coverage — and, for contact details (a kind with
        # a window), every passage of the best one's document (its contact table)
        top_source = hits[per_hit.index(best)].chunk.source
        answer_texts = [t for t, h, c in zip(texts, hits[: len(texts)], per_hit, strict=True)
                        if c >= g.answer_passage_factor * best or (window and h.chunk.source == top_source)]
        type_words = kind.type_words if kind else None
        topic = TermWeights(
            {t: w for t, w in tw.weights.items() if not (type_words and type_words.search(t))},
            {t: f for t, f in tw.forms.items() if not (type_words and type_words.search(t))},
        )

        def passes(text: str) -> bool:
            if any(n.lower() not in text for n in qa.numbers):
                return False
            if qa.answer_pattern is None:
                return True
            # The kind of answer asked for must stand in a sentence about the question's topic — or, for a kind
            # with a ``window`` (contact details), next to one: a contact line never names the topic itself.
            sents = [sp.text for sp in sentences(text)]
            covers = [topic.cover(x) for x in sents]
            floor = g.topic_sentence_factor * max(covers, default=0.0)
            for i, x in enumerate(sents):
                if qa.answer_pattern.search(x):
                    near = max(covers[max(0, i - window): i + window + 1])
                    if near > 0 and near >= floor:
                        return True
            return False

        reason = ""
        if any(is_place(t, rules) and not lex.used(t) for t in qa.terms):
            reason = "place"
        elif not any(passes(t) for t in answer_texts):
            reason = "answer_type" if qa.answer_type else "number"
        s = self.settings
        soft = coverage >= s.min_coverage or (coverage >= s.min_coverage_dense_assist and top_dense >= s.min_dense_score)
        passed = soft and not reason
        return Gate(
            passed=passed,
            coverage=round(coverage, 4),
            top_dense=round(top_dense, 4),
            missing_terms=missing,
            reason=reason or ("" if passed else "coverage"),
        )
