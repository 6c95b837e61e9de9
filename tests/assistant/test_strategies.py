"""Each extractive-answer strategy on a tiny in-memory corpus: (question, hits, expected) tables.

``expected``: a substring (or tuple of substrings) of the drafted answer; ``None``: the strategy does not apply
(returns None, the next strategy is tried); ``NOTHING``: it claims the question but has no answer (a refusal).
A ``!`` prefix means the substring must NOT be in the answer. No model is loaded (fake embedder).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.answer.citations import verify
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.strategies import (
    DEFAULT_ORDER,
    Draft,
    MetadataStrategy,
    OrdinalStrategy,
    SentenceStrategy,
    StructureStrategy,
    TableStrategy,
)
from assistant.settings import Settings
from tests.fixtures.answering import NOTICE, PLAN, TABLE, TinyCorpus

NOTHING = "<nothing>"

P_TALENT, P_FINANCE, P_SPACE, P_SAFEGUARD = (f"{PLAN}#{i}" for i in range(4))
N_HEAD, N_BODY, N_FOOT = (f"{NOTICE}#{i}" for i in range(3))
T_TABLE = f"{TABLE}#0"


@pytest.fixture(scope="module")
def corpus() -> TinyCorpus:
    return TinyCorpus.build()


def _check(corpus: TinyCorpus, strategy, question: str, hits: tuple[str, ...], expected) -> Draft | None:
    draft = strategy.draft(corpus.context(question, *hits))
    if expected is None:
        assert draft is None, draft
        return None
    assert draft is not None, f"{strategy.name} did not apply"
    if expected == NOTHING:
        assert draft.empty and not draft.text, draft
        return draft
    # every quote is verbatim source text and every marker survives verification
    text, citations = verify(draft.text, draft.citations, corpus.documents)
    assert text == draft.text and len(citations) == len(draft.citations), draft
    for want in (expected,) if isinstance(expected, str) else expected:
        if want.startswith("!"):
            assert want[1:] not in draft.text, draft.text
        else:
            assert want in draft.text, draft.text
    return draft


STRUCTURE = [
    ("重点任务分成哪几大类？", (P_TALENT, P_FINANCE), ("“一、重点任务”下共有3项", "（一）人才引进[1]", "（三）载体建设[3]")),
    ("重点任务的第二项是什么？", (P_TALENT,), ("（二）金融支持：", "设立科技金融专项资金", "!人才引进")),
    ("重点任务的第五项是什么？", (P_TALENT,), None),  # no such sub-heading: the ordinal strategy decides
    ("保障措施有哪些？", (P_SAFEGUARD,), None),  # a section without sub-headings
    ("海外高层次人才资助最高多少？", (P_TALENT,), None),  # not an enumeration/ordinal question
]


@pytest.mark.parametrize(("question", "hits", "expected"), STRUCTURE)
def test_structure_strategy(corpus, question, hits, expected) -> None:
    _check(corpus, StructureStrategy(), question, hits, expected)


METADATA = [
    ("这份通知的文号是什么？", (N_BODY,), ("的文号为：某科委〔2022〕5号[1]",)),
    ("通知的签发人是谁？", (N_BODY,), ("的签发人：张三[1]", "!签发人：签发人")),
    ("通知的联系电话是多少？", (N_BODY,), "12345678"),
    ("通知的成文日期是哪天？", (N_BODY,), "的成文日期：2022年3月1日"),
    # two fields asked at once: both answered, each with its own citation
    ("通知的文号和成文日期分别是什么？", (N_BODY,), ("的文号为：某科委〔2022〕5号[1]", "的成文日期：2022年3月1日[2]")),
    ("方案的发布日期是哪天？", (N_BODY,), None),  # a date about the policy, not the notice: a content question
    ("人才引进有哪些支持？", (P_TALENT,), None),  # not about the document itself
]


@pytest.mark.parametrize(("question", "hits", "expected"), METADATA)
def test_metadata_strategy(corpus, question, hits, expected) -> None:
    draft = _check(corpus, MetadataStrategy(), question, hits, expected)
    if draft and draft.citations:  # the header/footer chunk holding the line is cited, not the top hit
        assert draft.citations[0].chunk_id in (N_HEAD, N_FOOT)


ORDINAL = [
    ("保障措施的第二项是什么？", (P_SAFEGUARD,), ("二是强化资金保障", "!三是", "!一是")),
    ("保障措施的第三项是什么？", (P_TALENT, P_SAFEGUARD), ("三是优化考核评估", "!二是")),
    ("保障措施的第五项是什么？", (P_SAFEGUARD,), NOTHING),  # never a different item
    ("保障措施有哪些？", (P_SAFEGUARD,), None),  # not an ordinal question
]


@pytest.mark.parametrize(("question", "hits", "expected"), ORDINAL)
def test_ordinal_strategy(corpus, question, hits, expected) -> None:
    _check(corpus, OrdinalStrategy(), question, hits, expected)


SENTENCE = [
    ("海外高层次人才资助最高多少？", (P_TALENT, P_FINANCE), ("给予最高100万元资助", "!科技金融")),
    ("科技金融专项资金支持什么？", (P_TALENT, P_FINANCE), "支持企业融资"),
    # an enumeration question takes the whole 一是/二是 run and the sentence introducing it
    ("保障措施主要包括哪几个方面？", (P_SAFEGUARD,), ("以下几个方面", "一是加强组织领导", "三是优化考核评估")),
    ("海外高层次人才资助最高多少？", (), NOTHING),  # no passages, no sentences
    # asked for a phone number: the topic's sentence has none, so the line of the same document that holds one
    # is quoted (a contact line names no topic, and would lose on topic words alone)
    ("科技创新工作找谁咨询，电话多少？", (N_BODY, N_FOOT), "联系电话：12345678"),
    # … but never another document's contact line: that is another office's number
    ("人才引进找谁咨询，电话多少？", (P_TALENT, N_FOOT), "!12345678"),
]


@pytest.mark.parametrize(("question", "hits", "expected"), SENTENCE)
def test_sentence_strategy(corpus, question, hits, expected) -> None:
    _check(corpus, SentenceStrategy(), question, hits, expected)


TABLE_CASES = [
    ("研发投入的补贴上限是多少？", (T_TABLE,), ("项目 | 补贴标准 | 上限[1]", "研发投入 | 按投入的10%补贴 | 200万元[2]", "!人才住房")),
    ("人才住房补贴每月多少？", (T_TABLE, P_TALENT), ("项目 | 补贴标准 | 上限[1]", "人才住房 | 每月2000元 | 3年[2]", "!研发投入")),
    ("海外高层次人才资助最高多少？", (P_TALENT, T_TABLE), None),  # best sentence is prose: not a table answer
    ("海外高层次人才资助最高多少？", (), None),
]


@pytest.mark.parametrize(("question", "hits", "expected"), TABLE_CASES)
def test_table_strategy(corpus, question, hits, expected) -> None:
    _check(corpus, TableStrategy(), question, hits, expected)


# ---- the answerer: order and the public interface ------------------------------------------------------
def test_default_order_is_the_documented_one() -> None:
    assert [s.name for s in (cls() for cls in DEFAULT_ORDER)] == ["structure", "list", "policy", "metadata", "ordinal", "table", "sentence"]


def _answerer(corpus: TinyCorpus, **kw) -> ExtractiveAnswerer:
    """The strategies with the rules' hand weights (the fitted models have tests of their own)."""
    snapshot = SimpleNamespace(chunks=corpus.chunks, lexical=corpus.lexical, documents=corpus.documents, sentences=None)
    kw.setdefault("fitted", False)
    return ExtractiveAnswerer(Settings(), snapshot, {}, corpus.rules, **kw)  # type: ignore[arg-type]


