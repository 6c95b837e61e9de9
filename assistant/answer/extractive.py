"""The default answerer: no LLM. It quotes the passages that answer the question, through explicit strategies
(``assistant.answer.strategies``), tried in this fixed order; the first that returns a ``Draft`` decides:

1. ``structure`` — enumeration/ordinal questions about a section's sub-headings ("分成哪几大类？", "第二项…");
1b. ``list`` — list questions: every numbered item of the section whose heading names the list, with a count;
2. ``policy`` — 施行日期 / 有效期 / 试行·征求意见稿·废止, from the sentences ingest read them from; a date the
   document does not give is refused, never answered with another date;
3. ``metadata`` — questions about the document itself (文号, 签发人, 日期, 联系电话 …), from its metadata lines;
4. ``ordinal`` — "第二项…": that item of an 一是/二是 enumeration, or a refusal (never another item);
5. ``table`` — the header row + matching row(s) when the best sentence is a table row;
6. ``sentence`` — the sentences scoring best (the fitted sentence model, or the rules' hand weights), widened
   to the whole list for list questions; its draft, like the table's, is then checked by the fitted decision.

Every quote is a verbatim slice of the source document; ``citations.verify`` checks it again, and a draft
left without citations becomes a refusal. The word lists, patterns and weights come from a ``Rules`` object
(default: the file at ``settings.rules_path``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from assistant.answer.citations import verify
from assistant.answer.decision import Decision, decide
from assistant.answer.scoring import FittedScoring, load_fitted
from assistant.answer.strategies import DEFAULT_ORDER, AnswerContext, Draft, Strategy
from assistant.index.lexical import LexicalIndex
from assistant.index.snapshot import Snapshot
from assistant.prompts import render
from assistant.question import analyse, weigh
from assistant.retrieve import Retrieval
from assistant.rules import Rules, load_rules
from assistant.settings import Settings
from assistant.types import Answer, Chunk, Citation, Context, Document

# Strategies whose drafts the fitted decision checks (answers quoted from the text itself).
DECIDED = frozenset({"table", "sentence"})


_PART = re.compile(r"[^？?]+[？?]?")
_MARKER = re.compile(r"\[(\d+)\]")


def question_parts(question: str) -> list[str]:
    """The sub-questions of a question that asks two or more things ("…几点截止？受理截止又是什么时候？")."""
    parts = [p.strip() for p in _PART.findall(question.strip())]
    parts = [p for p in parts if len(p.rstrip("？?")) >= 4]
    return parts if len(parts) >= 2 else []


def join_drafts(first: Draft, second: Draft) -> Draft:
    """Both drafts' quotes, the second's markers renumbered after the first's."""
    offset = len(first.citations)
    text = _MARKER.sub(lambda m: f"[{int(m.group(1)) + offset}]", second.text)
    cites = [c.model_copy(update={"n": c.n + offset}) for c in second.citations]
    return Draft(f"{first.text}\n{text}", first.citations + cites)


def with_policy(citation: Citation, documents: dict[str, Document]) -> Citation:
    """The citation with its document's 施行日期, 有效期 and status, so staff see whether the policy is in force."""
    doc = documents.get(citation.source)
    if doc is None:
        return citation
    m = doc.meta
    return citation.model_copy(update={"effective_date": m.effective_date or None, "expiry_date": m.expiry_date or None,
                                       "status": list(m.status) or None})


