"""Question term weights: a jieba fragment glued to a particle is read as the corpus's own word."""

from __future__ import annotations

import pytest

from assistant.index.lexical import LexicalIndex, tokenize
from assistant.question import analyse, straddling_word, weigh

TEXTS = [
    "天津港保税区关于促进经济高质量发展的若干措施（征求意见稿）。对盘活闲置厂房的，给予场地租金80%的支持。",
    "对获评市级专精特新企业的，给予20万元奖励。",
]


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex.build([f"c{i}" for i in range(len(TEXTS))], TEXTS)


def test_a_fragment_becomes_the_corpus_word_it_was_cut_from(lexical: LexicalIndex) -> None:
    question = "保税区那份征求意见稿里，盘活闲置厂房的场地租金最高支持多少比例？"
    assert "稿里" in tokenize(question, search_mode=False)  # jieba's cut: 征求意见 / 稿里
    assert straddling_word("稿里", question, lexical) == "征求意见稿"
    tw = weigh(analyse(question), lexical, {})
    assert "稿里" not in tw.weights
    assert tw.weights["征求意见稿"] == pytest.approx(lexical.idf("征求意见稿"))


def test_dictionary_words_the_corpus_lacks_keep_their_full_weight(lexical: LexicalIndex) -> None:
    # the corpus only has 市级: 国家级 keeps its full (unused-term) weight, shared by its bigrams as before,
    # and is not read as part of a longer corpus word
    tw = weigh(analyse("对获评国家级专精特新企业给多少奖励？"), lexical, {})
    assert lexical.doc_freq("国家级") == 0
    assert tw.weights["国家"] + tw.weights["家级"] == pytest.approx(lexical.idf("国家级"))


def test_nothing_to_straddle_means_no_rewrite(lexical: LexicalIndex) -> None:
    assert straddling_word("房补", "企业的房补有多少？", lexical) is None


def test_a_fragment_is_not_named_as_a_word_no_document_uses(lexical: LexicalIndex) -> None:
    """The refusal's 文件未提及 list shows words no document uses: 稿里 (a cut of 征求意见稿) is not one of them,
    国家级 is."""
    from assistant.question import corpus_word_for

    question = "保税区那份征求意见稿里，国家级厂房的场地租金最高支持多少比例？"
    assert corpus_word_for("稿里", question, lexical) == "征求意见稿"
    assert corpus_word_for("国家级", question, lexical) is None  # a dictionary word, not a fragment
    assert corpus_word_for("租金", question, lexical) is None  # the corpus uses it


def test_the_gate_lists_no_fragment_as_missing(tmp_path) -> None:  # noqa: ANN001
    from types import SimpleNamespace

    from assistant.retrieve import HybridRetriever
    from assistant.rules import load_rules
    from assistant.settings import Settings
    from assistant.types import Hit
    from tests.fixtures.answering import TinyCorpus

    corpus = TinyCorpus.build()
    lex = LexicalIndex.build([f"c{i}" for i in range(len(TEXTS))], TEXTS)
    snapshot = SimpleNamespace(lexical=lex, chunks=corpus.chunks)
    retriever = HybridRetriever.__new__(HybridRetriever)
    retriever.snapshot, retriever.rules, retriever.settings = snapshot, load_rules(), Settings(data_dir=tmp_path)
    question = "保税区那份征求意见稿里，国家级厂房的场地租金最高支持多少比例？"
    qa = analyse(question)
    tw = weigh(qa, lex, {})
    hit = Hit(chunk=next(iter(corpus.chunks.values())), score=1.0)
    gate = retriever.gate(qa, tw, [hit], [])
    assert "稿里" not in gate.missing_terms and "国家级" in gate.missing_terms


def test_doc_freq_is_exact_for_small_counts_and_close_past_the_sample_size() -> None:
    """Past DF_EXACT candidate texts doc_freq counts an even sample (a frequent term in a large library);
    used() stays exact, so a term in one text of many is still found."""
    from assistant.index.lexical import DF_EXACT

    n = 3 * DF_EXACT
    texts = [("企业申报补贴" if i % 3 else "个人申报奖励") + f"第{i}号" for i in range(n)]
    texts[n - 1] += "人工智能"
    lex = LexicalIndex.build([f"c{i}" for i in range(n)], texts)
    exact = sum("企业" in t for t in texts)
    assert abs(lex.doc_freq("企业") - exact) <= 0.02 * exact
    assert lex.doc_freq("申报") == n  # every text: the sample scales to the count
    assert lex.doc_freq("人工智能") == 1 and lex.used("人工智能")
    assert not lex.used("量子") and lex.doc_freq("量子") == 0
