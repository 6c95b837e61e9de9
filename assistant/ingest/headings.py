"""Recognise the numbering of Chinese official-document headings: 一、 （一） 1、 （1） ① 第X章 第X条."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN = "一二三四五六七八九十百零〇"

# (kind, rank, pattern). Lower rank = higher in the hierarchy.
HEADING_KINDS: list[tuple[str, int, re.Pattern[str]]] = [
    ("chapter", 1, re.compile(rf"^第[{_CN}\d]+[章编部分]")),
    ("section", 2, re.compile(rf"^第[{_CN}\d]+节")),
    ("cn", 3, re.compile(rf"^[{_CN}]+[、，.．]")),
    ("article", 3, re.compile(rf"^第[{_CN}\d]+条")),
    ("paren_cn", 4, re.compile(rf"^[（(][{_CN}]+[）)]")),
    ("arabic", 5, re.compile(r"^\d{1,2}\s*[、．.](?!\d)")),
    ("paren_arabic", 6, re.compile(r"^[（(]\d{1,2}[）)]")),
    ("circled", 7, re.compile(r"^[①-⑳]")),
]
PART_RANK = 0  # unnumbered title-like headings (markdown #, docx Title)
PLAIN_RANK = 8  # unnumbered headings marked by the format (bold line, deep markdown heading)

TERMINAL = "。！？!?；;：:"
# A date standing alone on its line: the signing date of an official document (2025年 4月 17日).
# A date in Arabic or in Chinese numerals (二〇一五年三月二十七日: the 成文日期 of many official documents).
CN_YEAR = "[〇○零一二三四五六七八九]{4}"
CN_DAY = "[一二三四五六七八九十]{1,3}"
DATE_LINE = re.compile(
    rf"^\s*(?:\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|{CN_YEAR}\s*年\s*{CN_DAY}\s*月\s*{CN_DAY}\s*日)\s*$"
)
_SENTENCE_END = re.compile(r"[。！？!?；;]")


@dataclass(frozen=True)
class Marker:
    kind: str
    rank: int
    end: int  # length of the numbering prefix


def numbering(text: str) -> Marker | None:
    for kind, rank, pattern in HEADING_KINDS:
        m = pattern.match(text)
        if m:
            return Marker(kind, rank, m.end())
    return None


# A bullet glyph at the start of a line begins an item, as a number does ("◎ 对租赁区域内房产资源的，给予……").
# (○ is left out: it also writes zero in dates, 二○二五年.)
_BULLET = re.compile(r"^[◎●■□◆◇▲△★☆•▪▶►※]")


def bullet(text: str) -> str | None:
    """The bullet glyph a line starts with, or None."""
    m = _BULLET.match(text.lstrip())
    return m.group(0) if m else None


def visual_len(text: str) -> float:
    """Width in CJK characters: ASCII counts half, so '2025年' is 3 wide."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def is_heading_line(text: str, max_len: float = 32) -> bool:
    """A short numbered line with no sentence inside it, e.g. '一、完善政策支撑体系'."""
    text = text.strip()
    if not numbering(text) or visual_len(text) > max_len:
        return False
    return not _SENTENCE_END.search(text[:-1]) if text else False


def inline_heading(text: str, max_len: float = 30) -> str | None:
    """'（一）优化服务功能，打通科创全链条。推动…' → '（一）优化服务功能，打通科创全链条'."""
    marker = numbering(text)
    if marker is None:
        return None
    m = _SENTENCE_END.search(text, marker.end)
    if m is None:
        return text if visual_len(text) <= max_len else None
    lead = text[: m.start()]
    return lead if visual_len(lead) <= max_len else None
