"""The ingest invariant, checkable: every non-whitespace character of a document's cleaned text is in a chunk.

Used by the tests (shipped corpus, development corpus, generated documents) and by ``assistant chunks``, which
shows an office whether a new document was parsed whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from assistant.types import Chunk, Document


class Gap(BaseModel):
    """A run of document text that no chunk holds."""

    start: int
    end: int
    text: str


def uncovered(doc: Document, chunks: Iterable[Chunk]) -> list[Gap]:
    """Runs of ``doc.text`` with a non-whitespace character outside every chunk (empty when nothing is lost)."""
    text = doc.text
    depth = [0] * (len(text) + 1)  # difference array: +1 where a chunk starts, -1 just past its end
    for c in chunks:
        depth[max(0, min(len(text), c.start))] += 1
        depth[max(0, min(len(text), c.start + len(c.text)))] -= 1
    gaps: list[Gap] = []
    level, gap_start = 0, -1
    for i, ch in enumerate(text):
        level += depth[i]
        if level <= 0 and not ch.isspace():
            if gap_start < 0:
                gap_start = i
        elif gap_start >= 0 and (level > 0 or ch == "\n"):
            gaps.append(Gap(start=gap_start, end=i, text=text[gap_start:i].strip()))
            gap_start = -1
    if gap_start >= 0:
        gaps.append(Gap(start=gap_start, end=len(text), text=text[gap_start:].strip()))
    return gaps
