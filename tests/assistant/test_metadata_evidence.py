"""The answerer quotes a document's own 文号 and 成文日期 as ingest extracted them, verbatim from the text."""

from __future__ import annotations

from assistant.answer.strategies.metadata import evidence
from assistant.ingest.clean import clean_blocks
from assistant.ingest.loaders import Block
from assistant.ingest.metadata import extract_metadata
from assistant.rules import load_rules
from assistant.types import Document

RAW = """上海市某区科学技术委员会文件
某科委（2022）5号
关于印发《某区科技企业培育办法》的通知
各有关单位：
根据国办发〔2023〕12号文件精神，现将《某区科技企业培育办法》印发给你们。
2021年12月1日起已试行的做法继续有效。
某区科学技术委员会
2022年3月1日
附件：办法全文于
2022年3月8日
起施行。"""


def _finder(label: str):
    field = next(f for f in load_rules().answer.metadata.fields if f.label == label)
    return lambda doc: evidence(field, doc)


def _doc() -> Document:
    paras = clean_blocks([Block(text=line) for line in RAW.splitlines()])
    meta = extract_metadata(paras, "notice.txt")
    return Document(meta=meta, text="\n".join(p.text for p in paras))


def test_own_doc_number_in_any_bracket_style_not_a_cited_one() -> None:
    doc = _doc()
    assert doc.meta.doc_number == "某科委〔2022〕5号"
    m = _finder("的文号为")(doc)
    assert m is not None and m.group(0) == "某科委（2022）5号"
    assert doc.text[m.start() : m.end()] == m.group(0)


def test_signing_date_is_the_one_ingest_took() -> None:
    doc = _doc()
    m = _finder("的成文日期")(doc)
    assert m is not None
    assert doc.meta.date == "2022-03-08"
    assert m.group(0).strip() == "2022年3月8日"


def test_no_doc_number_means_no_evidence() -> None:
    doc = _doc()
    doc = doc.model_copy(update={"meta": doc.meta.model_copy(update={"doc_number": ""})})
    assert _finder("的文号为")(doc) is None


def test_issuer_from_the_signature_block_or_the_head_of_the_title() -> None:
    doc = _doc()
    m = _finder("的发文机关")(doc)
    assert doc.meta.issuer and m is not None and m.group(0) == doc.meta.issuer
    assert doc.text[m.start() : m.end()] == doc.meta.issuer
    # no signature block: the 发文机关 at the head of the title is quoted (only the name)
    paras = clean_blocks([Block(text=t) for t in (
        "闵行区人民政府办公室关于印发《闵行制造业提升三年行动计划》的通知", "各镇人民政府：",
        "《闵行制造业提升三年行动计划》已经区政府研究同意，现印发给你们。", "2018年7月31日")])
    doc = Document(meta=extract_metadata(paras, "plan.md"), text="\n".join(p.text for p in paras))
    m = _finder("的发文机关")(doc)
    assert m is not None and m.group(0) == "闵行区人民政府办公室" and m.start() == 0
