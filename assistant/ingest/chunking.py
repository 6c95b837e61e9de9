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
FOOTER_SECTION = "落款"
PATH_SEP = " > "

_SEPARATORS = ["\n", "。", "！", "？", "；", "，", ""]


@dataclass
class _Heading:
    rank: int
    text: str


def build_document(paras: list[Block], meta: DocumentMeta) -> tuple[Document, list[Section]]:
    """Join paragraphs into the document text and cut it into sections by the heading hierarchy."""
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
    current: list[int] = []  # paragraph indexes of the open section body
    current_path: list[str] = [HEADER_SECTION]

    def flush() -> None:
        if current:
            start = offsets[current[0]]
            end = offsets[current[-1]] + len(paras[current[-1]].text)
            sections.append(Section(path=list(current_path), start=start, end=end, text=doc.text[start:end]))
        current.clear()

    def path() -> list[str]:
        if stack:
            return [h.text for h in stack]
        return [part] if part else [HEADER_SECTION]

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
        if marker and (p.heading or is_heading_line(text)):
            heading_rank = marker.rank
        elif marker and marker.kind == "article":
            heading_rank, heading_text, body_too = marker.rank, text[: marker.end], True
        elif marker and (lead := inline_heading(text)) and lead != text:
            heading_rank, heading_text, body_too = marker.rank, lead, True
        elif p.heading:
            heading_rank = PART_RANK if p.heading <= 2 and not stack else PLAIN_RANK

        if heading_rank is None:
            current.append(i)
            continue

        flush()
        if heading_rank == PART_RANK:
            stack.clear()
            part = heading_text
        else:
            while stack and stack[-1].rank >= heading_rank:
                stack.pop()
            stack.append(_Heading(heading_rank, heading_text))
        current_path = path()
        if body_too:
            current.append(i)
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
