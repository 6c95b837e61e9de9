"""Cleaning for Chinese official documents extracted from PDF/Word/HTML.

Only whitespace and page artefacts are removed; every other character is kept as written, so quotes taken
from the cleaned text are verbatim (modulo line breaks) in the original file.
"""

from __future__ import annotations

import re

from assistant.ingest.headings import DATE_LINE, TERMINAL, bullet, is_heading_line, numbering, visual_len
from assistant.ingest.loaders import Block

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－~·\s]*\d{1,4}[-—–－~·\s]*"  # - 3 -, — 12 —, 7
    r"|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?"  # 第3页 共10页
    r"|\d+\s*/\s*\d+"  # 3/10
    r"|page\s*\d+(?:\s*of\s*\d+)?)$",
    re.IGNORECASE,
)
_HR = re.compile(r"^[-—_=*·\s]{3,}$")
_MID_SENTENCE = re.compile(r"[，、,]")
_PAIRS = (("“", "”"), ("《", "》"), ("（", "）"), ("(", ")"), ("「", "」"))
_CLOSERS = "”’」』）)】》"
# Lines that always stand alone: a 文号 line, a signing date, a document title ('关于…的通知').
_DOC_NUMBER_LINE = re.compile(r"^[（(]?[\u4e00-\u9fa5]{1,12}\s*[〔\[【（(]\s*\d{4}\s*[〕\]】）)]\s*\d{1,4}\s*号[）)]?$")
_TITLE_LINE = re.compile(
    r"^.{0,24}?(?:关于|对).{2,}(?:通知|意见|答复|方案|办法|规定|决定|批复|函|公告|通告|通报|报告|计划|细则|措施|纲要|规划|指引|指南)$"
)


def _line_width(lines: list[str]) -> float:
    """Typical full-line width of a hard-wrapped document (PDF body lines are all about this wide).

    0 when the text is not hard-wrapped (one paragraph per line: most long lines end a sentence), so that
    a long line without final punctuation (a title, an unnumbered heading) is not glued to the next one.
    """
    long_lines = [s for s in lines if visual_len(s) >= 10]
    if len(long_lines) < 5:  # too little text to tell a text column from a few short header lines
        return 0.0
    open_ended = sum(1 for s in long_lines if not _ends_sentence(s))
    if open_ended < 0.4 * len(long_lines):
        return 0.0
    widths = sorted(visual_len(s) for s in long_lines)
    return widths[int(0.9 * (len(widths) - 1))]


def _ends_sentence(line: str) -> bool:
    """'…。' and also '…。”' / '…。）': a sentence end followed by closing quotes or brackets."""
    core = line.rstrip(_CLOSERS)
    return bool(core) and core[-1] in TERMINAL and (core == line or not unbalanced(line))


def _standalone(line: str) -> bool:
    return bool(_DOC_NUMBER_LINE.match(line) or DATE_LINE.match(line))


def _should_join(line: str, nxt: str, width: float, in_list: bool = False) -> bool:
    """Whether ``nxt`` continues ``line``; ``in_list``: ``line`` is a bulleted item after another one (a list
    of one-line items: an item without a sentence end is still whole)."""
    if not line or not nxt or _ends_sentence(line):
        return False
    if numbering(nxt) or bullet(nxt) or is_heading_line(line) or _standalone(line) or _standalone(nxt):
        return False
    if _TITLE_LINE.match(line) and not unbalanced(line):
        return False
    vl = visual_len(line)
    if vl >= 60 or (width > 0 and vl >= 0.8 * width):
        return True
    # A fragment: sentence-internal punctuation or an unclosed bracket, but no sentence end.
    if in_list:
        return False
    return vl >= 8 and (bool(_MID_SENTENCE.search(line)) or unbalanced(line))


def _in_list(paragraphs: list[Block]) -> bool:
    """The last paragraph is a bulleted item following another item with the same bullet."""
    if len(paragraphs) < 2:
        return False
    mark = bullet(paragraphs[-1].text)
    return mark is not None and bullet(paragraphs[-2].text) == mark


def unbalanced(text: str) -> bool:
    """A bracket or quote opened and not closed: the line is the start of a sentence broken across lines."""
    return any(text.count(a) > text.count(b) for a, b in _PAIRS)


def clean_blocks(blocks: list[Block]) -> list[Block]:
    """Turn raw lines into paragraphs: drop blank runs, page numbers and rules; join lines broken mid-sentence."""
    lines: list[Block] = []
    for b in blocks:
        text = _INVISIBLE.sub("", b.text).replace("\u3000", " ").strip()
        if not text or _HR.match(text) or (not b.heading and _PAGE_NUMBER.match(text)):
            continue
        lines.append(Block(text=text, heading=b.heading))
    width = _line_width([b.text for b in lines if not b.heading])

    paragraphs: list[Block] = []
    for b in lines:
        prev = paragraphs[-1] if paragraphs else None
        if (
            prev is not None
            and not prev.heading
            and not b.heading
            and _should_join(prev.text, b.text, width, _in_list(paragraphs))
        ):
            sep = " " if prev.text[-1].isascii() and prev.text[-1].isalnum() and b.text[0].isascii() else ""
            paragraphs[-1] = Block(text=prev.text + sep + b.text)
        else:
            paragraphs.append(b)
    # A joined paragraph is judged again as a whole (a long wrapped paragraph may start with '（一）').
    return paragraphs


def normalize_for_match(text: str) -> str:
    """Whitespace-free form used to compare quotes with sources."""
    return re.sub(r"\s+", "", text)
