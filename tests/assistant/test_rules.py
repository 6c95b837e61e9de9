"""The rules file: the packaged one loads and is cached; mistakes fail naming the file and the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.question import analyse
from assistant.rules import PACKAGED, Rules, RulesError, load_rules, parse_rules
from assistant.settings import Settings

TEXT = PACKAGED.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_rules_load_typed_and_compiled() -> None:
    rules = load_rules()
    assert isinstance(rules, Rules)
    assert load_rules() is rules and load_rules(PACKAGED) is rules  # cached per path
    assert isinstance(rules.question.enumeration, re.Pattern)
    assert "请问" in rules.lexical.stopwords and "d" in rules.lexical.phrasing_tags
    assert [t.name for t in rules.question.answer_types][:2] == ["amount", "rate"]
    assert rules.answer.metadata.fields[-1].pattern.flags & re.M  # multiline: true is compiled with re.M
    assert rules.gate.dense_skip_passages == 2 and rules.question.phrasing_weight == 0.25


def test_settings_point_at_the_packaged_file_and_honour_the_env(monkeypatch, tmp_path) -> None:
    assert Settings().rules_path.resolve() == PACKAGED
    path = _write(tmp_path, TEXT)
    monkeypatch.setenv("ASSISTANT_RULES_PATH", str(path))
    assert Settings().rules_path == path
    assert load_rules(Settings().rules_path) is not load_rules()


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("enumeration: '哪些|", "enumeration: '(哪些|", "enumeration:", "正则表达式无效"),  # unbalanced (
        ("  top_passages: 3\n  # 拒答", "  top_passages: 3\n  top_pasages: 4\n  # 拒答", "top_pasages", "不认识的字段"),
        ("phrasing_weight: 0.25", "phrasing_weight: 1.5", "phrasing_weight", "数值过大"),
        ("ordinal: '第([一二三四五六七八九十\\d]{1,2})", "ordinal: '第(?:[一二三四五六七八九十\\d]{1,2})", "  ordinal: '第", "捕获组"),
        ("evidence: line\n        pattern: '签发人", "evidence: line\n        patern: '签发人", "patern", "不认识的字段"),
    ],
)
def test_mistakes_name_the_file_and_line(tmp_path, old, new, needle, message) -> None:
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    path = _write(tmp_path, text)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    msg = str(err.value)
    assert str(path) in msg and f"第 {_line_of(text, needle)} 行" in msg and message in msg, msg
    assert err.value.hint  # what to do about it


def test_a_metadata_line_field_needs_a_pattern() -> None:
    text = TEXT.replace("        pattern: '签发人\\s*[:：]\\s*\\S+'\n", "", 1)
    assert text != TEXT
    with pytest.raises(RulesError, match="需要 pattern"):
        parse_rules(text, "x.yaml")


def test_not_yaml_and_missing_file() -> None:
    with pytest.raises(RulesError, match="bad.yaml 第 3 行不是有效的 YAML"):
        parse_rules("version: 1\nquestion: [\n", "bad.yaml")
    with pytest.raises(RulesError, match="找不到规则文件"):
        load_rules("/nonexistent/rules.yaml")


def test_code_reads_the_rules_it_is_given() -> None:
    """A seam: changed rules change the analysis without touching code."""
    rules = load_rules()
    assert "孵化器" in analyse("孵化器有哪些？", rules).terms
    q = rules.question.model_copy(update={"frame_words": rules.question.frame_words | {"孵化器"}})
    custom = rules.model_copy(update={"question": q})
    assert "孵化器" not in analyse("孵化器有哪些？", custom).terms
    assert analyse("孵化器有哪些？", rules).terms  # the packaged rules are untouched


PASSAGES = [
    ("phone", "市科技局高新科  3328151  市科技局计划科", True),  # a 7-digit local number (smaller cities)
    ("phone", "联系人:大数据处符云春 028-86261398", True),  # area code + 8 digits
    ("phone", "联系电话:61421328-5068", True),  # with an extension
    ("phone", "咨询电话：13912345678", True),  # a mobile number
    ("phone", "项目编号 202312345678", False),  # part of a longer code, not a number to call
    ("phone", "给予最高 500 万元的一次性奖励", False),
    ("email", "电子邮箱:gxj409@126.com", True),
    ("email", "请将电子版发送至指定邮箱", False),  # names the mailbox, gives no address
    ("url", "网址(http://sf ms.szns.gov.cn)", True),
    ("url", "请登录项目登记平台办理", False),
    ("website", "从北京市人力资源和社会保障局官网查询下载", True),  # "哪个网站" may be answered by its name
    ("fax", "传真：028-86261399", True),
    ("fax", "联系电话：028-86261398", False),  # a phone number is not a fax number
]


@pytest.mark.parametrize(("kind", "text", "holds"), PASSAGES)
def test_contact_kinds_know_their_answers(kind, text, holds) -> None:
    answer_type = load_rules().question.answer_type(kind)
    assert answer_type is not None
    assert bool(answer_type.passage.search(text)) is holds


@pytest.mark.parametrize(("question", "kind"), [
    ("双创平台的申报材料电子版发到哪个邮箱？", "email"),
    ("专项资金的网上申报平台网址是什么？", "url"),
    ("评审结果会在哪个网站公示？", "website"),
    ("大数据处的传真号是多少？", "fax"),
    ("申报找谁联系？电话多少？", "phone"),
])
def test_contact_questions_ask_for_a_kind_a_quote_must_hold(question, kind) -> None:
    rules = load_rules()
    assert analyse(question, rules).answer_type == kind
    assert kind in rules.answer.decision.required_types
    # contact details stand beside the sentence about the topic, never in it
    assert rules.question.answer_type(kind).window > 0


def test_an_email_domain_is_not_a_web_address() -> None:
    url = load_rules().question.answer_type("url")
    assert url is not None
    assert not url.passage.search("电子邮箱：gxj409@126.com")
    assert url.passage.search("登录 sfms.szns.gov.cn 申报") and url.passage.search("见www.example.cn")


@pytest.mark.parametrize(("question", "metadata", "kind"), [
    ("焦作转发的省工信委办公室通知文号是什么？", False, "doc_number"),  # a document this one forwards
    ("鹤壁高企奖补依据的市级科技专项资金管理办法文号是什么？", False, "doc_number"),
    ("天津市促进开发区改革和创新发展的实施方案是用哪个文号印发的？", True, None),  # its own 文号
    ("它的文号是多少？", True, None),
])
def test_a_number_question_about_a_cited_document_is_not_about_this_one(question, metadata, kind) -> None:
    qa = analyse(question, load_rules())
    assert qa.metadata_field is metadata
    assert qa.answer_type == kind


@pytest.mark.parametrize(("question", "kinds"), [
    ("场地租金最高支持多少比例？", ["rate"]),  # 租金…多少 reads as an amount too: 多少比例 says it is a rate
    ("基础研究的钱占研发经费的多大比例？", ["rate"]),
    ("补贴比例和最高金额是多少？", ["amount", "rate"]),  # both asked: both kept
    ("购房补贴最多给多少？", ["amount"]),
])
def test_a_rate_question_is_not_also_an_amount_question(question, kinds) -> None:
    assert [k for k, _ in analyse(question, load_rules()).answer_kinds] == kinds


@pytest.mark.parametrize(("question", "enumeration"), [
    ("要满足哪两个条件？", True),  # the question says how long the list is
    ("下一步要做哪三方面工作？", True),
    ("有哪些支持方式？", True),
    ("哪个部门负责？", False),  # one thing asked
])
def test_a_question_that_names_the_lists_length_asks_for_the_list(question, enumeration) -> None:
    assert analyse(question, load_rules()).enumeration is enumeration


@pytest.mark.parametrize(("question", "kind"), [
    ("2023年认定新增的示范性科普场馆有几家？", "count"),  # 有几家 asks how many
    ("一共计划认定多少家？", "count"),
    ("是哪几家单位？", None),  # 哪几家 asks for the names
])
def test_how_many_is_a_count_question(question, kind) -> None:
    assert analyse(question, load_rules()).answer_type == kind


def test_which_numbered_proposal_asks_for_a_number_the_quote_must_hold() -> None:
    rules = load_rules()
    qa = analyse("这份会办意见对应的是区政协第几号提案？", rules)
    assert qa.answer_type == "item_number" and "item_number" in rules.answer.decision.required_types
    assert qa.answer_pattern is not None and qa.answer_pattern.search("关于区政协第155144号提案的会办意见")
    assert not qa.answer_pattern.search("我们将积极会同区文旅局进一步提升该区域的能级")
