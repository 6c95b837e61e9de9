"""Loaders for every supported format, on small files generated here (no fixtures to go stale)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import LoaderError
from assistant.ingest.loaders import load_file, supported_suffixes
from assistant.ingest.pipeline import process_file
from tests.conftest import make_settings
from tests.fixtures.docs import make_blank_pdf, make_docx, make_pdf, make_scanned_pdf

NOTICE = [
    "上海市长宁区测试委员会文件",
    "长测委〔2024〕3号",
    "关于开展政务服务测试工作的通知",
    "各有关单位：",
    "一、总体要求",
    "为进一步提升政务服务效能，推动数字化转型取得新成效，特制定本方案。",
    "二、主要任务",
    "加快建设“一网通办”平台，实现高频事项全程网办。",
]


def _texts(blocks) -> list[str]:
    return [b.text for b in blocks if b.text.strip()]


def _process(path: Path, tmp_path: Path):
    settings = make_settings(tmp_path / "data", corpus_dir=path.parent)
    return process_file(path, path.name, "sha", settings)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_txt_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"notice-{encoding}.txt"
    path.write_bytes("\n".join(NOTICE).encode(encoding))
    blocks = load_file(path)
    assert _texts(blocks) == NOTICE  # no BOM, no mojibake, line structure kept
    assert all(b.heading == 0 for b in blocks)


def test_txt_pipeline_reads_gb18030_metadata(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes("\n".join(NOTICE).encode("gb18030"))
    doc, chunks = _process(path, tmp_path)
    assert doc.meta.doc_number == "长测委〔2024〕3号"
    assert doc.meta.title == "关于开展政务服务测试工作的通知"
    assert {c.section for c in chunks} >= {"一、总体要求", "二、主要任务"}


def test_markdown_headings_and_markup(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text(
        "# 测试行动方案\n\n"
        "## **一、发展目标**\n\n"
        "到2026年，**园区**建成[创新示范园区](https://example.invalid/x)。\n\n"
        "---\n\n"
        "### **（一）完善机制**\n\n"
        "**一是强化组织领导。**统筹推进各项工作。\n\n"
        "**二是加强政策保障**\n",
        encoding="utf-8",
    )
    blocks = load_file(path)
    by_text = {b.text: b.heading for b in blocks}
    assert by_text["测试行动方案"] == 1
    assert by_text["一、发展目标"] == 2
    assert by_text["（一）完善机制"] == 3
    # emphasis and link markup dropped, link text kept, the rule is not text
    assert "到2026年，园区建成创新示范园区。" in by_text
    assert by_text["一是强化组织领导。统筹推进各项工作。"] == 0
    assert by_text["二是加强政策保障"] > 0  # a whole-bold short line is a heading hint
    assert not any("*" in t or "#" in t or "---" in t or "http" in t for t in by_text)


def test_pdf_chinese_heading_and_wrapped_paragraph(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "notice.pdf",
        [
            [
                "关于开展政务服务测试工作的通知",
                "长测委〔2024〕3号",
                "一、总体要求",
                "为进一步提升政务服务效能，推动数字化转型取得",
                "新成效，全面优化营商环境，特制定本方案。本方案",
                "- 1 -",
            ],
            ["适用于全区各有关单位。", "二、主要任务", "加快建设平台，实现高频事项全程网办。", "第 2 页"],
        ],
    )
    raw = _texts(load_file(path))
    assert "一、总体要求" in raw and "- 1 -" in raw  # the loader only reads; cleaning drops page numbers

    doc, chunks = _process(path, tmp_path)
    assert doc.meta.title == "关于开展政务服务测试工作的通知"
    assert doc.meta.doc_number == "长测委〔2024〕3号"
    assert "推动数字化转型取得新成效，全面优化营商环境，特制定本方案。本方案适用于全区各有关单位。" in doc.text
    assert "- 1 -" not in doc.text and "第 2 页" not in doc.text
    sections = {c.section: c.text for c in chunks}
    assert sections["一、总体要求"].startswith("一、总体要求\n为进一步提升政务服务效能")
    assert sections["二、主要任务"] == "二、主要任务\n加快建设平台，实现高频事项全程网办。"


def test_pdf_without_text_layer_is_reported(tmp_path: Path) -> None:
    path = make_blank_pdf(tmp_path / "scan.pdf")
    with pytest.raises(LoaderError) as err:
        load_file(path)
    assert "scan.pdf" in err.value.message and "OCR" in err.value.hint


def test_docx_heading_styles_become_heading_hints(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "measures.docx",
        [
            ("Title", "关于印发测试措施的通知"),
            ("Normal", "各有关单位："),
            ("Heading 1", "一、支持对象"),
            ("Normal", "注册在本区的科技型中小企业。"),
            ("Heading 2", "（一）申报条件"),
            ("Normal", "依法经营，信用良好。"),
            ("Heading 1", "二、支持标准"),
            ("merged", [["补贴标准表", "", ""], ["事项", "金额", "备注"], ["研发补贴", "50万元", "每年"]]),
            ("Heading 1", "附则"),
            ("Normal", "本措施自发布之日起施行。"),
        ],
    )
    blocks = load_file(path)
    hints = {b.text: b.heading for b in blocks}
    assert hints["关于印发测试措施的通知"] == 1
    assert hints["一、支持对象"] == 1
    assert hints["（一）申报条件"] == 2
    assert hints["注册在本区的科技型中小企业。"] == 0
    # the table stays where it is in the document, a merged cell is read once
    texts = _texts(blocks)
    assert texts.index("二、支持标准") < texts.index("研发补贴 | 50万元 | 每年") < texts.index("附则")
    assert "补贴标准表" in texts

    doc, chunks = _process(path, tmp_path)
    assert doc.meta.title == "关于印发测试措施的通知" and doc.meta.kind == "通知"
    sections = {c.section: c.text for c in chunks}
    assert "一、支持对象 > （一）申报条件" in sections
    assert "研发补贴 | 50万元 | 每年" in sections["二、支持标准"]
    assert any(s.endswith("附则") for s in sections)


def test_html_blocks_scripts_dropped_loose_text_kept(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        """<html><head><title>网页标题</title><style>.x{color:red}</style></head>
        <body><nav>首页 | 政策</nav><div class="content">
        <h1>关于开展测试工作的通知</h1>
        <div>各有关单位：<br/>现将有关事项通知如下。</div>
        <script>var secret = "脚本内容";</script>
        <h2>一、总体要求</h2>
        <p>第一段正文，<span>包含行内元素</span>。</p>
        <ul><li>列表项一</li><li>列表项二</li></ul>
        <!-- 注释内容 -->
        散落在容器里的文字。
        <table><tr><td>事项</td><td>金额</td></tr></table>
        </div></body></html>""",
        encoding="utf-8",
    )
    blocks = load_file(path)
    texts = _texts(blocks)
    assert texts == [
        "关于开展测试工作的通知",
        "各有关单位：",
        "现将有关事项通知如下。",
        "一、总体要求",
        "第一段正文，包含行内元素。",
        "列表项一",
        "列表项二",
        "散落在容器里的文字。",
        "事项 | 金额",
    ]
    heads = {b.text.strip(): b.heading for b in blocks if b.heading}
    assert heads == {"关于开展测试工作的通知": 1, "一、总体要求": 2}
    joined = "".join(texts)
    assert "脚本内容" not in joined and "color" not in joined and "注释内容" not in joined and "首页" not in joined


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("table.xls", b"\xd0\xcf\x11\xe0 binary", "不支持的文件类型"),
        ("empty.txt", b"  \n\n", "没有可提取的文字"),
        ("fake.docx", "这其实是纯文本".encode(), "不是有效的 Word"),
        ("broken.pdf", b"%PDF-1.4\n garbage", "broken.pdf"),
    ],
)
def test_unreadable_files_raise_loader_error_with_reason(tmp_path: Path, name: str, content: bytes, needle: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoaderError) as err:
        load_file(path)
    assert name in err.value.message and needle in err.value.message


def test_supported_suffixes() -> None:
    assert {".txt", ".md", ".pdf", ".docx", ".html"} <= set(supported_suffixes())


def test_markdown_tables_and_numbered_lists_keep_their_structure(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(
        "# 申报指南\n\n## 三、申报材料\n\n1. 营业执照复印件；\n2. 承诺书。\n\n"
        "| 类别 | 支持标准 |\n|---|---|\n| 区域中心 | 最高100万元 |\n| 旗舰店 | 最高300万元 |\n",
        encoding="utf-8",
    )
    texts = [b.text for b in load_file(path)]
    assert "1. 营业执照复印件；" in texts and "2. 承诺书。" in texts  # the list numbers are text
    assert texts[-3:] == ["类别 | 支持标准", "区域中心 | 最高100万元", "旗舰店 | 最高300万元"]  # one line per row


# ---- bad documents: each is read correctly or refused with the reason and what to do --------------------------

TRADITIONAL = ["關於開展長寧區低空飛行器測試場試點的通知", "對入駐測試場的企業，按測試飛行小時給予補貼，每家企業每年最高補貼88萬元。"]


@pytest.mark.parametrize(
    ("encoding", "lines"),
    [("gbk", NOTICE), ("gb18030", NOTICE + ["生僻字㐀䶵𠀀照常导入。"]), ("utf-8-sig", NOTICE), ("big5", TRADITIONAL)],
)
def test_chinese_encodings_read_without_mojibake(tmp_path: Path, encoding: str, lines: list[str]) -> None:
    path = tmp_path / f"notice-{encoding}.txt"
    path.write_bytes("\n".join(lines).encode(encoding))
    assert _texts(load_file(path)) == lines  # GB18030's four-byte characters, no BOM character, Big5 not read as GBK


def test_utf8_bom_does_not_reach_the_title(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf" + "# 关于开展政务服务测试工作的通知\n\n正文内容。".encode())
    doc, _ = _process(path, tmp_path)
    assert doc.meta.title == "关于开展政务服务测试工作的通知" and "\ufeff" not in doc.text


@pytest.mark.parametrize(
    ("content", "needle", "hint"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "内容是 PDF 文件", "改成 .pdf"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40 + b"word/document.xml", "内容是 ZIP 文件", "支持的类型"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "内容是 PNG 文件", "支持的类型"),
        (bytes(range(256)) * 16, "二进制", "扩展名正确"),
        ("正文".encode() + b"\x01\x02\x03\x04\x05\x06\x07\x08" * 8, "控制字符", "UTF-8"),
    ],
    ids=["pdf-as-txt", "docx-as-txt", "png-as-txt", "random-bytes", "control-chars"],
)
def test_binary_bytes_named_txt_are_refused(tmp_path: Path, content: bytes, needle: str, hint: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(LoaderError) as err:
        load_file(path)
    assert "notes.txt" in err.value.message and needle in err.value.message, err.value.message
    assert hint in err.value.hint, err.value.hint


@pytest.mark.parametrize("keep", [0.3, 0.7, 0.98])
def test_truncated_pdf_is_refused_not_half_read(tmp_path: Path, keep: float) -> None:
    full = make_pdf(tmp_path / "full.pdf", [[f"第{i}页：对符合条件的企业给予支持。"] * 5 for i in range(12)])
    assert len(_texts(load_file(full))) == 60  # the whole file reads
    data = full.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(LoaderError) as err:
        load_file(cut)
    assert "cut.pdf" in err.value.message and "不完整" in err.value.message and "重新" in err.value.hint


def test_scanned_pdf_is_refused_with_ocr_hint(tmp_path: Path) -> None:
    path = make_scanned_pdf(tmp_path / "scan.pdf", ["NOTICE 2026 No.3", "subsidy 880000"], pages=2)
    with pytest.raises(LoaderError) as err:
        load_file(path)
    msg = err.value.message
    assert "scan.pdf" in msg and "没有文字层" in msg and "2 页只有图片（2 张）" in msg and "扫描件" in msg, msg
    assert "OCR" in err.value.hint


def test_oversize_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes("对符合条件的企业给予支持。\n".encode() * 1000)
    settings = make_settings(tmp_path / "data", corpus_dir=tmp_path, max_document_bytes=10_000)
    read = []
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or b"")
    with pytest.raises(LoaderError) as err:
        process_file(path, path.name, "sha", settings)
    assert not read, "the file must not be read"
    assert "big.txt" in err.value.message and "文件过大" in err.value.message and "39.1 KiB，上限 9.8 KiB" in err.value.message
    assert "ASSISTANT_MAX_DOCUMENT_BYTES" in err.value.hint


def test_traditional_chunks_carry_a_simplified_search_form(tmp_path: Path) -> None:
    path = tmp_path / "trad.txt"
    path.write_text("\n".join(TRADITIONAL), encoding="utf-8")
    doc, chunks = _process(path, tmp_path)
    assert chunks and all(doc.text[c.start : c.end] == c.text for c in chunks)  # quotes stay verbatim
    assert "補貼" in chunks[-1].text and "补贴" not in chunks[-1].text
    assert "补贴88万元" in chunks[-1].simplified and "补贴" in chunks[-1].lexical_text()
    simplified = tmp_path / "simp.txt"
    simplified.write_text("\n".join(NOTICE), encoding="utf-8")
    _, plain = _process(simplified, tmp_path)
    assert all(c.simplified == "" for c in plain)  # nothing extra stored for simplified text
