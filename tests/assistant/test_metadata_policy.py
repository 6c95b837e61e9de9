"""Policy metadata read from a document's own text: 施行日期, 有效期, 申报截止, status, repeals, title layouts, kind."""

from __future__ import annotations

import pytest

from assistant.ingest.clean import clean_blocks
from assistant.ingest.loaders import Block, load_file
from assistant.ingest.metadata import extract_metadata
from assistant.types import DocumentMeta
from tests.conftest import CORPUS, PLAN, REPLY

SIGNED = "长宁区科学技术委员会\n2024年12月20日"


def _paras(text: str, headings: dict[str, int] | None = None) -> list[Block]:
    h = headings or {}
    return clean_blocks([Block(text=line, heading=h.get(line.strip(), 0)) for line in text.strip().splitlines()])


def _meta(text: str, source: str = "docs/some-file.txt", headings: dict[str, int] | None = None) -> DocumentMeta:
    return extract_metadata(_paras(text, headings), source)


def _doc_text(text: str) -> str:
    return "\n".join(p.text for p in _paras(text))


def _notice(body: str, title: str = "长宁区促进科技创新若干措施", signed: str = SIGNED) -> str:
    return f"{title}\n各有关单位：\n{body}\n{signed}"


# ---- 施行日期 ----

@pytest.mark.parametrize(
    ("body", "effective", "from_issue", "sentence"),
    [
        ("本办法自2025年1月1日起施行。", "2025-01-01", False, "本办法自2025年1月1日起施行。"),
        ("第二十条 本措施自2025年3月1日起实施。", "2025-03-01", False, "第二十条 本措施自2025年3月1日起实施。"),
        ("本细则自 2025 年 2 月 1 日起执行，由区科委负责解释。", "2025-02-01", False,
         "本细则自 2025 年 2 月 1 日起执行，由区科委负责解释。"),
        ("本通知自印发之日起施行。", "2024-12-20", True, "本通知自印发之日起施行。"),
        ("本办法自发布之日起施行。", "2024-12-20", True, "本办法自发布之日起施行。"),
        ("本办法自发布之日起30日后施行。", "2025-01-19", True, "本办法自发布之日起30日后施行。"),
        ("本规定自公布之日起三十日后施行。", "2025-01-19", True, "本规定自公布之日起三十日后施行。"),
        ("本通知自即日起执行。", "2024-12-20", True, "本通知自即日起执行。"),
        ("以上措施自2025年1月1日起正式实施。", "2025-01-01", False, "以上措施自2025年1月1日起正式实施。"),
    ],
)
def test_effective_date_forms(body: str, effective: str, from_issue: bool, sentence: str) -> None:
    text = _notice(f"一、支持对象\n区内科技型中小企业。\n二、附则\n{body}")
    m = _meta(text)
    assert m.effective_date == effective
    assert m.effective_from_issue is from_issue
    assert m.effective_text == sentence
    assert m.effective_text in _doc_text(text)  # verbatim, quotable


def test_from_issue_without_a_known_date_keeps_the_sentence() -> None:
    m = _meta("长宁区促进科技创新若干措施\n一、附则\n本措施自印发之日起施行。", )
    assert m.date == "" and m.effective_date == ""
    assert m.effective_from_issue and m.effective_text == "本措施自印发之日起施行。"


@pytest.mark.parametrize(
    "body",
    [
        "《上海市科技创新促进办法》自2020年1月1日起施行以来，成效明显。",  # another document's date
        "根据自2021年5月1日起施行的《上海市促进科技成果转化条例》，制定本措施。",
        "申报项目自2025年1月1日起实施，执行期一年。",  # a project, not the policy
        "2021年12月1日起已试行的做法继续有效。",
    ],
)
def test_effective_dates_of_other_things_are_not_taken(body: str) -> None:
    m = _meta(_notice(body))
    assert m.effective_date == "" and m.effective_text == ""


def test_own_effective_clause_wins_over_a_cited_one() -> None:
    m = _meta(_notice("《上海市科技创新促进办法》自2020年1月1日起施行以来成效明显。\n本措施自2025年1月1日起施行。"))
    assert m.effective_date == "2025-01-01" and m.effective_text == "本措施自2025年1月1日起施行。"


# ---- 有效期 ----

