"""Answer or refuse: the fitted decision model over the chosen answer's evidence.

A wrong figure with a citation is the worst thing this product can say, so the sentence strategy's draft is
checked before it is shown: the evidence (title + section + quote) must hold the question — its rare terms, its
qualifiers, the kind of answer asked for — as the decision model, fitted on the tune split, weighs them. A
qualifier the evidence contradicts (市级 where 国家级 was asked) is reported, so the refusal can say what the
documents do say instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answer.qualifiers import Mismatch
from assistant.answer.scoring import decision_features, scoped_mismatches
from assistant.answer.strategies.base import AnswerContext, Draft
from assistant.answer.strategies.sentence import best_sentence
from assistant.ingest.script import readable


@dataclass
class Decision:
    answer: bool
    p: float
    features: dict[str, float] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)


def evidence_of(draft: Draft) -> tuple[str, str]:
    """(evidence, quote): the draft's quotes with the title and section of each cited chunk."""
    parts, quotes = [], []
    for c in draft.citations:
        parts.append(f"{c.title}\n{c.section}\n{c.quote}")
        quotes.append(c.quote)
    return "\n".join(parts), "\n".join(quotes)


def decide(ctx: AnswerContext, draft: Draft) -> Decision:
    fitted = ctx.fitted
    assert fitted is not None, "decide() needs the fitted models"
    scored = ctx.scored
    evidence, quote = evidence_of(draft)
    # the best sentence the draft quotes (the sentence strategy may quote a lower one that holds the asked-for
    # kind of answer: the confidence is that sentence's, and the margin is against the best one left out)
    quoted = [s for s in scored if s.span.text in quote]
    best = best_sentence(quoted) if quoted else best_sentence(scored) if scored else None
    p_best = best.p if best else 0.0
    p_second = max((s.p for s in scored if s is not best and s.span.text not in quote), default=0.0)
    dense_best = best.features.get("dense") if best else None
    gate = ctx.gate
    qrules = ctx.rules.answer.qualifiers
    slots = ctx.rules.answer.decision.document_slots
    cited = dict.fromkeys(c.source for c in draft.citations)  # each cited document once
    docs = "\n".join(d.text for d in (ctx.documents.get(s) for s in cited) if d is not None)
    ids = {c.chunk_id for c in draft.citations}
    if any(h.chunk.simplified for h in ctx.hits if h.chunk.id in ids):
        # a traditional-Chinese document: the evidence is matched against the question in simplified form
        # (the quote shown stays the document's own text)
        evidence, quote, docs = readable(evidence), readable(quote), readable(docs)
    f = decision_features(
        ctx.analysis, ctx.weights, ctx.qualifiers, qrules, evidence, quote, p_best, p_second, dense_best,
        gate.coverage if gate else 0.0, gate.top_dense if gate else 0.0, bool(gate and gate.passed),
        gate.reason if gate else "", ctx.content_terms, docs, slots,
    )
    p = fitted.decision.prob(f)
    required = ctx.rules.answer.decision.required_types
    if any(kind in required and not pattern.search(quote) for kind, pattern in ctx.analysis.answer_kinds):
        return Decision(False, p, f, [])  # asked for a figure / rate / date … the quote does not hold
    contradicted = scoped_mismatches(ctx.qualifiers, evidence, f"{evidence}\n{docs}", qrules, slots)
    # The answer must carry the question's qualifiers: evidence that has a sibling instead (市级 for 国家级,
    # 2023年 for 2024年) is about something else, however well it scores.
    return Decision(p >= fitted.threshold and not contradicted, p, f, contradicted)
