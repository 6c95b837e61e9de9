"""The ingest invariant: every non-whitespace character of a document's cleaned text is in at least one chunk.

Checked on every document of the shipped corpus and of the development corpus (``eval/corpus_dev``), and by
property tests that generate policy-shaped documents in every numbering style — 第一章/第一节/第一条,
一、（一）1.（1）①, one-line items, run-in headings, lists, tables, 附件 lines, header and signature blocks,
page numbers, hard-wrapped lines — checking the invariant, the chunk-size bounds and that chunks are verbatim.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest.chunking import BODY_SECTION, FOOTER_SECTION, HEADER_SECTION, PATH_SEP
from assistant.ingest.coverage import uncovered
from assistant.ingest.loaders import supported_suffixes
from assistant.ingest.pipeline import RESERVED, process_file
from assistant.types import Chunk, Document
from tests.conftest import CORPUS, REPO, make_settings

DEV_CORPUS = REPO / "eval" / "corpus_dev"
CHUNK_SIZE = 360


def check_invariant(doc: Document, chunks: list[Chunk], chunk_size: int = CHUNK_SIZE) -> None:
    gaps = uncovered(doc, chunks)
    assert not gaps, f"{doc.meta.source}: text in no chunk: {[g.text[:40] for g in gaps[:5]]}"
    headed: dict[tuple[str, ...], bool] = {}  # heading path → its heading line stands in a chunk under it
    for i, c in enumerate(chunks):
        assert c.ordinal == i
        assert doc.text[c.start : c.end] == c.text, "a chunk is a verbatim slice of the cleaned text"
        assert 0 < len(c.text) <= chunk_size and c.text.strip()
        path = tuple(c.section.split(PATH_SEP))
        for depth in range(1, len(path) + 1):
            key = path[:depth]
            headed[key] = headed.get(key, False) or key[-1] in c.text
    assert len({c.id for c in chunks}) == len(chunks)
    for key, found in headed.items():
        if key[-1] not in (HEADER_SECTION, FOOTER_SECTION, BODY_SECTION):
            assert found, f"heading {key[-1]!r} is in a section path but in the text of no chunk under it"


def _documents(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in supported_suffixes() and p.name not in RESERVED
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


REAL_DOCUMENTS = _documents(CORPUS) + _documents(DEV_CORPUS)


@pytest.mark.parametrize("path", REAL_DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_invariant_on_every_real_document(path: Path, tmp_path: Path) -> None:
    doc, chunks = process_file(path, path.name, "sha", make_settings(tmp_path))
    check_invariant(doc, chunks)


def test_the_corpora_are_there() -> None:
    assert len(_documents(CORPUS)) >= 2


# ---- generated policy-shaped documents ---------------------------------------------------------------------
CN = "一二三四五六七八九十"
WORDS = (
    "企业 科技 创新 研发 投入 项目 资金 补贴 奖励 认定 申报 材料 条件 人才 平台 园区 服务 产业 发展 支持 给予 按照 "
    "不超过 万元 比例 年度 首次 新认定 市级 区级 国家级 高新技术企业 专精特新 孵化器 知识产权 营业执照 复印件 "
    "注册 纳税 社会保险 无重大违法记录 由区财政局负责解释 自发布之日起施行 有效期 三年"
).split()
_phrase = st.lists(st.sampled_from(WORDS), min_size=2, max_size=9).map("".join)
_amount = st.integers(min_value=1, max_value=500).map(lambda n: f"{n}万元")


@st.composite
def sentence(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(_phrase, _amount), min_size=1, max_size=4))
    return "，".join(parts) + draw(st.sampled_from("。；"))


@st.composite
def paragraph(draw: st.DrawFn) -> str:
    return "".join(draw(st.lists(sentence(), min_size=1, max_size=5)))


def _cn(n: int) -> str:
    return CN[n - 1] if n <= 10 else "十" + CN[n - 11]


@st.composite
def block(draw: st.DrawFn, n: int) -> list[str]:
    """One structural element of a policy document, numbered n."""
    kind = draw(st.sampled_from([
        "chapter", "section", "article", "article_short", "cn_heading", "cn_item", "paren_heading", "paren_item",
        "arabic_item", "paren_arabic", "circled", "run_in", "paragraph", "table", "attachment", "contact",
    ]))
    title = draw(_phrase)
    if kind == "chapter":
        return [f"第{_cn(n)}章 {title}"]
    if kind == "section":
        return [f"第{_cn(n)}节 {title}"]
    if kind == "article":
        return [f"第{_cn(n)}条 {draw(paragraph())}"]
    if kind == "article_short":
        return [f"第{_cn(n)}条 本办法{draw(st.sampled_from(['由区财政局负责解释', '自2025年1月1日起施行']))}。"]
    if kind == "cn_heading":
        return [f"{_cn(n)}、{title}", draw(paragraph())]
    if kind == "cn_item":
        return [f"{_cn(n)}、对{title}给予{draw(_amount)}一次性奖励。"]
    if kind == "paren_heading":
        return [f"（{_cn(n)}）{title}", draw(paragraph())]
    if kind == "paren_item":
        return [f"（{_cn(n)}）{draw(_phrase)}；"]
    if kind == "arabic_item":
        return [f"{n}. {draw(_phrase)}；"]
    if kind == "paren_arabic":
        return [f"（{n}）{draw(paragraph())}"]
    if kind == "circled":
        return [f"{chr(0x2460 + min(n, 20) - 1)}{draw(_phrase)}；"]
    if kind == "run_in":
        return [f"（{_cn(n)}）{title}。{draw(paragraph())}"]
    if kind == "table":
        rows = draw(st.lists(st.tuples(_phrase, _amount), min_size=1, max_size=4))
        return ["类别 | 支持标准 | 备注", *[f"{a} | {b} | 最高{b}" for a, b in rows]]
    if kind == "attachment":
        return ["附件：1. 申报表", "2. 承诺书"]
    if kind == "contact":
        return ["联系人：张三，联系电话：021-12345678"]
    return [draw(paragraph())]


@st.composite
def policy_document(draw: st.DrawFn) -> list[str]:
    lines: list[str] = []
    if draw(st.booleans()):
        lines += [f"关于印发《{draw(_phrase)}若干措施》的通知", "长测委〔2025〕13号", "各有关单位：", draw(paragraph())]
    for n in range(1, draw(st.integers(min_value=1, max_value=14)) + 1):
        lines += draw(block(n))
        if draw(st.integers(0, 9)) == 0:
            lines.append(f"- {n} -")  # a page number between blocks
    if draw(st.booleans()):
        lines += ["上海市某区科学技术委员会", "2025年7月25日"]
    return lines


def _hard_wrap(lines: list[str], width: int) -> list[str]:
    """What a PDF's text layer gives: every line cut at a fixed width, whatever the sentence ends."""
    out: list[str] = []
    for line in lines:
        out += [line[i : i + width] for i in range(0, len(line), width)] or [""]
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