@pytest.mark.parametrize(
    ("body", "effective", "expiry", "period", "validity"),
    [
        ("本办法自2025年1月1日起施行，有效期至2027年12月31日。", "2025-01-01", "2027-12-31", "",
         "本办法自2025年1月1日起施行，有效期至2027年12月31日。"),
        ("本措施自2025年1月1日起施行，有效期3年。", "2025-01-01", "2027-12-31", "3年",
         "本措施自2025年1月1日起施行，有效期3年。"),
        ("本措施自2025年1月1日起施行。有效期为三年。", "2025-01-01", "2027-12-31", "3年", "有效期为三年。"),
        ("本办法自2025年7月1日起施行，五年内有效。", "2025-07-01", "2030-06-30", "5年",
         "本办法自2025年7月1日起施行，五年内有效。"),
        ("本办法自2025年1月1日起试行，试行期两年。", "2025-01-01", "2026-12-31", "2年",
         "本办法自2025年1月1日起试行，试行期两年。"),
        ("本细则有效期限为十年。\n本细则自2024年3月1日起施行。", "2024-03-01", "2034-02-28", "10年", "本细则有效期限为十年。"),
        ("本政策执行期限为2025年1月1日至2027年12月31日。", "2025-01-01", "2027-12-31", "",
         "本政策执行期限为2025年1月1日至2027年12月31日。"),
        ("本办法自2025年1月1日起至2026年12月31日止施行。", "2025-01-01", "2026-12-31", "",
         "本办法自2025年1月1日起至2026年12月31日止施行。"),
        ("本通知自印发之日起施行，有效期6个月。", "2024-12-20", "2025-06-19", "6个月",
         "本通知自印发之日起施行，有效期6个月。"),
        ("本措施自2024年2月29日起施行，有效期一年。", "2024-02-29", "2025-02-28", "1年",
         "本措施自2024年2月29日起施行，有效期一年。"),
    ],
)
def test_validity_forms(body: str, effective: str, expiry: str, period: str, validity: str) -> None:
    text = _notice(f"一、附则\n{body}")
    m = _meta(text)
    assert (m.effective_date, m.expiry_date, m.validity_period) == (effective, expiry, period)
    assert m.validity_text == validity and validity in _doc_text(text)


def test_period_without_effective_date_keeps_the_period_only() -> None:
    m = _meta("长宁区促进科技创新若干措施\n一、附则\n本措施有效期三年。")
    assert m.effective_date == "" and m.expiry_date == ""
    assert m.validity_period == "3年" and m.validity_text == "本措施有效期三年。"


@pytest.mark.parametrize(
    "body",
    [
        "高新技术企业认定有效期为三年。",  # a qualification
        "经认定的企业，有效期三年。",
        "项目执行期限为2025年1月1日至2026年12月31日。",  # a project
        "申报时间为2025年3月1日至2025年3月31日。",  # an application window
        "租赁合同有效期至2026年12月31日。",
    ],
)
def test_periods_of_other_things_are_not_the_policys_validity(body: str) -> None:
    m = _meta(_notice(f"本措施自2025年1月1日起施行。\n三、其他\n{body}"))
    assert m.expiry_date == "" and m.validity_period == "" and m.validity_text == ""
    assert m.effective_date == "2025-01-01"


# ---- 申报截止 ----

@pytest.mark.parametrize(
    ("body", "deadline", "sentence"),
    [
        ("申报截止时间为2024年5月31日。", "2024-05-31", "申报截止时间为2024年5月31日。"),
        ("请于2025年1月15日前将申报材料报送至区科委。", "2025-01-15", "请于2025年1月15日前将申报材料报送至区科委。"),
        ("申报时间：2025年3月1日至3月31日。", "2025-03-31", "申报时间：2025年3月1日至3月31日。"),
        ("受理截止日期：2025年2月28日17:00。", "2025-02-28", "受理截止日期：2025年2月28日17:00。"),
        ("各单位请于6月30日（星期一）17:00前报送。", "2024-06-30", "各单位请于6月30日（星期一）17:00前报送。"),  # year of the document
        ("网上申报截至5月20日。", "2024-05-20", "网上申报截至5月20日。"),
    ],
)
def test_application_deadline_forms(body: str, deadline: str, sentence: str) -> None:
    text = _notice(f"一、申报要求\n{body}", title="关于组织申报2024年度科技项目的通知",
                   signed="长宁区科学技术委员会\n2024年4月2日")
    m = _meta(text)
    assert m.application_deadline == deadline and m.deadline_text == sentence
    assert sentence in _doc_text(text)
    assert m.expiry_date == "" and m.validity_text == ""  # an application deadline is not the policy's expiry
    assert m.kind == "申报通知"


