"""Policy strategy: when a policy takes effect, how long it is valid, whether it is a trial, a draft or repealed —
answered from what ingest read out of the document's own text (``DocumentMeta.effective_*``, ``validity_*``,
``status``), quoting the sentence it came from.

When the question asks for a date the document does not give (a 征求意见稿 has no 施行日期), the strategy
answers nothing and the assistant refuses: another date of the document (its 成文日期, an application deadline)
is not the answer.
"""

from __future__ import annotations

from assistant.answer.strategies.base import AnswerContext, Draft, citation
from assistant.prompts import render
from assistant.types import Chunk, Document


def _holder(ctx: AnswerContext, doc: Document, quote: str) -> Chunk | None:
    """The chunk whose text holds ``quote`` (the first, in document order)."""
    at = doc.text.find(quote)
    if at < 0:
        return None
    chunks = ctx.chunks_of(doc.meta.source)
    return next((c for c in chunks if c.start <= at and at + len(quote) <= c.end), None) or next(
        (c for c in chunks if quote in c.text), None)


class PolicyStrategy:
    name = "policy"

    def draft(self, ctx: AnswerContext) -> Draft | None:
        rules = ctx.rules.answer.policy
        q = ctx.analysis.text
        asks = [k for k, pattern in (("effective", rules.effective), ("validity", rules.validity),
                                     ("status", rules.status)) if pattern.search(q)]
        if not asks or not ctx.hits:
            return None
        doc = ctx.documents.get(ctx.hits[0].chunk.source)
        if doc is None:
            return None
        m = doc.meta
        facts: list[tuple[str, str]] = []  # (what, verbatim sentence)
        if "effective" in asks and m.effective_text:
            facts.append((f"自{m.effective_date}起施行" if m.effective_date else "施行日期", m.effective_text))
        if "validity" in asks and m.validity_text:
            what = f"有效期至{m.expiry_date}" if m.expiry_date else f"有效期{m.validity_period}" if m.validity_period else "有效期"
            facts.append((what, m.validity_text))
        if "status" in asks and m.status:
            line = next((ln for ln in doc.text.split("\n") if any(s in ln for s in m.status)), "")
            if line:
                facts.append(("、".join(m.status), line.strip()))
        if not facts:
            # asked for a date of the policy the text does not give: refuse rather than quote another date
            return Draft.nothing() if asks != ["status"] else None
        citations, items = [], []
        for what, quote in dict.fromkeys(facts):
            holder = _holder(ctx, doc, quote)
            if holder is None:
                continue
            n = len(citations) + 1
            citations.append(citation(holder, n, quote))
            items.append({"what": what, "quote": quote, "n": n})
        if not citations:
            return Draft.nothing()
        return Draft(render(ctx.settings.prompts_dir, "policy_answer", title=m.title, items=items), citations)
