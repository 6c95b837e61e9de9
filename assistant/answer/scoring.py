"""Fitted scoring: which sentence answers, and whether to answer at all.

Two logistic models over structural features, fitted on the tune split (``assistant eval --fit``) and stored as
a data file (``assistant/data/fitted.json``), replace hand-set weights:

- the **sentence model** scores each sentence of the top passages: how much of the question it and its
  heading/title hold, how much it holds beyond the title (the item-specific words), its semantic similarity
  to the question (sentence vectors from ingest), whether it holds the kind of answer asked for (an amount, a
  date, a phone number …), the question's numbers and qualifiers, and where it stands (preamble, signature
  block, a list item, a lead-in "…如下：");
- the **decision model** takes the chosen answer's evidence (quote + section + title) and decides answer vs.
  refuse: the share of the question the evidence holds, the weight of the biggest missing term, a qualifier
  the evidence contradicts (市级 where 国家级 was asked), the sentence model's confidence and margin, and the
  retrieval gate's verdicts as features rather than hard rules. Only evidence is a feature, nothing about the
  question's form (a list question, its length): else the model learns "list questions are answerable".

Features are plain floats named in ``SENTENCE_FEATURES`` / ``DECISION_FEATURES``; a model file names the
features it was fitted on, so a stale file is caught at load.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator

from assistant.answer.qualifiers import Qualifier, QualifierRules, mismatches
from assistant.answer.text import Span
from assistant.errors import ConfigError
from assistant.ingest.chunking import BODY_SECTION, FOOTER_SECTION, HEADER_SECTION
from assistant.ingest.headings import numbering, visual_len
from assistant.ingest.script import readable
from assistant.question import QuestionAnalysis, TermWeights
from assistant.types import Hit

FITTED_PATH = Path(__file__).resolve().parent.parent / "data" / "fitted.json"

SENTENCE_FEATURES = (
    "ctx_cover", "own_cover", "novel_cover", "section_cover", "dense", "dense_gap", "type_match", "number_match",
    "qual_ok", "qual_sibling", "rank", "fused", "header", "footer", "body", "short", "log_len", "item", "lead_in",
    "first_in_chunk", "heading", "bigram", "bigram_gap",
)
DECISION_FEATURES = (
    "p_best", "margin", "ev_cover", "doc_cover", "missing_max", "missing_share", "content_missing",
    "content_missing_max", "dense_best", "top_dense", "gate_coverage", "gate_pass", "gate_place", "gate_type",
    "type_match", "qual_sibling", "qual_missing",
)


class LinearModel(BaseModel):
    """A logistic model: p = σ(bias + Σ wᵢ·xᵢ), features by name (missing features count 0)."""

    features: list[str]
    weights: list[float]
    bias: float = 0.0

    @model_validator(mode="after")
    def _same_length(self) -> LinearModel:
        if len(self.features) != len(self.weights):
            raise ValueError("features and weights must have the same length")
        return self

    def logit(self, x: dict[str, float]) -> float:
        return self.bias + sum(w * x.get(f, 0.0) for f, w in zip(self.features, self.weights, strict=True))

    def prob(self, x: dict[str, float]) -> float:
        return sigmoid(self.logit(x))


class FittedScoring(BaseModel):
    """What ``assistant eval --fit`` writes: both models, the decision threshold, and how they were fitted."""

    sentence: LinearModel
    decision: LinearModel
    threshold: float = Field(ge=0.0, le=1.0)  # answer when the decision model's p ≥ this
    neighbour_ratio: float = Field(default=0.6, ge=0.0, le=1.0)  # a neighbour joins the quote at p ≥ ratio·p_best
    # Close runners-up from the best sentence's document join the answer, each cited, at p ≥ ratio·p_best (at
    # most ``runner_max``): when the model cannot tell which of two sentences answers, show both rather than
    # guess. Fitted (``fit.choose_runner_ratio``); 1.0 leaves only exact ties.
    runner_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    runner_max: int = Field(default=2, ge=0, le=5)
    top_passages: int = Field(default=5, ge=1, le=20)  # sentences are drawn from this many top passages
    procedure: str = ""
    fitted_on: list[str] = Field(default_factory=list)
    metrics: dict[str, float | int | str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_features(self) -> FittedScoring:
        for name, model, known in (("sentence", self.sentence, SENTENCE_FEATURES),
                                   ("decision", self.decision, DECISION_FEATURES)):
            unknown = set(model.features) - set(known)
            if unknown:
                raise ValueError(f"{name} model names unknown features {sorted(unknown)}: refit with `assistant eval --fit`")
        return self


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> FittedScoring:
    try:
        return FittedScoring.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"评分模型文件 {path} 无效：{exc}", "请运行 `assistant eval --fit` 重新拟合。") from exc


def load_fitted(path: Path | str | None = None) -> FittedScoring | None:
    """The fitted models, or None when no file is there (the answerer then uses the rules' hand weights)."""
    p = Path(path) if path is not None else FITTED_PATH
    if not p.is_file():
        return None
    return _load(str(p), p.stat().st_mtime)


# ---- features -------------------------------------------------------------------------------------------------
_WORDISH = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]{2}")


