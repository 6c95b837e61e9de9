"""Ordinal strategy: "第三项…" picks that item of an 一是/二是 (or （一）, 1、) enumeration, or nothing.

It claims every ordinal question that the structure strategy did not answer: when no passage has that item,
the answer is a refusal, never a different item.
"""

from __future__ import annotations

from assistant.answer.strategies.base import AnswerContext, Draft, quotes_draft, span_text
from assistant.types import Hit

_CN_NUM = "一二三四五六七八九十"


class OrdinalStrategy:
    name = "ordinal"

    def draft(self, ctx: AnswerContext) -> Draft | None:
        n = ctx.analysis.ordinal
        if not n:
            return None
        found = self.items(ctx, n)
        # The same item may start near the end of one chunk and in full in the next (overlap): take the fullest.
        return quotes_draft([max(found, key=lambda f: len(f[1]))]) if found else Draft.nothing()

    @staticmethod
    def items(ctx: AnswerContext, n: int) -> list[tuple[Hit, str]]:
        scored = ctx.scored
        head_chars = ctx.rules.answer.enumeration.item_head_chars
        cn = _CN_NUM[n - 1] if 1 <= n <= 10 else str(n)
        starts = (f"{cn}是", f"（{cn}）", f"({cn})", f"{n}、", f"{n}.")
        nxt = _CN_NUM[n] if n < 10 else ""
        next_starts = (f"{nxt}是", f"（{nxt}）", f"{n + 1}、") if nxt else ()
        found: list[tuple[Hit, str]] = []
        for s in sorted(scored, key=lambda x: (x.hit_rank, -x.score)):
            head = s.span.text[:head_chars]
            if not any(head.startswith(p) or (p.endswith("是") and p in head) for p in starts):
                continue
            sents = [x for x in scored if x.hit is s.hit]
            lo = hi = sents.index(s)
            while hi + 1 < len(sents) and not any(p in sents[hi + 1].span.text[:head_chars] for p in next_starts) \
                    and len(span_text(sents, lo, hi + 1)) <= ctx.settings.max_answer_chars:
                hi += 1
            found.append((s.hit, span_text(sents, lo, hi)))
        return found
