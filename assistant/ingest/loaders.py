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


_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
# GB2312 holds nearly every character of simplified official text (measured: 100% on eval/corpus_dev);
# Big5 bytes read as GB18030 give a mojibake of which only about half is GB2312 (0.55 on a sample notice).
_GB2312_SHARE_MIN = 0.8


def _gb2312_share(text: str) -> tuple[float, int]:
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not han:
        return 1.0, 0
    common = 0
    for c in han:
        try:
            c.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common / len(han), len(han)


def _not_text(data: bytes, path: Path) -> LoaderError | None:
    """A file named .txt/.md/.html whose bytes are another format or binary data (a rename, a failed download)."""
    import filetype

    kind = filetype.guess(data[:8192])
    if kind is not None:
        own = f".{kind.extension}"
        hint = (
            f"请把扩展名改成 {own} 后重新导入。"
            if own in LOADERS
            else f"这种格式不能导入，请换成文字版文件后再导入；支持的类型：{' '.join(supported_suffixes())}。"
        )
        return LoaderError(f"{path.name}: 内容是 {kind.extension.upper()} 文件（{kind.mime}），不是文本", hint)
    if b"\x00" in data:
        return LoaderError(
            f"{path.name}: 不是文本文件（含有二进制数据）",
            "请确认文件没有损坏、扩展名正确；文本文件请另存为 UTF-8 编码。",
        )
    return None


def _decode(data: bytes, path: Path) -> str:
    """UTF-16 with BOM, UTF-8 (with or without BOM), else GB18030 (GBK, GB2312), else Big5 when GB18030 reads
    as mojibake. Binary data is refused, never decoded into garbage text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Windows Notepad's "Unicode" (UTF-16 with BOM)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if (error := _not_text(data, path)) is not None:
        raise error
    text: str | None = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            text = None
        share, han = _gb2312_share(text) if text is not None else (0.0, 0)
        if text is None or (han >= 20 and share < _GB2312_SHARE_MIN):
            try:
                text = data.decode("big5")
            except UnicodeDecodeError:
                pass
    if text is None:
        raise LoaderError(f"{path.name}: 无法识别文本编码", "请把文件另存为 UTF-8 编码后重新导入。")
    controls = len(_BINARY_CONTROLS.findall(text))
    if controls > max(3, len(text) // 200):  # more than 0.5% control characters: not a text document
        raise LoaderError(
            f"{path.name}: 不是文本文件（{controls} 个控制字符，像是二进制数据）",
            "请确认文件没有损坏、扩展名正确；文本文件请另存为 UTF-8 编码。",
        )
    return text


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
    row: list[str] | None = None  # cells of the table row being read
    item_marker = ""  # '2. ' of an ordered list item: markdown-it parses the number away, the text keeps it
    for tok in tokens:
        if tok.type == "heading_open":
            heading_level = int(tok.tag[1])
        elif tok.type == "heading_close":
            heading_level = 0
        elif tok.type == "list_item_open" and tok.info:
            item_marker = f"{tok.info}{tok.markup} "
        elif tok.type == "tr_open":
            row = []  # a table row is one line, its cells joined by " | " (as the docx and HTML loaders do)
        elif tok.type == "tr_close":
            if any(row):
                blocks.append(Block(text=" | ".join(row)))
            row = None
        elif tok.type == "inline" and row is not None:
            row.append(_md_inline_to_text(tok.content).strip())
        elif tok.type == "inline":
            raw = tok.content
            whole_bold = bool(re.fullmatch(r"\s*\*\*[^*]+\*\*\s*", raw))
            for line in raw.split("\n"):
                plain = _md_inline_to_text(line).strip()
                if plain:
                    level = heading_level or (9 if whole_bold and len(plain) <= 40 else 0)
                    blocks.append(Block(text=item_marker + plain, heading=level))
                    item_marker = ""
        elif tok.type in ("code_block", "fence"):
            blocks.extend(Block(text=line) for line in tok.content.splitlines())
    return blocks


def _pdf_complete(path: Path) -> bool:
    """A PDF ends with ``%%EOF`` (64 of 64 real PDFs on this machine have it in their last 4 KB); a file cut
    short by a failed download or copy does not, and pypdf would read whatever pages survived."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - 4096))
        return b"%%EOF" in fh.read()


