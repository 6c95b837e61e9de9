"""Cleaning: lines broken mid-sentence are joined, page artefacts dropped, every other character kept."""

from __future__ import annotations

import re

import pytest

from assistant.ingest.clean import clean_blocks, normalize_for_match
from assistant.ingest.loaders import Block, load_file
from assistant.ingest.pipeline import process_file
from assistant.types import Document
from tests.conftest import CORPUS, PLAN, REPLY, make_settings


@pytest.fixture(scope="module")
def corpus_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Document]:
    settings = make_settings(tmp_path_factory.mktemp("clean-data"))
    return {name: process_file(CORPUS / name, name, "sha", settings)[0] for name in (REPLY, PLAN)}


def _raw_flat(name: str) -> str:
    """The source file without whitespace and without the markdown markers ** # and the --- rule."""
    raw = (CORPUS / name).read_text(encoding="utf-8")
    return normalize_for_match(raw).replace("**", "").replace("#", "").replace("---", "")


def _clean(lines: list[str]) -> list[str]:
    return [b.text for b in clean_blocks([Block(text=t) for t in lines])]


def test_reply_lines_broken_mid_sentence_are_joined(corpus_docs: dict[str, Document]) -> None:
    text = corpus_docs[REPLY].text
    raw = (CORPUS / REPLY).read_text(encoding="utf-8")
    for phrase in (
        "长宁坚持以强化科技创新策源功能为主线",  # broken over two lines in the .txt
        "鼓励重点企业创办或联合高校和科研院所等设立新型研发机构，鼓励建设高质量孵化器",  # across a page break
        "《长宁区全面推进“上海硅巷”科创街区建设三年行动方案（2023-2025年）》于 2023年发布实施",
    ):
        assert phrase not in raw, "the source really breaks this phrase"
        assert phrase in text
    # whole paragraphs: a paragraph ends with a sentence end (or is a heading / header / footer line)
    assert "始终将科技创新作为推动高质量发展的核心引擎。长宁坚持以强化科技创新策源功能为主线，" in text


def test_plan_breaks_inside_paragraphs_are_joined(corpus_docs: dict[str, Document]) -> None:
    text = corpus_docs[PLAN].text
    for phrase in ("劳动生产率（人均增加值）", "建立学校科技成果转化中心与大学科技园成果转化孵化协作机制",
                   "“一单掌握+一口受理”", "更多重点产业楼宇", "中科院上海微系统所、硅酸盐所为创新策源"):
        assert phrase in text


@pytest.mark.parametrize("name", [REPLY, PLAN])
def test_no_blank_lines_and_every_character_kept(corpus_docs: dict[str, Document], name: str) -> None:
    text = corpus_docs[name].text
    assert "\n\n" not in text and not text.startswith("\n") and not text.endswith("\n")
    assert all(line.strip() == line and line for line in text.split("\n"))
    flat = _raw_flat(name)
    for paragraph in text.split("\n"):
        assert normalize_for_match(paragraph) in flat, paragraph
    # nothing dropped or added but whitespace and markup: the same characters in the same order
    assert normalize_for_match(text) == flat


def test_page_numbers_and_blank_runs_are_dropped() -> None:
    lines = [
        "为进一步提升政务服务效能，推动数字化转型，鼓励重点企业设立新型研发机",
        "",
        "- 3 -",
        "",
        "",
        "构，鼓励建设高质量孵化器。",
        "— 12 —",
        "第 2 页",
        "第3页 共10页",
        "3/10",
        "Page 4 of 10",
        "7",
        "二、主要任务",
        "   ",
        "　　加快建设平台。",
        "-----",
    ]
    assert _clean(lines) == [
        "为进一步提升政务服务效能，推动数字化转型，鼓励重点企业设立新型研发机构，鼓励建设高质量孵化器。",
        "二、主要任务",
        "加快建设平台。",
    ]