def test_application_deadline_and_validity_are_kept_apart() -> None:
    m = _meta(_notice(
        "一、申报\n申报截止时间为2025年3月31日。\n二、附则\n本措施自2025年1月1日起施行，有效期至2027年12月31日。"
    ))
    assert m.application_deadline == "2025-03-31" and m.deadline_text == "申报截止时间为2025年3月31日。"
    assert m.effective_date == "2025-01-01" and m.expiry_date == "2027-12-31"
    assert m.validity_text == "本措施自2025年1月1日起施行，有效期至2027年12月31日。"


def test_an_eligibility_date_is_not_a_deadline() -> None:
    m = _meta(_notice("申请企业须在2023年12月31日前在本区注册。"))
    assert m.application_deadline == "" and m.deadline_text == ""


# ---- status and repeals ----

@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("长宁区科技企业培育管理办法（试行）\n第一条 为培育科技企业，制定本办法。", ["试行"]),
        ("长宁区科技企业培育暂行办法\n第一条 为培育科技企业，制定本办法。", ["试行"]),
        ("长宁区科技企业培育管理办法\n（试行）\n第一条 为培育科技企业，制定本办法。", ["试行"]),
        ("长宁区科技企业培育办法\n第一条 本办法自2025年1月1日起试行。", ["试行"]),
        ("长宁区促进人工智能产业发展若干措施（征求意见稿）\n一、支持对象\n区内企业。", ["征求意见稿"]),
        ("长宁区数据条例（草案）\n第一条 为规范数据管理，制定本条例。", ["征求意见稿"]),
        ("长宁区科技企业培育办法\n（征求意见稿）\n一、支持对象\n区内企业。", ["征求意见稿"]),
        ("长宁区科技企业培育办法（修订）\n第一条 为培育科技企业，制定本办法。", ["修订"]),
        ("长宁区科技企业培育办法（2024年修订）\n第一条 为培育科技企业，制定本办法。", ["修订"]),
        ("关于开展科技创新券工作的通知\n【已废止】\n各有关单位：\n现将有关事项通知如下。", ["废止"]),
        ("关于开展科技创新券工作的通知\n各有关单位：\n本通知已废止。", ["废止"]),
        ("长宁区科技企业培育暂行办法（征求意见稿）\n第一条 为培育科技企业，制定本办法。", ["试行", "征求意见稿"]),
    ],
)
def test_status_flags(text: str, status: list[str]) -> None:
    assert _meta(text).status == status


@pytest.mark.parametrize(
    ("body", "repeals"),
    [
        ("本办法自2025年1月1日起施行，原《长宁区科技企业培育办法》同时废止。", ["长宁区科技企业培育办法"]),
        ("本办法自2025年1月1日起施行。原《长宁区科技企业培育办法》（长科委〔2020〕3号，以下简称原办法）同时废止。",
         ["长宁区科技企业培育办法"]),
        ("本措施施行后，《长宁区人才安居办法》和《长宁区人才奖励办法》同时废止。",
         ["长宁区人才安居办法", "长宁区人才奖励办法"]),
        ("《长宁区科技企业培育办法》（长科委〔2020〕3号，以下简称原办法），同时废止。", ["长宁区科技企业培育办法"]),
        ("2020年印发的《关于促进科技创新的若干意见》停止执行。", ["关于促进科技创新的若干意见"]),
    ],
)
def test_repealing_another_document_does_not_repeal_this_one(body: str, repeals: list[str]) -> None:
    m = _meta(_notice(f"一、附则\n{body}", title="长宁区科技企业培育办法（2025年修订）"))
    assert m.repeals == repeals
    assert "废止" not in m.status
    assert m.status == ["修订"]


def test_a_repealing_decision_names_the_repealed_document() -> None:
    m = _meta("关于废止《长宁区科技企业培育办法》的决定\n各有关单位：\n经研究，决定废止《长宁区科技企业培育办法》。\n"
              + SIGNED)
    assert m.repeals == ["长宁区科技企业培育办法"] and m.status == [] and m.kind == "决定"


# ---- titles ----

