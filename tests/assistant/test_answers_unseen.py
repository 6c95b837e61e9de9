"""The issue's four-line measures document, beside the shipped corpus: each item answers with its own figure, a
near miss (国家级 for the written 市级) is refused saying what the document does say, validity is answered."""

from __future__ import annotations

import pytest

from tests.conftest import bot_beside_shipped

pytestmark = pytest.mark.slow

LINES = [
    "关于印发《某区促进服务业发展若干措施》的通知",
    "一、对新认定的技术先进型服务企业给予15万元一次性奖励。",
    "二、对首次获评市级服务业品牌的企业，给予8万元奖励。",
    "三、支持企业建设共享平台。对经认定的区级共享平台，按照投入的10%给予补贴，最高不超过80万元。",
    "第四条 本措施自2025年1月1日起实施，三年内有效。",
]


@pytest.fixture(scope="module")
def measures_bot(tmp_path_factory, shared_embeddings):
    return bot_beside_shipped(tmp_path_factory.mktemp("four-lines"), {"measures.txt": "\n".join(LINES)}, shared_embeddings)


def test_each_item_answers_with_its_own_figure(measures_bot) -> None:
    a = measures_bot.ask("对新认定的技术先进型服务企业奖励多少？")
    assert a.grounded and "15万元" in a.answer
    assert "80万元" not in a.answer and "8万元" not in a.answer  # not another item's figure
    assert a.citations[0].source == "measures.txt"


def test_a_level_the_document_does_not_have_is_refused(measures_bot) -> None:
    a = measures_bot.ask("首次获评国家级服务业品牌的企业奖励多少？")
    assert not a.grounded and a.citations == []
    assert a.refusal_reason == "qualifier_mismatch" and "市级" in a.answer
    assert a.related and "市级服务业品牌" in a.related[0].quote


def test_validity_is_answered_from_the_article(measures_bot) -> None:
    a = measures_bot.ask("这个服务业若干措施什么时候开始实施？有效期多久？")
    assert a.grounded and "2025年1月1日" in a.answer
    assert any("三年内有效" in c.quote for c in a.citations)
