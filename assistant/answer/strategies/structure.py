"""Structure strategy: "重点任务分成哪几大类？" lists the sub-headings of the section the question names, and
"第二项…" after such a list answers that sub-section (as its own list, or its opening sentences).

Only for enumeration and ordinal questions, and only when the document title and the section path together
cover nearly the whole question (``answer.structure.min_cover``) and the heading itself a real part of it.
"""

from __future__ import annotations

from assistant.answer.strategies.base import AnswerContext, Draft, citation
from assistant.answer.text import sentences
from assistant.ingest.chunking import PATH_SEP
from assistant.prompts import render
from assistant.question import QuestionAnalysis, TermWeights, analyse, weigh
from assistant.types import Chunk, Hit

_Best = tuple[float, str, tuple[str, ...], list[tuple[str, Chunk]]]


class StructureStrategy:
    name = "structure"

    def draft(self, ctx: AnswerContext) -> Draft | None:
        qa = ctx.analysis
        if not (qa.enumeration or qa.ordinal):
            return None
        return self.answer(ctx, qa, ctx.weights, ctx.hits)

    def answer(
        self, ctx: AnswerContext, qa: QuestionAnalysis, tw: TermWeights, hits: list[Hit],
        only: tuple[str, tuple[str, ...]] | None = None,
    ) -> Draft | None:
        r = ctx.rules.answer.structure
        sources = [only[0]] if only else list(dict.fromkeys(h.chunk.source for h in hits[: r.top_passages]))
        best: _Best | None = None
        for source in sources:
            chunks = ctx.chunks_of(source)
            paths = [(tuple(c.section.split(PATH_SEP)), c) for c in chunks]
            prefixes = {p[:i] for p, _ in paths for i in range(1, len(p))}
            if only:
                prefixes = {only[1]} & prefixes
            for prefix in prefixes:
                children: dict[str, Chunk] = {}
                for p, c in paths:
                    if len(p) > len(prefix) and p[: len(prefix)] == prefix:
                        children.setdefault(p[len(prefix)], c)
                if len(children) < r.min_children:
                    continue
                heading = prefix[-1]
                own = tw.cover(heading)
                score = tw.cover(chunks[0].title + "\n" + " ".join(prefix)) + own
                if own >= r.heading_min_cover and (best is None or score > best[0]):
                    best = (score, source, prefix, list(children.items()))
        # The title and heading together must cover nearly the whole question, the heading a real part of it.
        if best is None or (best[0] - tw.cover(best[2][-1]) < r.min_cover and not only):
            return None
        _, source, prefix, children = best
        if qa.ordinal:
            return self.item(ctx, qa.ordinal, source, prefix, children, hits)
        citations = []
        items = []
        for text, chunk in children:
            n = len(citations) + 1
            citations.append(citation(chunk, n, text, section=PATH_SEP.join(prefix + (text,)), source=source))
            items.append({"text": text, "n": n})
        title = children[0][1].title
        text = render(ctx.settings.prompts_dir, "structure_answer", title=title, heading=prefix[-1], items=items)
        return Draft(text, citations)

    def item(
        self, ctx: AnswerContext, n: int, source: str, prefix: tuple[str, ...], children: list[tuple[str, Chunk]],
        hits: list[Hit],
    ) -> Draft | None:
        """"第二项…" after a list of sub-headings: that sub-section, as its own list or its opening sentences."""
        if not 1 <= n <= len(children):
            return None
        heading, chunk = children[n - 1]
        suffix = ctx.rules.answer.structure.item_question_suffix
        sub_tw = weigh(analyse(heading, ctx.rules), ctx.lexical, ctx.synonyms, ctx.rules)
        sub = self.answer(ctx, analyse(heading + suffix, ctx.rules), sub_tw, hits, only=(source, prefix + (heading,)))
        if sub is not None:
            return sub
        sents = sentences(chunk.text)
        end = 0
        for sp in sents:
            if end and sp.end > ctx.settings.max_answer_chars:
                break
            end = sp.end
        quote = chunk.text[:end]
        return Draft(f"{heading}：{quote}[1]", [citation(chunk, 1, quote, source=source)])
