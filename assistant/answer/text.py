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