@pytest.mark.parametrize(
    ("text", "title"),
    [
        # issuer and 关于 on one line
        ("长宁区关于印发《长宁区促进人工智能产业发展若干措施》的通知\n各街道：\n现将《若干措施》印发给你们。",
         "长宁区关于印发《长宁区促进人工智能产业发展若干措施》的通知"),
        # 印发 without 关于
        ("上海市人民政府办公厅印发《上海市促进数字经济发展行动方案》的通知\n各区人民政府：\n现将方案印发给你们。",
         "上海市人民政府办公厅印发《上海市促进数字经济发展行动方案》的通知"),
        # split over two short lines, no 关于
        ("上海市长宁区促进人工智能\n产业发展若干措施\n一、支持对象\n区内企业。", "上海市长宁区促进人工智能产业发展若干措施"),
        # split over three short lines
        ("上海市长宁区\n促进人工智能产业\n高质量发展实施细则\n第一条 为促进产业发展，制定本细则。",
         "上海市长宁区促进人工智能产业高质量发展实施细则"),
        # the 文号 closing the title line
        ("关于印发《长宁区科技企业培育办法》的通知（长科委〔2025〕3号）\n各有关单位：\n现印发给你们。",
         "关于印发《长宁区科技企业培育办法》的通知"),
        # the title inside 《》 on a 印发 line
        ("长宁区人民政府印发《长宁区人才安居实施办法》\n各街道办事处：\n现印发给你们，请遵照执行。", "长宁区人才安居实施办法"),
        # a title line above the adoption note of a 规章
        ("上海市长宁区科技创新促进办法\n（2024年3月1日长宁区人民政府第50次常务会议通过）\n第一条 为促进科技创新，制定本办法。",
         "上海市长宁区科技创新促进办法"),
        ("长宁区公共数据\n开放管理规定\n（2024年3月1日长宁区人民政府第50次常务会议通过）\n第一条 为规范开放，制定本规定。",
         "长宁区公共数据开放管理规定"),
        # a crawled page on one line: the title is the part before the body
        ("上海市长宁区促进人工智能产业发展若干措施 为进一步推动人工智能产业高质量发展，结合本区实际，制定本措施。一、支持对象。",
         "上海市长宁区促进人工智能产业发展若干措施"),
        ("上海市长宁区促进人工智能产业发展若干措施为进一步推动人工智能产业高质量发展，结合本区实际，制定本措施。",
         "上海市长宁区促进人工智能产业发展若干措施"),
        # a 解读 page
        ("《长宁区促进人工智能产业发展若干措施》政策解读\n一、出台背景\n为推动产业发展。", "《长宁区促进人工智能产业发展若干措施》政策解读"),
        ("关于《长宁区促进人工智能产业发展若干措施》的解读\n一、出台背景\n为推动产业发展。",
         "关于《长宁区促进人工智能产业发展若干措施》的解读"),
        # a breadcrumb above the title
        ("首页 > 政策文件\n长宁区科技企业培育办法\n第一条 为培育科技企业，制定本办法。", "长宁区科技企业培育办法"),
        # an issuer line above a non-关于 title is not part of it
        ("上海市长宁区人民政府办公室\n长宁区科技企业培育办法\n第一条 为培育科技企业，制定本办法。", "长宁区科技企业培育办法"),
        # '（试行）' on its own line belongs to the title
        ("长宁区科技企业培育管理办法\n（试行）\n第一条 为培育科技企业，制定本办法。", "长宁区科技企业培育管理办法（试行）"),
        # no title line: '现将《…》印发给你们' names the policy
        ("各有关单位：\n现将《长宁区科技企业培育办法》印发给你们，请认真按照执行。\n" + SIGNED, "长宁区科技企业培育办法"),
    ],
)
def test_title_layouts(text: str, title: str) -> None:
    m = _meta(text, source="docs/file-name.txt")
    assert m.title == title
    assert m.title_from_filename is False


@pytest.mark.parametrize("level", [1, 2])
def test_title_from_a_markdown_or_docx_heading(level: int) -> None:
    text = "上海市长宁区人民政府\n长宁区促进人工智能产业发展行动方案\n为推动产业发展，制定本方案。\n一、主要目标\n到2026年建成示范区。"
    m = _meta(text, headings={"长宁区促进人工智能产业发展行动方案": level, "一、主要目标": level + 1})
    assert m.title == "长宁区促进人工智能产业发展行动方案" and m.kind == "行动方案"


