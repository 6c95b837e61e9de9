"""The relevance gate's answer-type check on hand-made passages (no model, no index on disk)."""

from __future__ import annotations

from types import SimpleNamespace

from assistant.index.lexical import LexicalIndex
from assistant.question import analyse, weigh
from assistant.retrieve import HybridRetriever
from assistant.rules import load_rules
from assistant.settings import Settings
from assistant.types import Chunk, Hit

SOURCE = "notice-2026.txt"  # a crawled notice without a title line: its title is the file name


def _chunk(cid: str, source: str, section: str, text: str) -> Chunk:
    return Chunk(id=cid, source=source, title=source.rsplit(".", 1)[0], doc_number="", section=section,
                 heading=section, ordinal=int(cid[-1]), start=0, text=text)


CHUNKS = [
    _chunk("n#0", SOURCE, "一、申报范围", "本市科普基地认定面向全市单位开展，申报单位通过网上平台提交科普基地认定申请。"),
    _chunk("o#1", "other.txt", "正文", "各单位申报科普项目须按时提交材料。"),
    _chunk("n#2", SOURCE, "附表", "区 | 联系人 | 联系电话\n甲区 | 张三 | 62001234\n乙区 | 李四 | 62005678"),
]


def _gate(question: str, chunks: list[Chunk]):
    """The gate's verdict with ``chunks`` as the ranked hits (best first) and as the whole index."""
    rules = load_rules()
    lexical = LexicalIndex.build([c.id for c in chunks], [c.lexical_text() for c in chunks])
    qa = analyse(question, rules)
    tw = weigh(qa, lexical, {}, rules)
    hits = [Hit(chunk=c, score=1.0 / (r + 1)) for r, c in enumerate(chunks)]
    retriever = SimpleNamespace(rules=rules, snapshot=SimpleNamespace(lexical=lexical), settings=Settings())
    return HybridRetriever.gate(retriever, qa, tw, hits, [])  # type: ignore[arg-type]


def test_the_contact_table_of_the_best_passages_document_answers_a_contact_question() -> None:
    # the table's passage says little of the topic (乙区 only), far less than the passage about the application
    gate = _gate("乙区的单位申报科普基地认定，联系电话多少？", CHUNKS)
    assert gate.reason != "answer_type", gate


def test_another_documents_phone_number_does_not() -> None:
    elsewhere = [*CHUNKS[:2], _chunk("x#2", "third.txt", "附表", CHUNKS[2].text)]
    gate = _gate("乙区的单位申报科普基地认定，联系电话多少？", elsewhere)
    assert gate.reason == "answer_type", gate
