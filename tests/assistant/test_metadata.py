"""Metadata read from the text of official documents: title, 文号, issuer, date, kind, 签发人."""

from __future__ import annotations

import pytest

from assistant.ingest.clean import clean_blocks
from assistant.ingest.loaders import Block, load_file
from assistant.ingest.metadata import extract_metadata
from assistant.types import DocumentMeta
from tests.conftest import CORPUS, PLAN, REPLY


def _meta_of_file(name: str) -> DocumentMeta:
    return extract_metadata(clean_blocks(load_file(CORPUS / name)), name, "abc")


def _meta(text: str, source: str = "docs/some-file.txt") -> DocumentMeta:
    return extract_metadata(clean_blocks([Block(text=line) for line in text.strip().splitlines()]), source)


def test_reply_metadata() -> None:
    m = _meta_of_file(REPLY)
    assert m.source == REPLY and m.sha256 == "abc"
    assert m.doc_number == "长科委〔2025〕6号"  # written "长科委〔2025〕6 号" in the file
    assert "长科委〔2025〕6 号" in (CORPUS / REPLY).read_text(encoding="utf-8")
    assert m.title == "对长宁区政协第十五届四次会议第 122 号提案的答复"  # joined from two lines
    assert m.issuer == "上海市长宁区科学技术委员会"
    assert m.date == "2025-04-17"
    assert m.kind == "提案答复"
    assert m.title_from_filename is False
    assert m.signer == "詹镭"
    assert "王建涛" in m.contact and "22050980" in m.contact


def test_plan_metadata() -> None:
    m = _meta_of_file(PLAN)
    assert m.doc_number == "长科委〔2025〕13号"
    assert m.title == "关于印发《张江高新区长宁园改革创新 发展行动方案（2025-2026年）》的通知"
    assert m.issuer == "上海市长宁区科学技术委员会"
    assert m.date == "2025-07-25"
    assert m.kind == "通知"
    assert m.signer == ""


@pytest.mark.parametrize(
    ("header", "doc_number"),
    [
        ("沪府发[2024]5号", "沪府发〔2024〕5号"),
        ("国办发【2023】12号", "国办发〔2023〕12号"),
        ("沪府办发（2022）7 号", "沪府办发〔2022〕7号"),
        ("（长科委〔2025〕13号）", "长科委〔2025〕13号"),
        ("发文字号：沪科规〔2024〕2号", "沪科规〔2024〕2号"),
    ],
)
def test_doc_number_styles_are_normalised(header: str, doc_number: str) -> None:
    m = _meta(f"""
上海市人民政府文件
{header}
关于印发《上海市促进人工智能产业发展的若干措施》的通知
各区人民政府：
现将《若干措施》印发给你们，请认真按照执行。
上海市人民政府
2024年3月8日
""")
    assert m.doc_number == doc_number
    assert m.title == "关于印发《上海市促进人工智能产业发展的若干措施》的通知"
    assert m.issuer == "上海市人民政府"
    assert m.date == "2024-03-08"
    assert m.kind == "通知"


def test_title_before_doc_number_with_issuer_prefix() -> None:
    m = _meta("""
国务院办公厅关于进一步优化政务服务提升行政效能推动“高效办成一件事”的指导意见
国办发【2023】12号
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
为进一步优化政务服务，现提出以下意见。
一、总体要求
坚持以人民为中心。
国务院办公厅
2023年 6 月 9 日
""")
    assert m.title == "国务院办公厅关于进一步优化政务服务提升行政效能推动“高效办成一件事”的指导意见"
    assert m.doc_number == "国办发〔2023〕12号"
    assert m.kind == "意见"
    assert m.issuer == "国务院办公厅"
    assert m.date == "2023-06-09"


def test_title_wrapped_over_two_lines() -> None:
    m = _meta("""
长宁区人民政府办公室
关于印发长宁区促进人才高质量发展
若干政策措施的通知
长府办〔2024〕8号
各街道办事处：
""")
    assert m.title == "关于印发长宁区促进人才高质量发展若干政策措施的通知"
    assert m.doc_number == "长府办〔2024〕8号"