class ExtractiveAnswerer:
    def __init__(
        self,
        settings: Settings,
        snapshot: Snapshot,
        synonyms: dict[str, frozenset[str]],
        rules: Rules | None = None,
        *,
        strategies: Sequence[Strategy] | None = None,
        embed: Callable[[str], Sequence[float]] | None = None,
        fitted: FittedScoring | None | bool = True,
    ) -> None:
        self.settings = settings
        self.snapshot = snapshot
        self.lexical: LexicalIndex = snapshot.lexical
        self.synonyms = synonyms
        self.rules = rules or load_rules(settings.rules_path)
        self.strategies: tuple[Strategy, ...] = tuple(strategies) if strategies is not None else tuple(s() for s in DEFAULT_ORDER)
        self.embed = embed
        # True: the fitted models at settings.scoring_path (none there: the rules' hand weights); False: none.
        self.fitted = load_fitted(settings.scoring_path) if fitted is True else (fitted or None)
        self.by_source: dict[str, list[Chunk]] = {}  # strategies look chunks up by document: group them once
        for c in sorted(snapshot.chunks.values(), key=lambda c: (c.source, c.ordinal)):
            self.by_source.setdefault(c.source, []).append(c)

    # ---- public -------------------------------------------------------------------------------------
    def answer(self, question: str, retrieval: Retrieval, documents: dict[str, Document]) -> Answer:
        hits = retrieval.hits
        contexts = [Context.of(h, i) for i, h in enumerate(hits, 1)]
        if not hits:
            return self._refuse(question, retrieval, contexts)
        ctx = self.context(question, retrieval, documents)
        drafted = self.draft(ctx)
        if drafted is None:
            return self._refuse(question, retrieval, contexts)
        name, draft = drafted
        if ctx.fitted is not None and name in DECIDED and not draft.empty:
            decision = decide(ctx, draft)
            if not decision.answer:
                return self._refuse(question, retrieval, contexts, decision=decision, draft=draft)
            draft = self._other_parts(question, retrieval, documents, draft)
        return self._finish(question, draft, documents, contexts, retrieval)

    def _other_parts(self, question: str, retrieval: Retrieval, documents: dict[str, Document], draft: Draft) -> Draft:
        """A question in two parts ("…要盖哪些章？电子版发到哪个邮箱？") gets each part answered: every part is
        analysed on its own over the same passages, and its quote joins when the decision accepts it."""
        parts = question_parts(question)
        if not parts:
            return draft
        quoted = {c.quote for c in draft.citations}
        ctx_vector = retrieval.query_vector
        for part in parts:
            qa = analyse(part, self.rules)
            # the whole question's vector serves its parts (no embedding per part)
            sub = replace(retrieval, query=part, analysis=qa, weights=weigh(qa, self.lexical, self.synonyms, self.rules),
                          query_vector=ctx_vector)
            ctx = self.context(part, sub, documents)
            drafted = self.draft(ctx)
            if drafted is None or drafted[0] not in DECIDED or drafted[1].empty:
                continue
            sources = {c.source for c in draft.citations}  # the parts of one question ask about one document
            extra = [c for c in drafted[1].citations if c.source in sources and c.quote not in quoted
                     and not any(c.quote in q for q in quoted)]
            if not extra or not decide(ctx, drafted[1]).answer:
                continue
            draft = join_drafts(draft, Draft("\n".join(f"{c.quote}[{c.n}]" for c in extra), extra))
            quoted |= {c.quote for c in extra}
        return draft

    def draft(self, ctx: AnswerContext) -> tuple[str, Draft] | None:
        """The first strategy's draft (before the fitted decision), with the strategy's name.

        With the fitted decision, content answers (``DECIDED``) are decided on their evidence and the retrieval
        gate's verdict is one of its features; structure/metadata/ordinal answers still need the gate."""
        learned = ctx.fitted is not None
        for strategy in self.strategies:
            gate = ctx.gate
            if gate is not None and not gate.passed and not (learned and strategy.name in DECIDED):
                continue
            draft = strategy.draft(ctx)
            if draft is not None:
                return strategy.name, draft
        return None

    def context(self, question: str, retrieval: Retrieval, documents: dict[str, Document]) -> AnswerContext:
        return AnswerContext(
            question=question, analysis=retrieval.analysis, weights=retrieval.weights, hits=retrieval.hits,
            documents=documents, chunks=self.snapshot.chunks, lexical=self.lexical, synonyms=self.synonyms,
            rules=self.rules, settings=self.settings, embed=self.embed, fitted=self.fitted,
            sentence_index=self.snapshot.sentences, gate=retrieval.gate, query_vector=retrieval.query_vector,
            by_source=self.by_source,
        )

    def _finish(
        self, question: str, draft: Draft, documents: dict[str, Document], contexts: list[Context], retrieval: Retrieval
    ) -> Answer:
        answer_text, citations = verify(draft.text, draft.citations, documents)
        if not citations:
            return self._refuse(question, retrieval, contexts)
        copies = {c.chunk_id: c.also_in for c in contexts if c.also_in}
        citations = [with_policy(c, documents) for c in citations]
        citations = [c.model_copy(update={"also_in": copies[c.chunk_id]}) if c.chunk_id in copies else c for c in citations]
        return Answer(question=question, answer=answer_text, grounded=True, citations=citations, contexts=contexts)

    # ---- refusal ------------------------------------------------------------------------------------
    def _refuse(
        self, question: str, retrieval: Retrieval, contexts: list[Context], *,
        decision: Decision | None = None, draft: Draft | None = None,
    ) -> Answer:
        closest: list[dict[str, str]] = []
        for h in retrieval.hits:
            if all(d["source"] != h.chunk.source for d in closest):
                closest.append({"source": h.chunk.source, "title": h.chunk.title, "doc_number": h.chunk.doc_number})
        r = self.rules.answer.refusal
        instead, related = None, None
        if decision is not None and decision.mismatches and draft is not None and draft.citations:
            m = decision.mismatches[0]
            first = draft.citations[0].model_copy(update={"n": 1})
            doc = self.snapshot.documents.get(first.source)
            if doc is not None and first.quote in doc.text:  # what the documents say instead, checked verbatim
                instead = {"asked": m.asked, "found": m.found, "quote": first.quote, "title": first.title}
                related = [first]
        missing = retrieval.gate.missing_terms[: r.missing_terms]  # words no document uses (not merely this passage)
        text = render(
            self.settings.prompts_dir, "refusal", question=question.strip().rstrip("？?"),
            missing=missing, closest=closest[: r.closest_documents], instead=instead,
        )
        if not retrieval.hits:
            reason = "no_passages"
        elif decision is not None:
            reason = "qualifier_mismatch" if instead else "evidence"
        else:
            reason = "relevance_gate"
        return Answer(question=question, answer=text, grounded=False, citations=[], contexts=contexts,
                      refusal_reason=reason, related=related)
