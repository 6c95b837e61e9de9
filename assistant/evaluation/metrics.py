"""Deterministic metrics: one gold row + what a system produced → ``RowResult``; many → ``Scores``.

Matching rules (documented in eval/gold/README.md):
- a retrieved context is a *hit* when its source is an expected source and, if the row names sections, its
  section path contains one of them (whitespace removed on both sides);
- a key fact is *present* in a text when any of its variants occurs in it, after removing whitespace from both
  (also tried: removing markdown ``**``/``#``, and removing citation markers ``[n]``);
- a citation is *correct* when its quote occurs verbatim in the cited source and that source is expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field, computed_field

from assistant.evaluation.gold import GoldRow
from assistant.types import Answer, Context

CONTEXT_K = 5  # context recall looks at the top-k contexts (the service's default top_k)
MRR_K = 10
RETRIEVAL_K = 10  # how many contexts every system returns for the retrieval metrics
STAGES = ("retrieve", "answer", "total")
QUOTE_KEEP = 200  # characters of each citation quote kept in the report

_WS = re.compile(r"\s+")
_MARKDOWN = re.compile(r"\*\*|#")
_MARKER = re.compile(r"\[\d{1,2}\]")


def squash(text: str) -> str:
    return _WS.sub("", text or "")


def forms(text: str) -> set[str]:
    """The normalised forms a fact is looked for in."""
    flat = squash(text)
    return {flat, _MARKDOWN.sub("", flat), _MARKER.sub("", flat), _MARKER.sub("", _MARKDOWN.sub("", flat))}


def fact_present(variants: Iterable[str], text: str) -> bool:
    haystacks = forms(text)
    for v in variants:
        for needle in {squash(v), _MARKDOWN.sub("", squash(v))}:
            if needle and any(needle in h for h in haystacks):
                return True
    return False


def is_hit(row: GoldRow, source: str, section: str) -> bool:
    if source not in row.expected_sources:
        return False
    if not row.expected_sections:
        return True
    path = squash(section)
    return any(squash(s) in path for s in row.expected_sections)


def first_hit_rank(row: GoldRow, contexts: list[Context]) -> int | None:
    for i, c in enumerate(contexts, 1):
        if is_hit(row, c.source, c.section):
            return i
    return None


class CitationCheck(BaseModel):
    source: str
    quote: str
    verbatim: bool
    expected_source: bool

    @computed_field  # type: ignore[prop-decorator]
    @property
    def correct(self) -> bool:
        return self.verbatim and self.expected_source


class RowResult(BaseModel):
    id: str
    category: str
    answerable: bool
    question: str
    near_miss: bool = False
    history: list[str] = Field(default_factory=list)
    expected_sources: list[str] = Field(default_factory=list)
    expected_sections: list[str] = Field(default_factory=list)
    expected_facts: list[list[str]] = Field(default_factory=list)
    answer: str
    grounded: bool
    first_hit_rank: int | None = None
    context_recall: float | None = None  # share of key facts found in the top-CONTEXT_K contexts
    facts_found: int = 0
    missing_facts: list[str] = Field(default_factory=list)  # first variant of each missing fact
    citations: list[CitationCheck] = Field(default_factory=list)
    answer_chars: int = 0
    timings_ms: dict[str, float] = Field(default_factory=dict)
    retrieved: list[str] = Field(default_factory=list)  # "source § section" of the top contexts, for the report

    @property
    def facts_total(self) -> int:
        return len(self.expected_facts)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def all_facts(self) -> bool:
        return self.answerable and self.facts_found == self.facts_total

    @property
    def correct_citations(self) -> int:
        return sum(c.correct for c in self.citations)

    @property
    def right_doc_cited(self) -> bool:
        """At least one citation names an expected source (verbatim or not)."""
        return any(c.expected_source for c in self.citations)

    def severity(self) -> float:
        """How bad a failure this row is (0 = fine); the report lists the worst ones."""
        if not self.answerable:
            return 3.0 if self.grounded else 0.0
        s = 0.0
        if not self.grounded:
            s += 2.0
        if self.facts_total:
            s += 1.0 - self.facts_found / self.facts_total
        if self.grounded and self.citations:
            s += 1.0 - self.correct_citations / len(self.citations)
        elif self.grounded:
            s += 1.0
        if self.first_hit_rank is None or self.first_hit_rank > 5:
            s += 0.5
        return round(s, 4)


def score_row(
    row: GoldRow,
    answer: Answer,
    contexts: list[Context],
    source_texts: Mapping[str, Iterable[str]],
) -> RowResult:
    """``contexts``: the system's top-RETRIEVAL_K retrieval for the row; ``source_texts``: for each source, the
    texts a quote may be verbatim in (the cleaned document text, and the raw file text)."""
    answer_text = answer.answer if answer.grounded else ""
    missing = [v[0] for v in row.key_facts if not fact_present(v, answer_text)]
    context_recall = None
    if row.answerable:
        top = "\n".join(f"{c.section}\n{c.text}" for c in contexts[:CONTEXT_K])
        context_recall = sum(fact_present(v, top) for v in row.key_facts) / len(row.key_facts)
    checks = []
    for c in answer.citations:
        texts = source_texts.get(c.source, ())
        checks.append(
            CitationCheck(
                source=c.source,
                quote=c.quote if len(c.quote) <= QUOTE_KEEP else c.quote[:QUOTE_KEEP] + "…",  # checked in full
                verbatim=bool(c.quote) and any(c.quote in t for t in texts),
                expected_source=c.source in row.expected_sources,
            )
        )
    return RowResult(
        id=row.id,
        category=row.category,
        answerable=row.answerable,
        question=row.question,
        near_miss=row.near_miss,
        history=row.history,
        expected_sources=row.expected_sources,
        expected_sections=row.expected_sections,
        expected_facts=row.key_facts,
        answer=answer.answer,
        grounded=answer.grounded,
        first_hit_rank=first_hit_rank(row, contexts[:MRR_K]) if row.answerable else None,
        context_recall=context_recall,
        facts_found=len(row.key_facts) - len(missing),
        missing_facts=missing,
        citations=checks,
        answer_chars=len(answer.answer),
        timings_ms=dict(answer.timings_ms),
        retrieved=[f"{c.source} § {c.section}" for c in contexts[:CONTEXT_K]],
    )


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str  # "rate" (0..1), "ms", "chars", "score"
    higher_is_better: bool = True


METRICS: list[Metric] = [
    Metric("hit_at_1", "hit@1", "rate"),
    Metric("hit_at_3", "hit@3", "rate"),
    Metric("hit_at_5", "hit@5", "rate"),
    Metric("mrr_at_10", "MRR@10", "score"),
    Metric("context_recall_at_5", "context recall@5", "rate"),
    Metric("fact_recall", "fact recall (all facts)", "rate"),
    Metric("partial_fact_recall", "partial fact recall", "rate"),
    Metric("citation_precision", "citation precision", "rate"),
    Metric("citation_coverage", "citation coverage", "rate"),
    Metric("right_doc_cited", "right doc cited", "rate"),
    Metric("refusal_rate", "refusal rate (unanswerable)", "rate"),
    Metric("near_miss_refusal_rate", "near-miss refusal rate", "rate"),
    Metric("false_refusal_rate", "false refusal rate", "rate", higher_is_better=False),
    Metric("answer_chars_mean", "answer length mean", "chars", higher_is_better=False),
    Metric("answer_chars_p95", "answer length p95", "chars", higher_is_better=False),
    *(
        Metric(f"latency_{stage}_{p}", f"latency {stage} {p}", "ms", higher_is_better=False)
        for stage in STAGES
        for p in ("p50", "p95")
    ),
]
METRIC_BY_KEY = {m.key: m for m in METRICS}


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


class Scores(BaseModel):
    n: int
    n_answerable: int
    n_unanswerable: int
    n_citations: int
    values: dict[str, float | None]


def aggregate(results: list[RowResult]) -> Scores:
    """Retrieval and answer metrics over answerable rows; refusal over unanswerable rows; latency over all."""
    ans = [r for r in results if r.answerable]
    una = [r for r in results if not r.answerable]
    ranks = [r.first_hit_rank for r in ans]
    v: dict[str, float | None] = {}
    for k in (1, 3, 5):
        v[f"hit_at_{k}"] = _mean([1.0 if rk is not None and rk <= k else 0.0 for rk in ranks])
    v["mrr_at_10"] = _mean([1.0 / rk if rk is not None and rk <= MRR_K else 0.0 for rk in ranks])
    v["context_recall_at_5"] = _mean([r.context_recall for r in ans if r.context_recall is not None])
    v["fact_recall"] = _mean([1.0 if r.all_facts else 0.0 for r in ans])
    v["partial_fact_recall"] = _mean([r.facts_found / r.facts_total for r in ans if r.facts_total])
    cites = [c for r in ans for c in r.citations]
    v["citation_precision"] = _mean([1.0 if c.correct else 0.0 for c in cites])
    v["citation_coverage"] = _mean([1.0 if r.correct_citations else 0.0 for r in ans])
    v["right_doc_cited"] = _mean([1.0 if r.right_doc_cited else 0.0 for r in ans if r.grounded])
    v["refusal_rate"] = _mean([0.0 if r.grounded else 1.0 for r in una])
    v["near_miss_refusal_rate"] = _mean([0.0 if r.grounded else 1.0 for r in una if r.near_miss])
    v["false_refusal_rate"] = _mean([0.0 if r.grounded else 1.0 for r in ans])
    lengths = [float(r.answer_chars) for r in ans]
    v["answer_chars_mean"] = round(float(np.mean(lengths)), 1) if lengths else None
    v["answer_chars_p95"] = _pct(lengths, 95)
    for stage in STAGES:
        times = [r.timings_ms[stage] for r in results if stage in r.timings_ms]
        v[f"latency_{stage}_p50"] = _pct(times, 50)
        v[f"latency_{stage}_p95"] = _pct(times, 95)
    return Scores(n=len(results), n_answerable=len(ans), n_unanswerable=len(una), n_citations=len(cites), values=v)


def per_category(results: list[RowResult]) -> dict[str, Scores]:
    cats: dict[str, list[RowResult]] = {}
    for r in results:
        cats.setdefault(r.category, []).append(r)
    return {c: aggregate(rows) for c, rows in cats.items()}


def worst(results: list[RowResult], n: int = 10) -> list[RowResult]:
    bad = [r for r in results if r.severity() > 0]
    return sorted(bad, key=lambda r: (-r.severity(), r.id))[:n]
