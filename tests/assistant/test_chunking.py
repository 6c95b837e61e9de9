"""Structure-aware chunking on the real corpus: section paths, verbatim slices, stable ids."""

from __future__ import annotations

import re

import pytest

from assistant.ingest.chunking import BODY_SECTION, FOOTER_SECTION, HEADER_SECTION
from assistant.ingest.pipeline import process_file
from assistant.types import Chunk, Document
from tests.conftest import CORPUS, PLAN, REPLY, make_settings


def _process(tmp_path, name: str, **overrides) -> tuple[Document, list[Chunk]]:
    settings = make_settings(tmp_path / "data", **overrides)
    return process_file(CORPUS / name, name, "sha", settings)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Document, list[Chunk]]]:
    tmp = tmp_path_factory.mktemp("chunking")
    return {name: _process(tmp, name) for name in (PLAN, REPLY)}


def _plan_tasks_from_source() -> list[tuple[str, str]]:
    """(group heading, task heading) for the numbered tasks, read from the markdown headings in order."""
    group, tasks = "", []
    for line in (CORPUS / PLAN).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            continue
        heading = line.lstrip("#").replace("**", "").strip()
        if re.match(r"^（[一二三四五六七八九十]+）", heading):
            group = heading
        elif re.match(r"^\d{1,2}、", heading):
            tasks.append((group, heading))
    return tasks


def test_plan_task_paths(corpus) -> None:
    _, chunks = corpus[PLAN]
    sections = {c.section for c in chunks}
    assert "二、重点任务 > （三）培育发展产业集聚 > 6、重点发展互联网服务主导产业" in sections

    tasks = _plan_tasks_from_source()
    assert [int(t.split("、")[0]) for _, t in tasks] == list(range(1, 16))
    assert len({g for g, _ in tasks}) == 5
    for group, task in tasks:
        path = f"二、重点任务 > {group} > {task}"
        assert path in sections, f"task {task!r} should sit under {group!r}"
    # markdown heading levels are inconsistent in the file (## 12、 / ### 3、 / ## （二）): the numbering decides
    assert "二、重点任务 > （五）完善创新创业生态体系 > 12、提升科技金融服务能力" in sections
    assert "二、重点任务 > （一）深化园区管理体制机制改革 > 3、做实园区运营机构" in sections
    assert {"一、发展方向", "三、保障措施"} <= sections


def test_reply_paths_and_inline_headings(corpus) -> None:
    doc, chunks = corpus[REPLY]
    by_section: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_section.setdefault(c.section, []).append(c)
    assert "二、创新成果转化模式 > （一）中科新微“集成电路应用创新概念验证中心”" in by_section
    assert "二、创新成果转化模式 > （二）东华大学国家大学科技园技术转移中心" in by_section
    # run-in headings: '（一）优化服务功能，打通科创全链条。推动…' is heading and body at once
    inline = by_section["七、下一步工作思考 > （一）优化服务功能，打通科创全链条"]
    # the parent heading has no body of its own: it stands at the top of its first child's text
    assert inline[0].text.startswith("七、下一步工作思考\n（一）优化服务功能，打通科创全链条。推动市区共")
    assert inline[0].heading == "（一）优化服务功能，打通科创全链条"
    assert "七、下一步工作思考 > （三）凝聚科创力量，构建创新生态" in by_section
    # header and signature block have their own sections
    assert chunks[0].section == HEADER_SECTION and "签发人：詹镭" in chunks[0].text
    assert chunks[-1].section == FOOTER_SECTION and "联系人姓名：王建涛" in chunks[-1].text
    for i in "一二三四五六七":
        assert any(s.startswith(f"{i}、") for s in by_section), f"section {i}、 missing"


@pytest.mark.parametrize("name", [PLAN, REPLY])
def test_chunks_are_verbatim_slices_covering_the_body(corpus, name: str) -> None:
    doc, chunks = corpus[name]
    covered = [False] * len(doc.text)
    for i, c in enumerate(chunks):
        assert c.ordinal == i
        assert doc.text[c.start : c.start + len(c.text)] == c.text
        assert 0 < len(c.text) <= 360
        assert (c.source, c.title, c.doc_number, c.date) == (
            doc.meta.source, doc.meta.title, doc.meta.doc_number, doc.meta.date
        )
        for k in range(c.start, c.start + len(c.text)):
            covered[k] = True
    # every character of the text is in a chunk, heading lines included (whitespace aside)
    pos = 0
    for line in doc.text.split("\n"):
        missing = [ch for k, ch in enumerate(line) if not covered[pos + k] and not ch.isspace()]
        assert not missing, f"not in any chunk: {line[:40]}"
        pos += len(line) + 1
    # and every heading of a section path stands in the text of the first chunk of that section
    first: dict[str, Chunk] = {}
    for c in chunks:
        first.setdefault(c.section, c)
    for section, c in first.items():
        if section not in (HEADER_SECTION, FOOTER_SECTION, BODY_SECTION):
            assert section.split(" > ")[-1] in c.text, f"heading of {section!r} not in its chunk"


def test_chunk_ids_are_stable_and_unique(tmp_path, corpus) -> None:
    for name in (PLAN, REPLY):
        _, first = corpus[name]
        _, second = _process(tmp_path, name)
        assert [c.id for c in first] == [c.id for c in second]
        assert [c.model_dump() for c in first] == [c.model_dump() for c in second]
    ids = [c.id for name in (PLAN, REPLY) for c in corpus[name][1]]
    assert len(ids) == len(set(ids))


def test_small_chunks_overlap_and_stay_verbatim(tmp_path, corpus) -> None:
    doc, small = _process(tmp_path, REPLY, chunk_size=120, chunk_overlap=30)
    assert len(small) > len(corpus[REPLY][1])
    overlaps = 0
    for prev, nxt in zip(small, small[1:], strict=False):
        assert doc.text[nxt.start : nxt.start + len(nxt.text)] == nxt.text and len(nxt.text) <= 120
        if prev.section == nxt.section and nxt.start < prev.start + len(prev.text):
            overlaps += 1
    assert overlaps > 0


def test_headings_and_title_take_part_in_indexed_text(corpus) -> None:
    _, chunks = corpus[PLAN]
    task6 = next(c for c in chunks if c.section.endswith("6、重点发展互联网服务主导产业"))
    assert "\n6、重点发展互联网服务主导产业\n继续深化" in task6.text  # the heading heads its chunk's text
    assert task6.dense_text() == task6.text  # … and is embedded once
    lexical = task6.lexical_text()
    assert task6.title in lexical and "（三）培育发展产业集聚" in lexical and task6.text in lexical
    meta = task6.chroma_metadata()
    assert meta["section"] == task6.section and meta["source"] == PLAN and meta["doc_number"] == "长科委〔2025〕13号"