def test_file_name_only_when_nothing_title_shaped() -> None:
    m = _meta("一、服务对象\n区内科技型中小企业。\n二、服务内容\n政策咨询。", source="guides/enterprise-services.txt")
    assert m.title == "enterprise-services" and m.title_from_filename is True


# ---- kinds ----

@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("《长宁区促进人工智能产业发展若干措施》政策解读", "政策解读"),
        ("2025年长宁区科技创新券申报指南", "申报指南"),
        ("关于开展2025年度科技小巨人企业申报工作的通知", "申报通知"),
        ("长宁区促进科技成果转化实施细则", "实施细则"),
        ("长宁区科技创新券管理办法（试行）", "管理办法"),
        ("长宁区促进人工智能产业发展若干措施", "若干措施"),
        ("长宁区鼓励科技创新的若干政策措施", "若干措施"),
        ("长宁区数字化转型行动方案（2025-2026年）", "行动方案"),
        ("关于印发《长宁区科技创新券申报指南》的通知", "通知"),  # a 印发 notice stays a notice
        ("长宁区科技企业培育办法", "办法"),
        ("关于进一步优化营商环境的意见", "意见"),
    ],
)
def test_kinds_from_the_title(title: str, kind: str) -> None:
    assert _meta(f"{title}\n各有关单位：\n现将有关事项通知如下。").kind == kind


# ---- the shipped documents ----

@pytest.mark.parametrize(
    ("name", "title", "doc_number", "date", "kind"),
    [
        (REPLY, "对长宁区政协第十五届四次会议第 122 号提案的答复", "长科委〔2025〕6号", "2025-04-17", "提案答复"),
        (PLAN, "关于印发《张江高新区长宁园改革创新 发展行动方案（2025-2026年）》的通知", "长科委〔2025〕13号",
         "2025-07-25", "通知"),
    ],
)
def test_shipped_documents_keep_their_metadata(name: str, title: str, doc_number: str, date: str, kind: str) -> None:
    m = extract_metadata(clean_blocks(load_file(CORPUS / name)), name)
    assert (m.title, m.doc_number, m.date, m.kind) == (title, doc_number, date, kind)
    assert m.title_from_filename is False
    # neither states a 施行日期, 有效期 or 申报截止, nor repeals anything
    assert (m.effective_date, m.expiry_date, m.application_deadline) == ("", "", "")
    assert m.status == [] and m.repeals == []


def test_a_recurring_application_window_has_no_single_deadline() -> None:
    m = _meta(_notice("申报时间为每年3月1日至3月31日，请于截止日前通过系统提交。"))
    assert m.application_deadline == "" and m.deadline_text == ""


def test_an_interpretation_page_is_not_flagged_by_the_policy_it_explains() -> None:
    m = _meta("首页 > 政策解读\n《长宁区促进人工智能产业发展若干措施（试行）》政策解读\n一、出台背景\n为推动产业发展。")
    assert m.title == "《长宁区促进人工智能产业发展若干措施（试行）》政策解读"
    assert m.kind == "政策解读" and m.status == []


def test_a_site_section_line_is_not_the_start_of_the_title() -> None:
    assert _meta("政策文件\n长宁区科技企业培育办法\n第一条 为培育科技企业，制定本办法。").title == "长宁区科技企业培育办法"


def test_a_full_notice_with_an_attached_policy() -> None:
    text = """上海市长宁区人民政府办公室文件
长府办发〔2024〕12号
上海市长宁区人民政府办公室关于印发《长宁区促进人工智能产业高质量发展若干措施》的通知
各街道办事处、区政府各委、办、局：
《长宁区促进人工智能产业高质量发展若干措施》已经区政府常务会议审议通过，现印发给你们，请认真按照执行。
上海市长宁区人民政府办公室
2024年5月6日
长宁区促进人工智能产业高质量发展若干措施
为进一步推动人工智能产业发展，制定本措施。
一、支持算力建设
对企业购买算力给予补贴。高新技术企业认定有效期为三年。
二、申报
2024年度申报截止时间为2024年9月30日。
三、附则
本措施自2024年6月1日起施行，有效期至2026年12月31日。《长宁区促进人工智能产业发展的实施意见》（长府办〔2021〕3号）同时废止。"""
    m = _meta(text)
    assert m.title == "上海市长宁区人民政府办公室关于印发《长宁区促进人工智能产业高质量发展若干措施》的通知"
    assert (m.doc_number, m.issuer, m.date, m.kind) == ("长府办发〔2024〕12号", "上海市长宁区人民政府办公室", "2024-05-06", "通知")
    assert (m.effective_date, m.expiry_date, m.validity_period) == ("2024-06-01", "2026-12-31", "")
    assert m.effective_text == m.validity_text == "本措施自2024年6月1日起施行，有效期至2026年12月31日。"
    assert m.application_deadline == "2024-09-30" and m.deadline_text == "2024年度申报截止时间为2024年9月30日。"
    assert m.repeals == ["长宁区促进人工智能产业发展的实施意见"] and m.status == []
    doc = _doc_text(text)
    assert all(s in doc for s in (m.effective_text, m.validity_text, m.deadline_text))


