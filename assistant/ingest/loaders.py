"""File loaders: one function per format, each returning ``Block``s (a line of text + a heading hint).

Loaders only read; they do not clean. A file that cannot be read raises ``LoaderError`` with the reason,
so that ingest can report it and go on with the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from assistant.errors import LoaderError


class Block(BaseModel):
    """A line (or paragraph) of text. ``heading`` > 0 when the format itself marks it as a heading."""

    text: str
    heading: int = 0


def _decode(data: bytes, path: Path) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise LoaderError(f"{path.name}: 无法识别文本编码", "请把文件另存为 UTF-8 编码后重新导入。")


def load_txt(path: Path) -> list[Block]:
    text = _decode(path.read_bytes(), path)
    return [Block(text=line) for line in text.splitlines()]


_MD_INLINE = re.compile(r"\*\*|__|(?<!\w)\*(?!\s)|`")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _md_inline_to_text(src: str) -> str:
    return _MD_INLINE.sub("", _MD_LINK.sub(r"\1", src))


def load_md(path: Path) -> list[Block]:
    """Markdown via markdown-it: headings keep their level; emphasis and link markup are dropped."""
    from markdown_it import MarkdownIt

    text = _decode(path.read_bytes(), path)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks: list[Block] = []
    heading_level = 0
    for tok in tokens:
        if tok.type == "heading_open":
            heading_level = int(tok.tag[1])
        elif tok.type == "heading_close":
            heading_level = 0
        elif tok.type == "inline":
            raw = tok.content
            whole_bold = bool(re.fullmatch(r"\s*\*\*[^*]+\*\*\s*", raw))
            for line in raw.split("\n"):
                plain = _md_inline_to_text(line).strip()
                if plain:
                    level = heading_level or (9 if whole_bold and len(plain) <= 40 else 0)
                    blocks.append(Block(text=plain, heading=level))
        elif tok.type in ("code_block", "fence"):
            blocks.extend(Block(text=line) for line in tok.content.splitlines())
    return blocks


def load_pdf(path: Path) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - pypdf raises several types here
                raise LoaderError(f"{path.name}: PDF 已加密，无法读取", "请提供未加密的 PDF。") from exc
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise LoaderError(f"{path.name}: PDF 文件损坏或无法解析（{exc}）", "请检查文件能否正常打开。") from exc
    blocks: list[Block] = []
    for page in pages:
        blocks.extend(Block(text=line) for line in page.splitlines())
        blocks.append(Block(text=""))
    return blocks


def load_docx(path: Path) -> list[Block]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise LoaderError(f"{path.name}: 不是有效的 Word(.docx) 文件（{exc}）", "旧版 .doc 请先另存为 .docx。") from exc
    blocks: list[Block] = []
    for para in document.paragraphs:
        style = (para.style.name if para.style is not None else "") or ""
        m = re.search(r"(?:Heading|标题)\s*(\d)", style)
        level = int(m.group(1)) if m else (1 if style in ("Title", "标题") else 0)
        for line in para.text.split("\n"):
            blocks.append(Block(text=line, heading=level if line.strip() else 0))
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if any(cells):
                blocks.append(Block(text=" | ".join(cells)))
    return blocks


_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dt", "dd"]


def load_html(path: Path) -> list[Block]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(path.read_bytes(), path), "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "template"]):
        tag.decompose()
    body = soup.body or soup
    blocks: list[Block] = []
    leaf_blocks = [el for el in body.find_all(_HTML_BLOCKS) if not el.find(_HTML_BLOCKS)]
    if not leaf_blocks:
        return [Block(text=line) for line in body.get_text("\n").splitlines()]
    for el in leaf_blocks:
        level = int(el.name[1]) if re.fullmatch(r"h\d", el.name) else 0
        sep = " | " if el.name == "tr" else ""
        text = sep.join(s.strip() for s in el.stripped_strings) if sep else el.get_text("")
        for line in text.splitlines():
            blocks.append(Block(text=line, heading=level if line.strip() else 0))
    return blocks


LOADERS: dict[str, Callable[[Path], list[Block]]] = {
    ".txt": load_txt,
    ".md": load_md,
    ".markdown": load_md,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
}


def supported_suffixes() -> list[str]:
    return sorted(LOADERS)


def load_file(path: Path) -> list[Block]:
    """Load ``path`` with the loader for its suffix. Raises ``LoaderError`` with a reason the user can act on."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoaderError(
            f"{path.name}: 不支持的文件类型 {path.suffix or '(无扩展名)'}",
            f"支持的类型：{' '.join(supported_suffixes())}。",
        )
    try:
        blocks = loader(path)
    except LoaderError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is reported per file, never fatal
        raise LoaderError(f"{path.name}: 读取失败（{type(exc).__name__}: {exc}）", "请检查文件是否损坏。") from exc
    if not any(b.text.strip() for b in blocks):
        hint = "扫描版 PDF 没有文字层，请先做 OCR。" if path.suffix.lower() == ".pdf" else "文件内容为空。"
        raise LoaderError(f"{path.name}: 没有可提取的文字", hint)
    return blocks