def load_pdf(path: Path) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not _pdf_complete(path):
        raise LoaderError(
            f"{path.name}: PDF 文件不完整（没有结尾标记 %%EOF，可能下载或复制时被截断）",
            "请重新下载或从原件重新导出 PDF 后再导入。",
        )
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - pypdf raises several types here
                raise LoaderError(f"{path.name}: PDF 已加密，无法读取", "请提供未加密的 PDF。") from exc
        pages = [page.extract_text() or "" for page in reader.pages]
        images = 0 if any(p.strip() for p in pages) else sum(_image_count(page) for page in reader.pages)
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise LoaderError(f"{path.name}: PDF 文件损坏或无法解析（{exc}）", "请检查文件能否正常打开。") from exc
    if not any(p.strip() for p in pages):
        what = f"{len(pages)} 页只有图片（{images} 张），像是扫描件" if images else f"{len(pages)} 页里没有文字"
        raise LoaderError(
            f"{path.name}: PDF 没有文字层（{what}）", "扫描版 PDF 请先做 OCR（文字识别），或提供带文字层的原版 PDF。"
        )
    blocks: list[Block] = []
    for page in pages:
        blocks.extend(Block(text=line) for line in page.splitlines())
        blocks.append(Block(text=""))
    return blocks


def _image_count(page: object) -> int:
    try:
        return len(page.images)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - an undecodable image still means the page has no text
        return 1


def load_docx(path: Path) -> list[Block]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise LoaderError(f"{path.name}: 不是有效的 Word(.docx) 文件（{exc}）", "旧版 .doc 请先另存为 .docx。") from exc
    from docx.table import Table

    blocks: list[Block] = []
    # paragraphs and tables in document order, so a table stays in the section it belongs to
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                seen: list[object] = []  # a merged cell is listed once per grid column it spans
                for cell in row.cells:
                    if not any(cell._tc is tc for tc in seen):
                        seen.append(cell._tc)
                        cells.append(cell.text.strip())
                if any(cells):
                    blocks.append(Block(text=" | ".join(cells)))
            continue
        style = (item.style.name if item.style is not None else "") or ""
        m = re.search(r"(?:Heading|标题)\s*(\d)", style)
        level = int(m.group(1)) if m else (1 if style in ("Title", "标题") else 0)
        for line in item.text.split("\n"):
            blocks.append(Block(text=line, heading=level if line.strip() else 0))
    return blocks


_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dt", "dd"]
_HTML_INLINE = frozenset(
    "a abbr b bdi bdo cite code data dfn em font i kbd mark q s samp small span strong sub sup time u var".split()
)


def _html_blocks(node: object, out: list[Block]) -> None:
    """Walk the tree in document order: leaf block elements become blocks, and so does text that sits
    directly in a container (``<div>正文<br>正文</div>``), which a search for block tags alone would lose."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    pending: list[str] = []

    def flush() -> None:
        for line in "".join(pending).splitlines():
            if line.strip():
                out.append(Block(text=line.strip()))  # markup indentation, not text
        pending.clear()

    for child in node.children:  # type: ignore[attr-defined]
        if isinstance(child, NavigableString):
            if not isinstance(child, PreformattedString):  # comments, CDATA, doctype
                pending.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        nested = child.find(_HTML_BLOCKS) is not None
        if child.name in _HTML_BLOCKS and not nested:
            flush()
            level = int(child.name[1]) if re.fullmatch(r"h\d", child.name) else 0
            if child.name == "tr":
                text = " | ".join(c.get_text("").strip() for c in child.find_all(["td", "th"]))
            else:
                text = child.get_text("")
            for line in text.splitlines():
                out.append(Block(text=line, heading=level if line.strip() else 0))
        elif child.name in _HTML_INLINE and not nested:
            pending.append(child.get_text(""))
        else:  # a container (div, section, table, ul …): its own blocks, in order
            flush()
            _html_blocks(child, out)
            flush()
    flush()


def load_html(path: Path) -> list[Block]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(path.read_bytes(), path), "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "template", "head"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    blocks: list[Block] = []
    _html_blocks(soup.body or soup, blocks)
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
        hint = (
            "扫描版 PDF 没有文字层，请先做 OCR。"
            if path.suffix.lower() == ".pdf"
            else "文件内容为空（可能复制或保存未完成），请放入有正文的文件后重新导入。"
        )
        raise LoaderError(f"{path.name}: 没有可提取的文字", hint)
    return blocks
