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
