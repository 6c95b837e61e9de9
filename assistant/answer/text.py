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


def content_spans(text: str, section: str, sep: str = " > ") -> list[Span]:
    """Sentences of a chunk without its heading lines: a heading names what follows, it does not answer."""
    headings = set(section.split(sep)) if section else set()
    return [sp for sp in sentences(text) if sp.text not in headings]