def _bigrams(text: str) -> set[str]:
    """The character bigrams of a text that are two word characters (CJK, digits, letters): no punctuation."""
    return {text[i : i + 2] for i in range(len(text) - 1) if _WORDISH.fullmatch(text[i : i + 2])}


def bigram_overlaps(question: str, texts: list[str], titles: list[str]) -> list[float]:
    """Each candidate sentence's share of the question's character bigrams, each bigram weighted by its rarity
    among the candidates (IDF over ``texts``); bigrams of the documents' titles do not count (every sentence
    under a title answers them). Word segmentation is not involved, so 申报材料 still meets 所需材料 and
    截止 meets 截至 halfway — where jieba's tokens and the corpus's words part, characters still match."""
    qb = _bigrams(re.sub(r"\s+", "", question))
    for title in titles:
        qb -= _bigrams(title)
    if not qb or not texts:
        return [0.0] * len(texts)
    sets = [_bigrams(t) & qb for t in texts]
    n = len(texts)
    df: dict[str, int] = {}
    for s in sets:
        for b in s:
            df[b] = df.get(b, 0) + 1
    weight = {b: math.log((n + 1) / (df.get(b, 0) + 0.5)) for b in qb}
    total = sum(weight.values()) or 1.0
    return [sum(weight[b] for b in s) / total for s in sets]


def scoped_mismatches(qualifiers: list[Qualifier], local: str, document: str, qrules: QualifierRules,
                      document_slots: tuple[str, ...]) -> list:
    """Qualifier mismatches, each slot checked where it is written: a year or batch anywhere in the document
    (titles and first paragraphs carry them), a level, place or kind in the answer's own evidence."""
    doc_q = [q for q in qualifiers if q.slot in document_slots]
    local_q = [q for q in qualifiers if q.slot not in document_slots]
    return mismatches(local_q, local, qrules) + mismatches(doc_q, document, qrules)


def scoped_present(qualifiers: list[Qualifier], local: str, document: str, document_slots: tuple[str, ...]) -> float:
    if not qualifiers:
        return 1.0
    return sum(q.value in (document if q.slot in document_slots else local) for q in qualifiers) / len(qualifiers)


def _share(tw: TermWeights, terms: set[str]) -> float:
    total = tw.total
    return sum(tw.weights[t] for t in terms) / total if total else 0.0


