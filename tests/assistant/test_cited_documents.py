"""A 文号 question about a document this one cites (依据/转发/落实 …) is answered from the sentence that cites it,
not with the notice's own 文号 from its header — that would be a wrong 文号 with a citation."""

from __future__ import annotations

import pytest

from tests.conftest import bot_beside_shipped

pytestmark = pytest.mark.slow

NOTICE = """某市工业和信息化局文件
某工信〔2026〕21号
关于组织申报2026年某市工业设计中心的通知
各县区工业和信息化局：
根据《某市工业设计中心认定管理办法》（某工信规〔2024〕8号），现组织申报2026年某市工业设计中心，有关事项通知如下：
一、对认定的市级工业设计中心，给予一次性奖励30万元。
二、请于2026年9月7日前报送申报材料。
某市工业和信息化局
2026年8月1日
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory, shared_embeddings):
    return bot_beside_shipped(tmp_path_factory.mktemp("cited-documents"), {"design-centre.txt": NOTICE}, shared_embeddings)


def test_the_cited_documents_number_comes_from_the_sentence_that_cites_it(bot) -> None:
    a = bot.ask("工业设计中心申报依据的认定管理办法文号是什么？")
    assert a.grounded, a.answer
    assert "某工信规〔2024〕8号" in a.answer and "某工信〔2026〕21号" not in a.answer, a.answer


def test_the_notices_own_number_is_still_its_header(bot) -> None:
    a = bot.ask("工业设计中心申报通知的文号是什么？")
    assert a.grounded and "某工信〔2026〕21号" in a.answer, a.answer
