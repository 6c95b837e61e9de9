"""Structure-aware chunking: build the heading tree, then split each section's body into chunks.

Every chunk carries its section path (e.g. ``二、重点任务 > （三）培育发展产业集聚 > 6、重点发展互联网服务主导产业``)
and the document metadata. Chunk text is always a verbatim slice of ``Document.text``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.ingest.headings import (
    DATE_LINE,
    PART_RANK,
    PLAIN_RANK,
    inline_heading,
    is_heading_line,
    numbering,
    visual_len,
)
from assistant.ingest.loaders import Block
from assistant.types import Chunk, Document, DocumentMeta, Section

HEADER_SECTION = "文件头"
BODY_SECTION = "正文"  # numbered items before any heading (a 若干措施 of one-line items)
FOOTER_SECTION = "落款"
PATH_SEP = " > "

_SEPARATORS = ["\n", "。", "！", "？", "；", "，", ""]


@dataclass
class _Heading:
    rank: int
    text: str


# A numbered line that ends a sentence is content, not a title: '（三）企业近两年无重大违法记录；',
# '2. 营业执照复印件；', '一、对新认定的……企业给予15万元一次性奖励。'. Titles end without punctuation or with '：'.
_SENTENCE_CLOSE = "。；;！？!?"
_CLOSERS = "”’」』）)】》"


def is_item_line(text: str) -> bool:
    """A numbered line that is one whole sentence (an item of a list), not a heading and not a run-in heading."""
    core = text.rstrip(_CLOSERS)
    if not core or core[-1] not in _SENTENCE_CLOSE or numbering(text) is None:
        return False
    lead = inline_heading(text)
    return lead is None or lead == text or len(lead) >= len(core) - 1


def _period_heading(text: str, paras: list[Block], i: int) -> bool:
    """'（二）基本原则。' followed by its body: a short title that ends with '。' (items end with '；', or are
    followed by the next item)."""
    if not text.endswith("。") or visual_len(text) > 16 or i + 1 >= len(paras):
        return False
    nxt = paras[i + 1].text.strip()
    return bool(nxt) and numbering(nxt) is None and not paras[i + 1].heading


def build_document(paras: list[Block], meta: DocumentMeta) -> tuple[Document, list[Section]]:
    """Join paragraphs into the document text and cut it into sections by the heading hierarchy.

    Nothing is lost: every paragraph belongs to exactly one section, heading lines included (a heading names its
    section in the path *and* stands at the top of the section's text). Three kinds of numbered line:
    - a heading ('一、完善政策支撑体系', '第一章 总则'): opens a section one level down;
    - a run-in heading ('（一）优化服务功能，打通科创全链条。推动…', '第九条 本办法由…解释。'): opens a section
      and is its first body line;
    - an item ('（三）企业近两年无重大违法记录；'): a whole sentence, content of its parent's section (it closes
      deeper sections, so it never lands under a sibling's heading).
    """
    text_parts: list[str] = []
    offsets: list[int] = []
    pos = 0
    for p in paras:
        offsets.append(pos)
        text_parts.append(p.text)
        pos += len(p.text) + 1
    doc = Document(meta=meta, text="\n".join(text_parts))

    footer_from = _footer_start(paras)
    stack: list[_Heading] = []
    part: str = ""
    sections: list[Section] = []
    current: list[int] = []  # paragraph indexes of the open section (its heading lines, then its body)
    pending: list[int] = []  # ranks of the heading lines at the top of the open section, with no body yet
    current_path: list[str] = [HEADER_SECTION]

    def flush() -> None:
        if current:
            start = offsets[current[0]]
            end = offsets[current[-1]] + len(paras[current[-1]].text)
            sections.append(Section(path=list(current_path), start=start, end=end, text=doc.text[start:end]))
        current.clear()
        pending.clear()

    def path() -> list[str]:
        if stack:
            return [h.text for h in stack]
        return [part] if part else [BODY_SECTION]

    for i, p in enumerate(paras):
        if footer_from is not None and i == footer_from:
            flush()
            stack.clear()
            part = ""
            current_path = [FOOTER_SECTION]
        if footer_from is not None and i >= footer_from:
            current.append(i)
            continue

        text = p.text.strip()
        marker = numbering(text)
        heading_rank: int | None = None
        heading_text = text
        body_too = False
        if marker and is_item_line(text) and marker.kind != "article" and not _period_heading(text, paras, i):
            # An item: content of the enclosing section. It closes deeper (and same-rank) sections.
            while stack and stack[-1].rank >= marker.rank:
                stack.pop()
            new_path = path()
            if new_path != current_path:
                flush()
                current_path = new_path
            current.append(i)
            pending.clear()
            continue
        if marker and marker.kind == "article" and text[marker.end :].strip():
            # '第九条 本办法由区财政局负责解释。': the article number names the section, the line is its body.
            heading_rank, heading_text, body_too = marker.rank, text[: marker.end], True
        elif marker and (p.heading or is_heading_line(text)):
            heading_rank = marker.rank
        elif marker and (lead := inline_heading(text)) and lead != text:
            heading_rank, heading_text, body_too = marker.rank, lead, True
        elif marker and _period_heading(text, paras, i):
            heading_rank, heading_text, body_too = marker.rank, text[:-1], True
        elif p.heading:
            heading_rank = PART_RANK if p.heading <= 2 and not stack else PLAIN_RANK

        if heading_rank is None:
            current.append(i)
            pending.clear()
            continue

        # A heading right under its parent heading shares the parent's section (the parent has no body of its
        # own); anything else closes the open section first.
        if len(current) != len(pending) or not pending or heading_rank <= pending[-1] or heading_rank == PART_RANK:
            flush()
        if heading_rank == PART_RANK:
            stack.clear()
            part = heading_text
        else:
            while stack and stack[-1].rank >= heading_rank:
                stack.pop()
            stack.append(_Heading(heading_rank, heading_text))
        current_path = path()
        current.append(i)
        if body_too:
            pending.clear()
        else:
            pending.append(heading_rank)
    flush()
    return doc, sections


def _footer_start(paras: list[Block]) -> int | None:
    """The signature block: an issuer line + a standalone date near the end, and what follows it."""
    n = len(paras)
    for i in range(n - 1, max(n - 8, 0) - 1, -1):
        if DATE_LINE.match(paras[i].text):
            prev = paras[i - 1].text if i > 0 else ""
            if i > 0 and visual_len(prev) <= 30 and not numbering(prev) and not prev.endswith("。"):
                return i - 1
            return i
    return None


def chunk_id(source: str, ordinal: int, text: str) -> str:
    return hashlib.sha1(f"{source}\x00{ordinal}\x00{text}".encode()).hexdigest()[:20]


def chunk_sections(doc: Document, sections: list[Section], chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    splitter = RecursiveCharacterTextSplitter(
        separators=_SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 2),
        strip_whitespace=False,
        add_start_index=True,
    )
    meta = doc.meta
    chunks: list[Chunk] = []
    for section in sections:
        pieces = splitter.create_documents([section.text])
        for piece in pieces:
            body = piece.page_content.strip("\n")
            if not body.strip():
                continue
            rel = section.text.find(body, max(0, piece.metadata.get("start_index", 0) - 1))
            if rel < 0:
                rel = section.text.find(body)
            start = section.start + rel
            assert doc.text[start : start + len(body)] == body, "chunk must be a verbatim slice"
            ordinal = len(chunks)
            chunks.append(
                Chunk(
                    id=chunk_id(meta.source, ordinal, body),
                    source=meta.source,
                    title=meta.title,
                    doc_number=meta.doc_number,
                    date=meta.date,
                    issuer=meta.issuer,
                    section=PATH_SEP.join(section.path),
                    heading=section.path[-1] if section.path else "",
                    ordinal=ordinal,
                    start=start,
                    text=body,
                )
            )
    return chunks