ANSWERER = [
    ("重点任务分成哪几大类？", (P_TALENT,), "共有3项"),  # structure before sentence
    ("这份通知的文号是什么？", (N_BODY,), "某科委〔2022〕5号"),  # metadata before sentence
    ("保障措施的第二项是什么？", (P_SAFEGUARD,), "二是强化资金保障"),
    ("保障措施的第五项是什么？", (P_SAFEGUARD,), None),  # the ordinal strategy's refusal is final
    ("研发投入的补贴上限是多少？", (T_TABLE,), "项目 | 补贴标准 | 上限"),
    ("海外高层次人才资助最高多少？", (P_TALENT,), "100万元"),
]


@pytest.mark.parametrize(("question", "hits", "expected"), ANSWERER)
def test_answerer_tries_strategies_in_order(corpus, question, hits, expected) -> None:
    answer = _answerer(corpus).answer(question, corpus.retrieval(question, *hits), corpus.documents)
    if expected is None:
        assert not answer.grounded and not answer.citations and answer.refusal_reason == "relevance_gate"
    else:
        assert answer.grounded and expected in answer.answer, answer.answer
        assert all(c.quote in corpus.documents[c.source].text for c in answer.citations)


def test_answerer_refuses_when_the_gate_fails(corpus) -> None:
    retrieval = corpus.retrieval("海外高层次人才资助最高多少？", P_TALENT)
    retrieval.gate = retrieval.gate.model_copy(update={"passed": False})
    answer = _answerer(corpus).answer(retrieval.query, retrieval, corpus.documents)
    assert not answer.grounded and answer.refusal_reason == "relevance_gate"


def test_custom_strategies_and_embedder_are_passed_through(corpus) -> None:
    seen = []

    class Spy:
        name = "spy"

        def draft(self, ctx):
            seen.append(ctx.embed("问题") if ctx.embed else None)
            return None

    from tests.fixtures.answering import fake_embed

    answerer = _answerer(corpus, strategies=[Spy(), SentenceStrategy()], embed=fake_embed)
    answer = answerer.answer("科技金融专项资金支持什么？", corpus.retrieval("科技金融专项资金支持什么？", P_FINANCE), corpus.documents)
    assert answer.grounded and seen == [fake_embed("问题")]
