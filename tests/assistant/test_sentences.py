"""Sentence spans: sentence ends, and the whitespace gaps where a crawled page ran its paragraphs together."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.answer.text import sentences


@pytest.mark.parametrize(("text", "expected"), [
    # a crawled page: headline fragments and the text run together on one line
    ("纳税期限统一调整为“季度” 也可办理停业   根据疫情防控需要，税务局将纳税期限统一为“季度”。",
     ["纳税期限统一调整为“季度”", "也可办理停业", "根据疫情防控需要，税务局将纳税期限统一为“季度”。"]),
    # the next item after a closing bracket and a run of (ideographic) spaces
    ("对医务人员增发绩效工资每人每天300 元。（责任单位：市财政局）\u3000\u3000（十二）编外人员可以聘用。",
     ["对医务人员增发绩效工资每人每天300 元。", "（责任单位：市财政局）", "（十二）编外人员可以聘用。"]),
    # a single space inside a word is a PDF artefact, not a boundary
    (
        "对新迁入的大模型和生成式人工 智能企业给予奖励。",
        ["对新迁入的大模型和生成式人工 智能企业给予奖励。"],
    ),
    # letter-spaced titles and short table cells stay one piece
    ("关 于 印 发 通 知", ["关 于 印 发 通 知"]),
    ("序号   项目   金额", ["序号   项目   金额"]),
    # spaces next to ASCII (figures, Latin words) never split
    ("最高给予 300 万元支持 AI 企业发展。", ["最高给予 300 万元支持 AI 企业发展。"]),
])
def test_sentence_pieces(text: str, expected: list[str]) -> None:
    assert [s.text for s in sentences(text)] == expected


@given(st.text(alphabet="对企业给予万元奖励支持。；，“”（）一二 \u3000a1\n", max_size=120))
def test_spans_are_verbatim_slices_covering_every_character(text: str) -> None:
    spans = sentences(text)
    for sp in spans:
        assert text[sp.start:sp.end] == sp.text and sp.text == sp.text.strip() and sp.text
    # every character but whitespace is in a span (a sentence end standing alone, "；", is not a sentence)
    kept = [c for c in "".join(sp.text for sp in spans) if not c.isspace() and c not in "。；"]
    assert kept == [c for c in text if not c.isspace() and c not in "。；"]
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
