"""Sentence spans in Chinese text (offsets kept, so every quote stays a verbatim slice)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENT = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;]+[”’」』）)]*)?|\n")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    heading: bool = False  # the heading line of a section with no body (``content_spans``)


def sentences(text: str) -> list[Span]:
    out: list[Span] = []
    for m in _SENT.finditer(text):
        raw = m.group(0)
        if not raw.strip():
            continue
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        out.append(Span(m.start() + lead, m.start() + lead + len(body), body))
    return out


def content_spans(text: str, section: str, sep: str = " > ", table_separator: str = " | ") -> list[Span]:
    """Sentences of a chunk without its heading lines: a heading names what follows, it does not answer —
    unless nothing follows it. A section with no body (``七、联系人：郭*** 联系电话：26510931``) is all heading:
    its deepest heading line is then the content.

    A table row (a line whose cells ingest joined with ``table_separator``) is one span however many sentences
    its cells hold: a cell's figure means nothing without its row."""
    headings = set(section.split(sep)) if section else set()
    out: list[Span] = []
    heading_lines: list[Span] = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        lead = len(line) - len(line.lstrip())
        if stripped in headings:
            heading_lines.append(Span(pos + lead, pos + lead + len(stripped), stripped, heading=True))
        elif stripped and table_separator.strip() in stripped and (table_separator in line or stripped.startswith("|")):
            out.append(Span(pos + lead, pos + lead + len(stripped), stripped))
        else:
            out.extend(Span(pos + sp.start, pos + sp.end, sp.text) for sp in sentences(line) if sp.text not in headings)
        pos += len(line) + 1
    if not out and heading_lines:
        return [heading_lines[-1]]
    return out
