"""What every answering strategy takes (``AnswerContext``) and gives back (``Draft``).

A strategy is a class with a ``name`` and ``draft(ctx) -> Draft | None``:

- ``None``: the question is not this strategy's kind; the answerer tries the next one.
- a ``Draft`` with citations: the answer (text with ``[n]`` markers), verified against the documents next.
- ``Draft.nothing()`` (no citations): the question is this strategy's kind but the passages hold no answer;
  the answerer refuses instead of letting a later strategy answer something else (a "第三项" question never
  gets a different item).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from assistant.answer.qualifiers import Qualifier, question_qualifiers
from assistant.answer.scoring import FittedScoring
from assistant.answer.text import Span
from assistant.index.lexical import LexicalIndex
from assistant.index.sentences import SentenceIndex, unit
from assistant.question import QuestionAnalysis, TermWeights
from assistant.rules import Rules
from assistant.settings import Settings
from assistant.types import Chunk, Citation, Document, Gate, Hit


@dataclass
class Draft:
    text: str
    citations: list[Citation] = field(default_factory=list)

    @classmethod
    def nothing(cls) -> Draft:
        return cls("", [])

    @property
    def empty(self) -> bool:
        return not self.citations


@dataclass
class Scored:
    """A sentence of one of the top passages and how well it answers the question.

    ``score`` orders sentences; ``p`` is on a ratio scale (``score`` itself for the hand weights, the fitted
    sentence model's probability otherwise) for rules like "a neighbour scoring ≥ 0.8 × the best joins"."""

    hit_rank: int
    hit: Hit
    span: Span
    score: float
    p: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class AnswerContext:
    question: str
    analysis: QuestionAnalysis
    weights: TermWeights
    hits: list[Hit]
    documents: dict[str, Document]
    chunks: dict[str, Chunk]  # every chunk of the snapshot, by id
    lexical: LexicalIndex
    synonyms: dict[str, frozenset[str]]
    rules: Rules
    settings: Settings
    embed: Callable[[str], Sequence[float]] | None = None  # query embedder, when a strategy wants one
    fitted: FittedScoring | None = None  # fitted sentence/decision models (None: the rules' hand weights)
    sentence_index: SentenceIndex | None = None  # sentence vectors of the snapshot
    gate: Gate | None = None  # the retrieval gate's verdict (a feature of the fitted decision)
    query_vector: np.ndarray | None = None  # from retrieval when it embedded the query; else computed on demand
    by_source: dict[str, list[Chunk]] | None = None  # the snapshot's chunks per document, in order (grouped once)

    def chunks_of(self, source: str) -> list[Chunk]:
        """The chunks of one document in document order (without a full scan when the answerer grouped them)."""
        if self.by_source is not None:
            return self.by_source.get(source, [])
        return sorted((c for c in self.chunks.values() if c.source == source), key=lambda c: c.ordinal)

    def question_vector(self) -> np.ndarray | None:
        """The question's unit vector for sentence similarity (embedded here only if retrieval did not)."""
        if self.query_vector is None and self.embed is not None and self.sentence_index is not None:
            self.query_vector = unit(list(self.embed(self.analysis.text or self.question)))
        return self.query_vector

    @cached_property
    def content_terms(self) -> frozenset[str]:
        """The question's topic words: not phrasing, not question words (时候, 几份), not the kind of answer."""
        from assistant.question import is_phrasing

        kind = self.rules.question.answer_type(self.analysis.answer_type)
        words = self.rules.answer.decision.question_words
        return frozenset(
            t for t in self.weights.weights
            if t not in words and not is_phrasing(t, self.rules) and not (kind and kind.type_words.search(t))
        )

    @cached_property
    def qualifiers(self) -> list[Qualifier]:
        return question_qualifiers(self.analysis.text or self.question, list(self.analysis.terms),
                                   self.rules.answer.qualifiers)

    @cached_property
    def scored(self) -> list[Scored]:
        """The top passages' sentences, scored once (the ordinal, table and sentence strategies share them)."""
        from assistant.answer.strategies.sentence import score_sentences

        return score_sentences(self)


class Strategy(Protocol):
    name: str

    def draft(self, ctx: AnswerContext) -> Draft | None: ...


def citation(chunk: Chunk, n: int, quote: str, *, section: str | None = None, source: str | None = None) -> Citation:
    return Citation(
        n=n, source=source or chunk.source, title=chunk.title, doc_number=chunk.doc_number, date=chunk.date,
        section=chunk.section if section is None else section, quote=quote, chunk_id=chunk.id,
    )


def quotes_draft(groups: list[tuple[Hit, str]]) -> Draft:
    """Quotes, one a line, each followed by its marker."""
    citations: list[Citation] = []
    parts: list[str] = []
    for hit, text in groups:
        n = len(citations) + 1
        citations.append(citation(hit.chunk, n, text))
        parts.append(f"{text}[{n}]")
    return Draft("\n".join(parts), citations)


def span_text(sents: list[Scored], lo: int, hi: int) -> str:
    """The verbatim chunk text from sentence ``lo`` to sentence ``hi`` (same chunk)."""
    chunk_text = sents[lo].hit.chunk.text
    return chunk_text[sents[lo].span.start : sents[hi].span.end]
