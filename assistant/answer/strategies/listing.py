"""List strategy: "申报需要哪些材料？" gets every item of the section whose heading names the list, with a count.

A section's items are its numbered content lines ('1. 营业执照复印件；', '（三）企业近两年无重大违法记录；', '①…'):
ingest keeps them in their parent's section, so the list is the run of same-numbered lines in that section's
text — wherever the chunks of a long section were cut. The section is chosen by how much of the question its
heading path holds (the title counts less: every section shares it); it fires only for list questions and only
when that section has such a run, else the sentence strategy answers.
"""

from __future__ import annotations

import re

from assistant.answer.strategies.base import AnswerContext, Draft, citation
from assistant.ingest.chunking import PATH_SEP
from assistant.ingest.headings import numbering
from assistant.types import Chunk

_LINE = re.compile(r"[^\n]+")
MIN_HEADING_COVER = 0.25  # the heading must name a real part of the question (材料, 条件, 附件 …)
TITLE_WEIGHT = 0.3
MAX_CHARS = 900  # a longer list is cut after the last whole item that fits


def _runs(text: str) -> list[tuple[int, int, int]]:
    """(start, end, items) of each run of lines numbered alike; a line without a number continues the item."""
    runs: list[tuple[int, int, int]] = []
    kind, start, end, items = None, 0, 0, 0
    for m in _LINE.finditer(text):
        marker = numbering(m.group(0).strip())
        if marker is not None and marker.kind == kind:
            end, items = m.end(), items + 1
        elif marker is not None:
            if kind is not None and items >= 2:
                runs.append((start, end, items))
            kind, start, end, items = marker.kind, m.start(), m.end(), 1
        elif kind is not None and m.group(0).strip().endswith(("：", ":")):
            if items >= 2:
                runs.append((start, end, items))
            kind, items = None, 0
    if kind is not None and items >= 2:
        runs.append((start, end, items))
    return runs


class ListStrategy:
    name = "list"

    def draft(self, ctx: AnswerContext) -> Draft | None:
        if not ctx.analysis.enumeration or not ctx.hits:
            return None
        tw = ctx.weights
        content = ctx.content_terms
        sources = list(dict.fromkeys(h.chunk.source for h in ctx.hits[:3]))
        best: tuple[float, str, str, list[Chunk]] | None = None
        for source in sources:
            by_section: dict[str, list[Chunk]] = {}
            for c in ctx.chunks_of(source):
                by_section.setdefault(c.section, []).append(c)
            for section, chunks in by_section.items():
                heading_cover = tw.cover(section.replace(PATH_SEP, "\n"))
                if heading_cover < MIN_HEADING_COVER:
                    continue
                # the section's own heading names the list: a topic word of the question the title does not have
                leaf, title = section.split(PATH_SEP)[-1], chunks[0].title
                if not (tw.found(leaf) & content) - tw.found(title):
                    continue
                score = heading_cover + TITLE_WEIGHT * tw.cover(chunks[0].title)
                if best is None or score > best[0]:
                    best = (score, source, section, sorted(chunks, key=lambda c: c.start))
        if best is None:
            return None
        _, source, section, chunks = best
        doc = ctx.documents.get(source)
        if doc is None:
            return None
        start, end = chunks[0].start, max(c.end for c in chunks)
        body = doc.text[start:end]
        runs = _runs(body)
        if not runs:
            return None
        run_start, run_end, items = max(runs, key=lambda r: r[2])
        quote = body[run_start:run_end]
        if len(quote) > MAX_CHARS:
            cut = max(m.start() for m in _LINE.finditer(quote) if m.start() <= MAX_CHARS)
            quote = quote[:cut].rstrip()
            items = sum(1 for m in _LINE.finditer(quote) if numbering(m.group(0).strip()))
        holder = next((c for c in chunks if c.start <= start + run_start < c.end), chunks[0])
        return Draft(f"共{items}项：\n{quote}[1]", [citation(holder, 1, quote)])