def test_numbers_inside_text_are_not_page_numbers() -> None:
    kept = ["2025年4月17日", "第二条 本办法自发布之日起施行。", "14 项政策已发布。", "1、强化园区工作机制"]
    assert _clean(kept) == kept


def test_hard_wrapped_text_is_joined_by_line_width() -> None:
    # a PDF page: every body line is about as wide as the text column, breaks fall anywhere
    lines = [
        "长宁区自“数字长宁”战略实施二十余年来，始终将",
        "科技创新作为推动高质量发展的核心引擎。长宁坚持以强",
        "化科技创新策源功能为主线，打造产学研协同创新体系",
        "探索概念验证中心建设等科技成果转化新模式努力为区",
        "域发展做好科技支撑和服务。",
        "一、完善政策支撑体系",
        "2025年，政策发布，重点围绕三个方面提出14项政策。",
    ]
    assert _clean(lines) == ["".join(lines[:5]), lines[5], lines[6]]


def test_structure_lines_are_never_glued() -> None:
    lines = [
        "上海市人民政府文件",
        "沪府发〔2024〕5号",
        "上海市人民政府关于印发《上海市促进人工智能产业发展的若干措施》的通知",
        "各区人民政府，市政府各委、办、局：",
        "现将《若干措施》印发给你们，请认真按照执行。",
        "他说：“要把政策落到实处。”",
        "下一段从这里开始。",
        "上海市人民政府",
        "2024年3月8日",
    ]
    assert _clean(lines) == lines


def test_bulleted_one_line_items_stay_apart() -> None:
    # a crawled report: a bullet starts an item as a number does, and items of a bulleted list are whole
    # without a sentence end, so the last one does not swallow the paragraph after the list
    lines = [
        "◎ 对租赁区域内房产资源的,给予最高不超过75%的租金补贴;鼓励盘活闲置工业用地,最高奖补可达2000万元",
        "◎ 对申报“专精特新”项目的企业,最高奖补可达200万元",
        "◎ 鼓励区域内企业协作配套,最高奖补可达50万元;鼓励企业引入配套厂商,可给予最高不超过100万元的额外奖励",
        "为贯彻落实制造业立市战略部署,保税区于近日制定出台若干政策。",
    ]
    assert _clean(lines) == lines
    # a single bulleted line broken mid-sentence is still joined
    broken = ["● 对新认定的企业，给予最高", "50万元的一次性奖励。"]
    assert _clean(broken) == ["".join(broken)]


def test_invisible_characters_removed_visible_ones_kept() -> None:
    out = _clean(["\ufeff长宁\u200b园\u00ad“1+1”核心管理体系。", "（此件公开发布）"])
    assert out == ["长宁园“1+1”核心管理体系。", "（此件公开发布）"]


def test_ascii_words_keep_a_space_when_joined() -> None:
    out = _clean(["组织“eVTOL 智能领航”、低空经济等沙龙，推动 MEMS", "产业化技术交流。"])
    assert out == ["组织“eVTOL 智能领航”、低空经济等沙龙，推动 MEMS产业化技术交流。"]
    out = _clean(["聚焦大模型、大算力、科技金融，探讨 large language", "model 的前沿技术。"])
    assert out == ["聚焦大模型、大算力、科技金融，探讨 large language model 的前沿技术。"]


def test_headings_from_the_format_are_never_joined() -> None:
    blocks = [Block(text="重点任务", heading=2), Block(text="加快建设一网通办平台，"), Block(text="实现全程网办。")]
    out = clean_blocks(blocks)
    assert [(b.text, b.heading) for b in out] == [("重点任务", 2), ("加快建设一网通办平台，实现全程网办。", 0)]


def test_loaded_corpus_has_no_markdown_left() -> None:
    texts = [b.text for b in load_file(CORPUS / PLAN)]
    assert not any(re.search(r"\*\*|^#", t) for t in texts)