def test_crawled_one_line_page_behind_a_breadcrumb() -> None:
    m = _meta("首页>政策文件 上海市长宁区促进人工智能产业发展若干措施 2024-03-01 为进一步推动产业发展，制定本措施。")
    assert m.title == "上海市长宁区促进人工智能产业发展若干措施" and m.kind == "若干措施"


def test_a_coupon_validity_is_not_the_policys() -> None:
    m = _meta(_notice("本措施自2025年1月1日起施行。\n科技创新券有效期至2025年12月31日。"))
    assert m.effective_date == "2025-01-01" and m.expiry_date == ""


def test_the_attached_policys_date_wins_over_the_notices_from_issue_clause() -> None:
    m = _meta(_notice("现将《若干措施》印发给你们。本通知自印发之日起施行。\n一、附则\n本措施自2025年1月1日起施行。"))
    assert m.effective_date == "2025-01-01" and m.effective_from_issue is False
    assert m.effective_text == "本措施自2025年1月1日起施行。"


def test_docx_title_style_and_html_h1(tmp_path) -> None:
    from tests.fixtures.docs import make_docx

    path = make_docx(
        tmp_path / "measures.docx",
        [
            ("Normal", "上海市长宁区人民政府"),
            ("Title", "长宁区促进人工智能产业发展实施细则（试行）"),
            ("Heading 1", "第一章 总则"),
            ("Normal", "第一条 本细则自2025年1月1日起施行，有效期两年。"),
        ],
    )
    m = extract_metadata(clean_blocks(load_file(path)), "measures.docx")
    assert m.title == "长宁区促进人工智能产业发展实施细则（试行）" and m.kind == "实施细则"
    assert (m.effective_date, m.expiry_date, m.status) == ("2025-01-01", "2026-12-31", ["试行"])

    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><div>上海市长宁区人民政府</div><h1>长宁区科技创新券管理办法</h1>"
        "<p>第一条 为规范管理，制定本办法。</p><p>第二十条 本办法自印发之日起施行。</p>"
        "<p>2025年3月1日</p></body></html>",
        encoding="utf-8",
    )
    m = extract_metadata(clean_blocks(load_file(page)), "page.html")
    assert m.title == "长宁区科技创新券管理办法" and m.kind == "管理办法"
    assert m.date == "2025-03-01" and m.effective_date == "2025-03-01" and m.effective_from_issue


def test_a_reporting_period_is_not_an_application_deadline() -> None:
    m = _meta(_notice("申请人应提交2024年1月1日至2024年12月31日的财务报表。"))
    assert m.application_deadline == ""


def test_a_cited_interim_measure_does_not_make_this_one_interim() -> None:
    m = _meta(_notice("本办法未尽事宜，参照《上海市科技创新券管理暂行办法》执行。", title="长宁区科技创新券管理办法"))
    assert m.status == []


@pytest.mark.parametrize(("label", "status"), [("效力状态：失效", ["废止"]), ("时效性：有效", [])])
def test_a_crawled_pages_validity_label(label: str, status: list[str]) -> None:
    m = _meta(f"长宁区科技创新券管理办法\n发文字号：长科委〔2020〕3号 {label}\n第一条 为规范管理，制定本办法。")
    assert m.status == status


def test_a_year_is_not_a_validity_period() -> None:
    m = _meta(_notice("本措施自2025年1月1日起施行，2025年内有效。"))
    assert m.validity_period == "" and m.expiry_date == ""
