"""Citations are parsed, not trusted: every ``[n]`` must point at a citation whose quote is verbatim source text."""

from __future__ import annotations

import re

from assistant.ingest.clean import normalize_for_match
from assistant.types import Citation, Document

MARKER = re.compile(r"\[(\d{1,2})\]")


def locate(quote: str, doc: Document) -> str | None:
    """The quote as it stands in the document: exact, or repaired across whitespace differences."""
    if quote and quote in doc.text:
        return quote
    target = normalize_for_match(quote)
    if not target:
        return None
    # Map positions of the whitespace-free text back to the original.
    index = [i for i, ch in enumerate(doc.text) if not ch.isspace()]
    flat = "".join(doc.text[i] for i in index)
    pos = flat.find(target)
    if pos < 0:
        return None
    return doc.text[index[pos] : index[pos + len(target) - 1] + 1]


def verify(answer: str, citations: list[Citation], documents: dict[str, Document]) -> tuple[str, list[Citation]]:
    """Drop citations whose quote is not in their source, renumber the rest, and fix the markers to match."""
    kept: list[Citation] = []
    renumber: dict[int, int] = {}
    for c in citations:
        doc = documents.get(c.source)
        quote = locate(c.quote, doc) if doc else None
        if quote is None:
            continue
        renumber[c.n] = len(kept) + 1
        kept.append(c.model_copy(update={"n": len(kept) + 1, "quote": quote}))

    def fix(m: re.Match[str]) -> str:
        new = renumber.get(int(m.group(1)))
        return f"[{new}]" if new else ""

    return MARKER.sub(fix, answer), kept
