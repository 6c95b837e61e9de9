"""Table strategy: when the best-matching sentence is a row of a table (ingest joins a row's cells with
``answer.table.separator``, " | "), answer with the table's header row and the matching row(s), so each value
comes with the name of its column.

It fires only then; otherwise the sentence strategy answers. The header is the first line of the run of
table lines around the best row in that chunk; rows scoring at least ``row_factor`` × the best row join it
(table order, at most ``max_rows``).
"""

from __future__ import annotations

import re

from assistant.answer.strategies.base import AnswerContext, Draft, citation
from assistant.answer.strategies.sentence import best_sentence

_LINE = re.compile(r"[^\n]+")


class TableStrategy:
    name = "table"

    def draft(self, ctx: AnswerContext) -> Draft | None:
        scored = ctx.scored
        if not scored:
            return None
        rules = ctx.rules.answer.table
        best = best_sentence(scored)
        chunk = best.hit.chunk
        lines = [(m.start(), m.end()) for m in _LINE.finditer(chunk.text)]
        at = next((i for i, (s, e) in enumerate(lines) if s <= best.span.start < e), None)
        if at is None or rules.separator not in chunk.text[lines[at][0] : lines[at][1]]:
            return None

        def is_row(i: int) -> bool:
            return rules.separator in chunk.text[lines[i][0] : lines[i][1]]

        first = at
        while first > 0 and is_row(first - 1):
            first -= 1
        last = at
        while last + 1 < len(lines) and is_row(last + 1):
            last += 1
        if at == first:
            return None  # the header itself matched best: no row to show, let the sentence strategy answer

        def line_score(i: int) -> float:
            s, e = lines[i]
            own = [x.p for x in scored if x.hit is best.hit and s <= x.span.start < e]
            return max(own, default=float("-inf"))

        rows = [i for i in range(first + 1, last + 1) if i == at or line_score(i) >= rules.row_factor * best.p]
        if len(rows) > rules.max_rows:
            keep = sorted(sorted(rows, key=lambda i: (i != at, -line_score(i)))[: rules.max_rows])
            rows = keep
        header = chunk.text[lines[first][0] : lines[first][1]].strip()
        citations = [citation(chunk, 1, header)]
        parts = [f"{header}[1]"]
        for i in rows:
            quote = chunk.text[lines[i][0] : lines[i][1]].strip()
            n = len(citations) + 1
            citations.append(citation(chunk, n, quote))
            parts.append(f"{quote}[{n}]")
        return Draft("\n".join(parts), citations)