def sentence_features(
    qa: QuestionAnalysis,
    tw: TermWeights,
    qualifiers: list[Qualifier],
    qrules: QualifierRules,
    hit: Hit,
    rank: int,
    top: int,
    top_score: float,
    span: Span,
    position: int,
    dense: float | None,
    best_dense: float | None,
    document: str = "",
    document_slots: tuple[str, ...] = (),
) -> dict[str, float]:
    chunk = hit.chunk
    title, section, text = chunk.title, chunk.section, span.text
    if chunk.simplified:  # a traditional-Chinese document: its words are matched in simplified form
        title, section, text, document = (readable(x) for x in (title, section, text, document))
    head = f"{title}\n{section}\n"
    if span.context:  # a table row is read with its header row: 联系人 | 联系电话 name what its cells are
        head += f"{readable(span.context) if chunk.simplified else span.context}\n"
    found_text = tw.found(text)
    evidence = head + text
    f: dict[str, float] = {
        "ctx_cover": tw.cover(evidence),
        "own_cover": tw.cover(text),
        "novel_cover": _share(tw, found_text - tw.found(title)),
        "section_cover": tw.cover(section),
        "rank": 1.0 - rank / max(top, 1),
        "fused": hit.score / top_score if top_score else 0.0,
        "header": float(chunk.section == HEADER_SECTION),
        "footer": float(chunk.section == FOOTER_SECTION),
        "body": float(chunk.section == BODY_SECTION),
        # under no numbered heading at all: a preamble ("为……，根据……，制定本办法"), a cover letter
        "preamble": float(not any(numbering(p) for p in chunk.section.split(" > "))),
        "depth": min(chunk.section.count(" > ") + 1, 4) / 4.0,
        "short": float(visual_len(text) < 6),
        "log_len": math.log1p(len(text)) / 6.0,
        "item": float(numbering(text) is not None),
        "lead_in": float(text.endswith(("：", ":"))),
        "first_in_chunk": float(position == 0),
        "heading": float(span.heading),
    }
    if dense is not None:
        f["dense"] = dense
        f["dense_gap"] = dense - (best_dense if best_dense is not None else dense)
    if qa.answer_pattern is not None:
        f["type_match"] = 1.0 if qa.answer_pattern.search(text) else -1.0
    if qa.numbers:
        f["number_match"] = 1.0 if all(n.lower() in evidence.lower() for n in qa.numbers) else -1.0
    if qualifiers:
        doc = f"{title}\n{document}"
        f["qual_ok"] = scoped_present(qualifiers, evidence, doc, document_slots)
        f["qual_sibling"] = float(bool(scoped_mismatches(qualifiers, evidence, doc, qrules, document_slots)))
    return f


def decision_features(
    qa: QuestionAnalysis,
    tw: TermWeights,
    qualifiers: list[Qualifier],
    qrules: QualifierRules,
    evidence: str,
    quote: str,
    p_best: float,
    p_second: float,
    dense_best: float | None,
    gate_coverage: float,
    top_dense: float,
    gate_pass: bool,
    gate_reason: str,
    content: frozenset[str] = frozenset(),
    document: str = "",
    document_slots: tuple[str, ...] = (),
) -> dict[str, float]:
    found = tw.found(evidence)
    missing = [t for t in tw.weights if t not in found]
    total = tw.total or 1.0
    f: dict[str, float] = {
        "p_best": p_best,
        "margin": p_best - p_second,
        "ev_cover": tw.cover(evidence),
        "missing_max": max((tw.weights[t] / total for t in missing), default=0.0),
        "missing_share": sum(tw.weights[t] for t in missing) / total,
        "top_dense": top_dense,
        "gate_coverage": gate_coverage,
        "gate_pass": float(gate_pass),
        "gate_place": float(gate_reason == "place"),
        "gate_type": float(gate_reason == "answer_type"),
        "doc_cover": tw.cover(document) if document else 0.0,
    }
    content_total = sum(tw.weights[t] for t in content)
    if content_total:
        content_missing = [tw.weights[t] for t in content if t not in found]
        f["content_missing"] = sum(content_missing) / content_total
        f["content_missing_max"] = max(content_missing, default=0.0) / content_total
    if dense_best is not None:
        f["dense_best"] = dense_best
    if qa.answer_pattern is not None:
        f["type_match"] = 1.0 if qa.answer_pattern.search(quote) else -1.0
    if qualifiers:
        doc = f"{evidence}\n{document}"
        f["qual_sibling"] = float(bool(scoped_mismatches(qualifiers, evidence, doc, qrules, document_slots)))
        f["qual_missing"] = 1.0 - scoped_present(qualifiers, evidence, doc, document_slots)
    return f
