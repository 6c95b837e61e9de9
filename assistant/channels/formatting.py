"""Plain-text replies for WeChat and WeCom.

WeChat shows text as-is (no Markdown) and cuts long messages, so a reply is: the answer in plain text with the
``[n]`` markers written as ``【n】``, then one short line per citation (``【1】《标题》文号 · 章节``), all within
2,048 bytes of UTF-8. A longer answer is cut at a sentence boundary and followed by a note saying how to see the
rest (the chat page when ``ASSISTANT_PUBLIC_URL`` is set).
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.prompts import render
from assistant.types import Answer, Citation

WECHAT_TEXT_BUDGET = 2048  # bytes of UTF-8 in one text message

_MARKER = re.compile(r"\[(\d{1,2})\]")
_CODE_FENCE = re.compile(r"^\s*```.*$", re.M)
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_BOLD = re.compile(r"(\*\*|__)(.+?)\1", re.S)
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_INLINE_CODE = re.compile(r"`([^`]+)`")
_QUOTE = re.compile(r"^\s{0,3}>\s?", re.M)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.M)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", re.M)
_BR = re.compile(r"<br\s*/?>", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n{3,}")
# A sentence ends at 。！？；(and ASCII ! ? ;) or a line break, with any closing quotes/brackets and 【n】 markers
# that follow it (the extractive answerer writes "…工作；[1]").
_SENTENCE_END = re.compile(r"[。！？!?；;\n][”’」』）)\]]*(?:【\d{1,2}】)*")
_CLAUSE_END = re.compile(r"[，,、：:][”’」』）)]*")


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def markers_to_brackets(text: str) -> str:
    """``[1]`` → ``【1】`` (WeChat users read 【】 as a footnote mark; [1] looks like code)."""
    return _MARKER.sub(r"【\1】", text)


def strip_markdown(text: str) -> str:
    """Markdown → plain text as WeChat shows it: no #, **, `, > or table rules; links keep their address."""
    text = text.replace("\r\n", "\n")
    text = _CODE_FENCE.sub("", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1 \2", text)
    text = _HEADING.sub("", text)
    text = _BOLD.sub(r"\2", text)
    text = _ITALIC.sub(r"\1", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _QUOTE.sub("", text)
    text = _TABLE_RULE.sub("", text)
    text = _BULLET.sub(r"\1• ", text)
    text = _BR.sub("\n", text)
    text = "\n".join(line.strip("| ").replace(" | ", "  ") if line.lstrip().startswith("|") else line.rstrip()
                     for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def xml_safe(text: str) -> str:
    """Text that can sit in a CDATA section: no control characters, no ``]]>``."""
    return _CONTROL.sub("", text).replace("]]>", "]] >")


def plain_answer(text: str) -> str:
    return strip_markdown(markers_to_brackets(text))


def citation_line(c: Citation) -> str:
    """``【1】《标题》文号 · 章节`` with the leaf heading as 章节; a title's own 《》 become 〈〉 (nested title marks)."""
    title = c.title.replace("《", "〈").replace("》", "〉").strip()
    line = f"【{c.n}】《{title}》{c.doc_number.strip()}"
    leaf = c.section.split(">")[-1].strip() if c.section else ""
    if leaf:
        line += f" · {strip_markdown(leaf)}"
    return line


def cut_at_sentence(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` within ``max_bytes`` that ends a sentence (else a clause, else a hard cut + …)."""
    if utf8_len(text) <= max_bytes:
        return text
    if max_bytes <= 0:
        return ""
    prefix = text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
    ends = [m.end() for m in _SENTENCE_END.finditer(prefix)]
    if ends and ends[-1] >= len(prefix) // 3:
        return prefix[: ends[-1]].rstrip()
    ends = [m.end() for m in _CLAUSE_END.finditer(prefix)]
    room = prefix.encode("utf-8")[: max(0, max_bytes - utf8_len("…"))].decode("utf-8", "ignore")
    if ends and ends[-1] >= len(prefix) // 3 and ends[-1] <= len(room):
        return prefix[: ends[-1]].rstrip("，,、：: ") + "…"
    return room.rstrip() + "…"


def _compose(body: str, note: str, lines: list[str]) -> str:
    parts = [body]
    if note:
        parts.append(note)
    text = "\n".join(p for p in parts if p)
    if lines:
        text += "\n\n" + "\n".join(lines)
    return text


def _cited(body: str, citations: list[Citation]) -> list[Citation]:
    used = [c for c in citations if f"【{c.n}】" in body]
    return used or citations[:1]


def fit_reply(body: str, citations: list[Citation], more_note: str, budget: int = WECHAT_TEXT_BUDGET) -> str:
    """Answer + citation lines within ``budget`` bytes; when too long, cut the answer at a sentence boundary, keep
    the citations it still refers to, and add ``more_note``."""
    full = _compose(body, "", [citation_line(c) for c in citations])
    if utf8_len(full) <= budget:
        return full

    def attempt(cites: list[Citation]) -> tuple[str, list[Citation]]:
        lines = [citation_line(c) for c in cites]
        room = budget - utf8_len(_compose("", more_note, lines)) - 1  # the "\n" between body and note
        cut = cut_at_sentence(body, room)
        return cut, _cited(cut, cites)

    cites = list(citations)
    # Citation lines must not crowd out the answer: keep at most what leaves half the budget to the body.
    while len(cites) > 1 and utf8_len("\n".join(citation_line(c) for c in cites)) > budget // 2:
        cites.pop()
    cut, used = attempt(cites)
    longer, used_longer = attempt(used)
    if set(c.n for c in used_longer) <= set(c.n for c in used):
        cut, used = longer, used_longer
    text = _compose(cut, more_note, [citation_line(c) for c in used])
    if utf8_len(text) > budget:  # pathological: one huge citation line
        text = text.encode("utf-8")[: budget - utf8_len("…")].decode("utf-8", "ignore") + "…"
    return text


def format_answer(
    answer: Answer, *, prompts_dir: Path, public_url: str = "", budget: int = WECHAT_TEXT_BUDGET
) -> str:
    """The WeChat text for an ``Answer``: plain answer first, then ``【n】《标题》文号 · 章节`` lines, ≤ ``budget`` bytes."""
    body = plain_answer(answer.answer)
    citations = answer.citations if answer.grounded else []
    note = render(prompts_dir, "wechat_more", public_url=public_url.strip())
    return xml_safe(fit_reply(body, citations, note, budget))


def format_text(text: str, budget: int = WECHAT_TEXT_BUDGET) -> str:
    """A fixed message (welcome, error …) made WeChat-safe and cut to ``budget`` bytes."""
    return xml_safe(cut_at_sentence(strip_markdown(text), budget))
