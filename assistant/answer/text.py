"""Sentence spans in Chinese text (offsets kept, so every quote stays a verbatim slice)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENT = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;]+[”’」』）)]*)?|\n")
# Chinese prose has no spaces between words: a run of whitespace between two non-ASCII characters is where a
# crawled page's paragraphs or a headline and its text were run together ("纳税期限统一为“季度” 也可办理停业
# 根据…"). A single space between two characters is not (PDF extraction leaves those inside words: "人工 智能"),
# unless it follows a closing mark or a sentence end ("“季度” 也可", "）　（十二）").
_GAP = re.compile(r"(?<=[^\x00-\x7f])(?:\s{2,}|(?<=[”’」』）》】。！？；：])\s)(?=[^\x00-\x7f])")
MIN_PIECE = 4  # pieces shorter than this (letter-spaced titles "通 知", table cells) stay joined


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    heading: bool = False  # the heading line of a section with no body (``content_spans``)
    context: str = ""  # a table row's header row (``content_spans``): the names of its columns


def sentences(text: str) -> list[Span]:
    """Sentence spans: text up to a sentence end (。！？；), split again at whitespace between non-ASCII
    characters (``_GAP``) where both sides are at least ``MIN_PIECE`` characters long."""
    out: list[Span] = []
    for m in _SENT.finditer(text):
        raw = m.group(0)
        if not raw.strip():
            continue
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        out.extend(_pieces(m.start() + lead, body))
    return out


def _pieces(start: int, body: str) -> list[Span]:
    cuts = [(g.start(), g.end()) for g in _GAP.finditer(body)]
    if not cuts:
        return [Span(start, start + len(body), body)]
    bounds: list[tuple[int, int]] = []
    lo = 0
    for a, b in cuts:
        bounds.append((lo, a))
        lo = b
    bounds.append((lo, len(body)))
    merged: list[list[int]] = []
    for a, b in bounds:
        if merged and (merged[-1][1] - merged[-1][0] < MIN_PIECE or b - a < MIN_PIECE):
            merged[-1][1] = b
        else:
            merged.append([a, b])
    if len(merged) > 1 and merged[-1][1] - merged[-1][0] < MIN_PIECE:  # a short tail joins the piece before
        merged[-2][1] = merged.pop()[1]
    return [Span(start + a, start + b, body[a:b]) for a, b in merged]


def content_spans(text: str, section: str, sep: str = " > ", table_separator: str = " | ") -> list[Span]:
    """Sentences of a chunk without its heading lines: a heading names what follows, it does not answer —
    unless nothing follows it. A section with no body (``七、联系人：郭*** 联系电话：26510931``) is all heading:
    its deepest heading line is then the content.

    A table row (a line whose cells ingest joined with ``table_separator``) is one span however many sentences
    its cells hold: a cell's figure means nothing without its row. A row after the first of its table carries
    that first row (the header: the names of the columns) as its ``context``."""
    headings = set(section.split(sep)) if section else set()
    out: list[Span] = []
    heading_lines: list[Span] = []
    pos = 0
    header = None  # the first line of the current run of table lines
    for line in text.split("\n"):
        stripped = line.strip()
        lead = len(line) - len(line.lstrip())
        is_row = bool(stripped) and table_separator.strip() in stripped and (table_separator in line or stripped.startswith("|"))
        if stripped in headings:
            heading_lines.append(Span(pos + lead, pos + lead + len(stripped), stripped, heading=True))
        elif is_row:
            out.append(Span(pos + lead, pos + lead + len(stripped), stripped, context=header or ""))
        else:
            out.extend(Span(pos + sp.start, pos + sp.end, sp.text) for sp in sentences(line) if sp.text not in headings)
        header = (header or stripped) if is_row else None
        pos += len(line) + 1
    if not out and heading_lines:
        return [heading_lines[-1]]
    return out
