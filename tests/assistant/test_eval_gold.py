"""The gold loader: typed rows, malformed rows rejected with their line number; the shipped set is sound."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assistant.evaluation.gold import DEFAULT_GOLD, GoldError, load_gold
from tests.conftest import CORPUS, PLAN, REPLY

GOOD = {
    "id": "g1", "question": "长宁园管理专班由哪个部门牵头组建？", "category": "factual", "answerable": True,
    "expected_sources": [PLAN], "expected_sections": ["2、构建园区管理体系"], "key_facts": [["长宁区科委", "区科委"]],
}
NO = {"id": "g2", "question": "明天天气怎么样？", "category": "unanswerable", "answerable": False,
      "expected_sources": [], "expected_sections": [], "key_facts": []}


def write(tmp_path: Path, rows: list[object], name: str = "gold.jsonl") -> Path:
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_loads_typed_rows_and_skips_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, [GOOD, "", {**NO, "notes": "无关"}])
    rows = load_gold(path)
    assert [r.id for r in rows] == ["g1", "g2"]
    assert rows[0].key_facts == [["长宁区科委", "区科委"]] and rows[0].answerable
    assert (rows[0].line, rows[1].line) == (1, 3)
    assert rows[1].notes == "无关" and rows[1].history == []


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ('{"id": "x", ', "不是合法的 JSON"),
        ("[1, 2]", "应为 JSON 对象"),
        ({k: v for k, v in GOOD.items() if k != "question"} | {"id": "g3"}, "question"),
        ({**GOOD, "id": "g3", "category": "trivia"}, "category"),
        ({**GOOD, "id": "g3", "answerable": "maybe"}, "answerable"),
        ({**GOOD, "id": "g3", "key_facts": [[]]}, "key_facts"),
        ({**GOOD, "id": "g3", "key_facts": []}, "key_facts"),
        ({**GOOD, "id": "g3", "expected_sources": []}, "expected_sources"),
        ({**NO, "id": "g3", "key_facts": [["x"]]}, "answerable=false"),
        ({**GOOD, "id": "g3", "category": "multi_turn"}, "history"),
        ({**GOOD, "id": "g3", "surprise": 1}, "surprise"),
        ({**GOOD}, "重复"),
    ],
)
def test_malformed_row_is_rejected_with_its_line_number(tmp_path: Path, bad: object, expected: str) -> None:
    path = write(tmp_path, [GOOD, NO, bad])
    with pytest.raises(GoldError) as info:
        load_gold(path)
    assert "gold.jsonl 第 3 行" in info.value.message
    assert expected in info.value.message


def test_unknown_expected_source_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, [NO, {**GOOD, "expected_sources": ["nope.md"]}])
    assert len(load_gold(path)) == 2  # without a corpus to check against, any name is accepted
    with pytest.raises(GoldError, match="第 2 行.*nope.md"):
        load_gold(path, corpus_sources={PLAN, REPLY})


def test_folder_loads_every_questions_file_and_ids_are_unique_across_files(tmp_path: Path) -> None:
    write(tmp_path, [GOOD], "questions.jsonl")
    write(tmp_path, [NO], "questions-extra.jsonl")
    write(tmp_path, [{"profile": "另一种数据"}], "profiles.jsonl")  # not a question file: left alone
    assert [r.file for r in load_gold(tmp_path)] == ["questions-extra.jsonl", "questions.jsonl"]
    write(tmp_path, [{**NO, "id": "g1"}], "questions_z.jsonl")
    with pytest.raises(GoldError, match="questions_z.jsonl 第 1 行.*重复"):
        load_gold(tmp_path)


def test_missing_gold_says_where_to_look(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="找不到"):
        load_gold(tmp_path / "none.jsonl")
    with pytest.raises(GoldError, match="没有 questions"):
        load_gold(tmp_path)


def test_shipped_gold_set_meets_the_issue_brief() -> None:
    rows = load_gold(DEFAULT_GOLD, corpus_sources={PLAN, REPLY})
    cats = Counter(r.category for r in rows)
    assert len(rows) >= 80
    assert sum(not r.answerable for r in rows) >= 15
    for needed in ("factual", "enumeration", "number_date", "metadata", "paraphrase", "enterprise", "multi_turn"):
        assert cats[needed] >= 5, needed


def test_every_key_fact_and_section_is_in_the_expected_document(tmp_path: Path) -> None:
    """At least one variant of each fact stands in an expected source (whitespace/markdown aside), and each
    expected section names a heading of that source, as the chunker sees it."""
    from assistant.evaluation.metrics import fact_present, squash
    from assistant.ingest.pipeline import process_file
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    texts: dict[str, list[str]] = {}
    sections: dict[str, set[str]] = {}
    for source in (PLAN, REPLY):
        doc, chunks = process_file(CORPUS / source, source, "sha", settings)
        texts[source] = [doc.text, (CORPUS / source).read_text(encoding="utf-8")]
        sections[source] = {squash(c.section) for c in chunks}
    problems = []
    for row in load_gold(DEFAULT_GOLD):
        for fact in row.key_facts:
            if not any(fact_present(fact, t) for s in row.expected_sources for t in texts[s]):
                problems.append(f"{row.id}: fact {fact} not in {row.expected_sources}")
        for sec in row.expected_sections:
            if not any(squash(sec) in p for s in row.expected_sources for p in sections[s]):
                problems.append(f"{row.id}: section {sec!r} not a heading of {row.expected_sources}")
    assert not problems, "\n".join(problems)


def test_development_categories_and_near_miss(tmp_path: Path) -> None:
    """The development corpus's rows: new categories, and ``near_miss`` only on unanswerable rows."""
    rows = [
        {**GOOD, "id": f"d{i}", "category": cat} for i, cat in
        enumerate(("amount", "condition", "deadline", "contact", "table", "multi_part"))
    ] + [{**NO, "id": "n1", "near_miss": True}, {**NO, "id": "n2", "near_miss": False}]
    loaded = load_gold(write(tmp_path, rows))
    assert [r.near_miss for r in loaded] == [False] * 6 + [True, False]
    assert {r.category for r in loaded[:6]} == {"amount", "condition", "deadline", "contact", "table", "multi_part"}

    path = write(tmp_path, [NO, GOOD, {**GOOD, "id": "g9", "near_miss": True}], "questions-bad.jsonl")
    with pytest.raises(GoldError, match="questions-bad.jsonl 第 3 行.*near_miss"):
        load_gold(path)
    path = write(tmp_path, [{**NO, "near_miss": "yes"}], "questions-bad2.jsonl")
    with pytest.raises(GoldError, match="questions-bad2.jsonl 第 1 行.*near_miss"):
        load_gold(path)
