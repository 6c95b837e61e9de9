"""Near-duplicate passages count once in retrieval (assistant/near_duplicates.py): the similarity, the grouping,
the distinct ranks, and a real index where copies of one paragraph would otherwise push the answer out."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.near_duplicates import GramCache, Grouper, distinct_ranks, hashed_grams, overlap
from tests.conftest import make_settings

ITEM = "2.强化企业创新主体作用。引导企业统筹创新要素，规范研发管理，建设一批具有核心竞争力的创新研发机构。对经认定的区级及以上重点实验室给予支持。"


def test_grams_ignore_whitespace_and_are_sorted_unique() -> None:
    a = hashed_grams("强化企业 创新\n主体作用")
    assert a.tolist() == hashed_grams("强化企业创新主体作用").tolist()
    assert a.tolist() == sorted(set(a.tolist()))
    assert len(hashed_grams("")) == 0 and len(hashed_grams("ab")) == 1


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (ITEM, True),
        ("三、" + ITEM, True),  # renumbered under another heading
        (ITEM + "宁波市鄞州区发展和改革委员会", True),  # the chunk ends with a signature line
        (ITEM.replace("区级", "市级"), True),  # one word changed
        ("3.大力培育创新型企业。对新列入高新技术企业培育库的企业，给予最高20万元奖励。", False),  # next item
        ("2.强化企业创新主体作用。", False),  # only the heading
    ],
)
def test_overlap_separates_copies_from_other_passages(other: str, same: bool) -> None:
    assert (overlap(hashed_grams(ITEM), hashed_grams(other)) >= 0.8) is same


def test_grouper_puts_copies_under_the_first_and_can_be_turned_off() -> None:
    texts = {"a": ITEM, "b": "四、" + ITEM, "c": "对首次认定的国家级科技型企业孵化器，给予最高200万元的一次性奖励。"}
    g = Grouper(texts.__getitem__, 0.8)
    assert [g.add(c) for c in "abc"] == ["a", "a", "c"]
    off = Grouper(texts.__getitem__, 1.01)
    assert [off.add(c) for c in "abc"] == ["a", "b", "c"]


def test_distinct_ranks_count_groups_not_copies() -> None:
    texts = {f"copy{i}": f"{i}、{ITEM}" for i in range(5)} | {"answer": "推动市区共建重点实验室，加快打造高质量孵化器。"}
    dense = [(f"copy{i}", 0.9 - i * 0.001) for i in range(5)] + [("answer", 0.8)]
    lexical = [("answer", 9.0), ("copy3", 8.0)]
    rows_dense, rows_lexical = distinct_ranks([dense, lexical], Grouper(texts.__getitem__, 0.8), depth=2)
    assert [(g, rank) for g, _c, _s, rank in rows_dense] == [("copy0", 1), ("answer", 2)]
    assert [(g, c, rank) for g, c, _s, rank in rows_lexical] == [("answer", "answer", 1), ("copy0", "copy3", 2)]


@given(st.lists(st.text(alphabet="政策企业资金补贴申报条件材料万元区市国家级", min_size=1, max_size=40), max_size=12, unique=True),
       st.integers(min_value=1, max_value=15))
def test_without_duplicates_the_ranks_are_the_plain_ones(texts: list[str], depth: int) -> None:
    ids = [f"c{i}" for i in range(len(texts))]
    ranked = [(cid, float(-i)) for i, cid in enumerate(ids)]
    rows = distinct_ranks([ranked], Grouper(dict(zip(ids, texts, strict=True)).__getitem__, 1.01), depth)[0]
    assert [(g, c, rank) for g, c, _s, rank in rows] == [(c, c, i) for i, (c, _s) in enumerate(ranked[:depth], 1)]


def test_cache_is_bounded_and_returns_the_same_marks() -> None:
    cache = GramCache(size=2)
    texts = {"a": ITEM, "b": "乙" * 10, "c": "丙" * 10}
    first = cache.get("a", texts.__getitem__)
    assert cache.get("a", texts.__getitem__) is first
    cache.get("b", texts.__getitem__)
    cache.get("c", texts.__getitem__)
    assert len(cache._marks) == 2 and "a" not in cache._marks


def _notice(n: int, issuer: str) -> str:
    return (
        f"{issuer}关于印发支持措施的通知\n{issuer[:2]}发〔2025〕{n}号\n\n一、支持企业创新\n{ITEM}\n\n"
        f"二、其他事项\n本通知自印发之日起施行。\n\n{issuer}\n2025年3月{n}日\n"
    )


def test_copies_of_one_paragraph_no_longer_push_the_answer_out(tmp_path: Path, shared_embeddings) -> None:
    """Six documents repeat one paragraph about 实验室; the seventh holds the answer. With candidate lists of
    four, the copies fill both lists unless they count once."""
    from assistant.ingest.pipeline import run_ingest
    from assistant.service import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, issuer in enumerate(["甲区科委", "乙区科委", "丙区科委", "丁区科委", "戊区科委", "己区科委"], 1):
        (corpus / f"copy{i}.txt").write_text(_notice(i, issuer), encoding="utf-8")
    (corpus / "answer.txt").write_text(
        "庚区科委关于下一步工作的答复\n\n七、下一步工作思考\n推动市区共建重点实验室，加快打造高质量孵化器，"
        "鼓励企业积极参与建设。\n",
        encoding="utf-8",
    )
    question = "企业建设重点实验室和创新研发机构有什么支持？"
    found, bots = {}, {}
    for threshold in (1.01, 0.8):
        settings = make_settings(tmp_path / f"data-{threshold}", corpus_dir=corpus, candidate_k=4, top_k=3,
                                 duplicate_similarity=threshold)
        run_ingest(settings, embeddings=shared_embeddings)
        bots[threshold] = Assistant(settings, embeddings=shared_embeddings)
        found[threshold] = bots[threshold].retrieve(question).hits
    assert "answer.txt" not in [h.chunk.source for h in found[1.01]]  # the copies fill the lists
    grouped = found[0.8]
    assert "answer.txt" in [h.chunk.source for h in grouped]
    copy_hit = next(h for h in grouped if h.chunk.source.startswith("copy"))
    assert len(copy_hit.also_in) == 5 and copy_hit.chunk.source not in copy_hit.also_in
    # the answer's contexts (and a citation of the copy) name the other documents
    answer = bots[0.8].ask(question)
    context = next(c for c in answer.contexts if c.source.startswith("copy"))
    assert context.also_in is not None and len(context.also_in) == 5
    for cite in answer.citations:
        if cite.chunk_id == context.chunk_id:
            assert cite.also_in == context.also_in


def test_exact_mode_groups_renumbered_copies_only() -> None:
    """1.0 (the default): the same text up to whitespace and heading numbers; a changed word stays apart."""
    texts = {"a": "二、支持企业创新\n" + ITEM, "b": "五、支持企业创新\n 4." + ITEM[2:], "c": ITEM.replace("区级", "市级")}
    g = Grouper(texts.__getitem__, 1.0)
    assert [g.add(c) for c in "abc"] == ["a", "a", "c"]