def test_document_without_doc_number() -> None:
    # a 文号 cited inside a sentence belongs to another document
    m = _meta("""
长宁区科技企业服务指南
为方便企业办事，根据国办发〔2023〕12号文件精神，编制本指南。
一、服务对象
区内科技型中小企业。
""")
    assert m.doc_number == ""
    assert m.title == "长宁区科技企业服务指南"
    assert m.kind == "指南"
    assert m.date == ""


def test_document_without_any_title_falls_back_to_file_name() -> None:
    m = _meta("""
一、服务对象
区内科技型中小企业。
二、服务内容
政策咨询、项目申报辅导。
""", source="guides/enterprise-services.txt")
    assert m.title == "enterprise-services" and m.title_from_filename is True
    assert m.doc_number == "" and m.issuer == ""


def test_date_is_the_signing_date_not_a_date_in_the_body() -> None:
    m = _meta("""
关于组织申报2024年度科技项目的通知
各有关单位：
申报截止时间为2024年5月31日。
长宁区科学技术委员会
2024年4月2日
""")
    assert m.date == "2024-04-02"
    assert m.issuer == "长宁区科学技术委员会"


def test_signing_date_in_chinese_numerals() -> None:
    # 成文日期 written in Chinese numerals (二〇一五年三月二十七日), under the issuer line
    m = _meta("""
各有关单位：
2015年度文化产业资助项目将于3月28日开始接受申报，具体事项通知如下：
一、申报时间：3月28日起至4月20日止。
南山区政府文化产业发展办公室
二〇一五年三月二十七日
""")
    assert m.date == "2015-03-27"
    assert m.issuer == "南山区政府文化产业发展办公室"


@pytest.mark.parametrize("day, iso", [("二〇二四年一月五日", "2024-01-05"), ("二○二三年十二月三十一日", "2023-12-31"),
                                      ("二〇二五年十月十日", "2025-10-10")])
def test_chinese_numeral_dates(day: str, iso: str) -> None:
    assert _meta(f"关于开展评估工作的通知\n各有关单位：\n请按时报送材料。\n区科委\n{day}\n").date == iso


def test_attachment_lines_and_body_lines_are_never_the_title() -> None:
    # No title line at all: an 附件 line, the 主送机关 or a line of the body must not stand in for it.
    m = _meta("""
各有关单位：
2015年度南山区文化产业资助项目将于3月28日开始接受申报，具体事项通知如下：
一、申请单位须在网上提交材料。
附件：1 2015年文化产业资金申报常见问题与解答.doc
2 文化产业分类.ppt
南山区政府文化产业发展办公室
二〇一五年三月二十七日
""", source="notices/nanshan-culture-2015.pdf")
    assert m.title == "nanshan-culture-2015" and m.title_from_filename is True


def test_a_sentence_broken_across_pdf_lines_is_not_a_title() -> None:
    # As a hard-wrapped PDF gives it (the cleaner could not join the halves): the first half is no title.
    lines = ["为贯彻落实《闵行区人民政府关于印发〈闵行区关于大力推进新型工业化高质量发",
             "展的若干政策意见〉的通知》(闵府规发〔2024〕1号),特制定本操作细则", ":",
             "一、给予优质项目土地出让费用及年限支持", "(一)申请条件", "闵行区总体规划确定的产业基地、产业社区"]
    m = extract_metadata([Block(text=t) for t in lines], "rules/minhang-operating-rules.pdf")
    assert m.title == "minhang-operating-rules" and m.title_from_filename is True


@pytest.mark.parametrize("title, issuer", [
    ("闵行区人民政府办公室关于印发《闵行制造业提升三年行动计划(2018-2020年)》的通知", "闵行区人民政府办公室"),
    ("闵行区人民政府印发《闵行区关于产业高质量发展的政策意见(试行)》的通知", "闵行区人民政府"),
    ("上海市经济信息化委关于开展2019年专项资金项目申报工作的通知", "上海市经济信息化委"),
    ("关于开展2019年重点项目申报的通知", ""),  # no 发文机关 before 关于
])
def test_issuer_from_the_title_when_the_document_names_none_elsewhere(title: str, issuer: str) -> None:
    # a 公文 title is 发文机关 + 关于/印发 + 事由 + 文种
    m = _meta(f"{title}\n各区科委：\n现将有关事项通知如下。\n一、申报条件\n在本市注册。\n")
    assert m.title == title and m.issuer == issuer