PAGE = re.compile(r"^- \d+ -$")
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])


@PROPERTY
@given(lines=policy_document(), wrap=st.one_of(st.none(), st.integers(min_value=24, max_value=40)),
       chunk_size=st.sampled_from([120, 200, 360]))
def test_generated_documents_keep_every_line(tmp_path_factory, lines: list[str], wrap: int | None,
                                             chunk_size: int) -> None:
    tmp = tmp_path_factory.mktemp("gen")
    raw = _hard_wrap(lines, wrap) if wrap else lines
    path = tmp / "doc.txt"
    path.write_text("\n".join(raw), encoding="utf-8")
    settings_ = make_settings(tmp / "data", chunk_size=chunk_size, chunk_overlap=min(60, chunk_size // 4))
    doc, chunks = process_file(path, "doc.txt", "sha", settings_)
    check_invariant(doc, chunks, chunk_size)
    # cleaning removes whitespace and page numbers only: every other character of the input is in the text
    kept = "".join(line for line in raw if not PAGE.match(line.strip()))
    assert _squash(doc.text) == _squash(kept)


@PROPERTY
@given(lines=policy_document())
def test_every_numbered_content_line_is_in_a_chunk(tmp_path_factory, lines: list[str]) -> None:
    """The lines that used to vanish: items, short articles, conditions, materials (one line each)."""
    tmp = tmp_path_factory.mktemp("gen")
    path = tmp / "doc.md"
    path.write_text("\n\n".join(lines), encoding="utf-8")
    doc, chunks = process_file(path, "doc.md", "sha", make_settings(tmp / "data"))
    joined = "\n".join(c.text for c in chunks)
    for line in lines:
        if re.match(rf"^(?:第[{CN}]+条|[{CN}]+、|（[{CN}\d]+）|\d+\.)", line) and line.endswith(("。", "；")):
            assert line in joined or _squash(line) in _squash(joined), f"lost: {line}"


def test_the_four_line_measures_document_is_kept_whole(tmp_path: Path) -> None:
    """The issue's example: only item 三 survived ingest, so a question about item 一 got item 三's figure."""
    lines = [
        "一、对新认定的技术先进型服务企业给予15万元一次性奖励。",
        "二、对首次获评市级服务业品牌的企业，给予8万元奖励。",
        "三、支持企业建设共享平台。对经认定的区级共享平台，按照投入的10%给予补贴，最高不超过80万元。",
        "第四条 本措施自2025年1月1日起实施，三年内有效。",
    ]
    path = tmp_path / "measures.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    doc, chunks = process_file(path, "measures.txt", "sha", make_settings(tmp_path / "data"))
    check_invariant(doc, chunks)
    texts = "\n".join(c.text for c in chunks)
    assert all(line in texts for line in lines)
    sections = {c.section for c in chunks}
    assert "三、支持企业建设共享平台" in sections and "第四条" in sections
