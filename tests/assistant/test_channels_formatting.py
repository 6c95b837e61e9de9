"""WeChat reply formatting: plain text, 【n】 markers, citation lines, the 2,048-byte budget."""

from __future__ import annotations

import random

import pytest

from assistant.channels.formatting import (
    WECHAT_TEXT_BUDGET,
    citation_line,
    cut_at_sentence,
    fit_reply,
    format_answer,
    strip_markdown,
    utf8_len,
    xml_safe,
)
from assistant.settings import REPO_ROOT
from assistant.types import Answer, Citation

PROMPTS = REPO_ROOT / "prompts"
PLAN_TITLE = "关于印发《张江高新区长宁园改革创新 发展行动方案（2025-2026年）》的通知"


def cite(n: int, title: str = PLAN_TITLE, doc_number: str = "长科委〔2025〕13号",
         section: str = "二、重点任务 > （一）深化园区管理体制机制改革 > 2、构建园区管理体系") -> Citation:
    return Citation(n=n, source="plan.md", title=title, doc_number=doc_number, section=section,
                    quote="由长宁区科委牵头", chunk_id=f"c{n}")


def answer(text: str, citations: list[Citation], grounded: bool = True) -> Answer:
    return Answer(question="q", answer=text, grounded=grounded, citations=citations)


def test_markdown_is_stripped_and_markers_become_brackets() -> None:
    md = "## 结论\n\n**长宁区科委**牵头组建管理专班[1]。\n\n- 第一项 `代码`\n- 第二项[2]\n\n> 引用\n\n[详情](https://example.cn/a)"
    out = format_answer(answer(md, [cite(1), cite(2, section="三、保障措施")]), prompts_dir=PROMPTS)
    body = out.split("\n\n【1】")[0]
    for token in ("##", "**", "`", "> ", "](", "[1]", "[2]"):
        assert token not in body, token
    assert "长宁区科委牵头组建管理专班【1】。" in body
    assert "• 第一项 代码" in body and "• 第二项【2】" in body
    assert "详情 https://example.cn/a" in body


def test_citation_lines_follow_the_answer() -> None:
    out = format_answer(answer("由长宁区科委牵头[1]，见保障措施[2]。", [cite(1), cite(2, section="三、保障措施")]),
                        prompts_dir=PROMPTS)
    body, _, tail = out.partition("\n\n")
    assert body == "由长宁区科委牵头【1】，见保障措施【2】。"
    assert tail.split("\n") == [
        "【1】《关于印发〈张江高新区长宁园改革创新 发展行动方案（2025-2026年）〉的通知》长科委〔2025〕13号 · 2、构建园区管理体系",
        "【2】《关于印发〈张江高新区长宁园改革创新 发展行动方案（2025-2026年）〉的通知》长科委〔2025〕13号 · 三、保障措施",
    ]


def test_citation_line_without_number_or_section() -> None:
    assert citation_line(cite(3, title="某答复", doc_number="", section="")) == "【3】《某答复》"


def test_refusal_has_no_citation_lines() -> None:
    out = format_answer(answer("抱歉，现有政策文件中没有找到明确内容。", [cite(1)], grounded=False), prompts_dir=PROMPTS)
    assert out == "抱歉，现有政策文件中没有找到明确内容。"


def long_answer(sentences: int = 80) -> str:
    return "".join(f"第{i}句说明长宁园的一项具体工作安排和推进措施[{1 + i % 3}]。" for i in range(sentences))


@pytest.mark.parametrize("public_url", ["", "https://policy.example.cn/chat"])
def test_long_answer_is_cut_at_a_sentence_within_the_budget(public_url: str) -> None:
    cites = [cite(1), cite(2, section="三、保障措施"), cite(3, section="一、发展方向")]
    out = format_answer(answer(long_answer(), cites), prompts_dir=PROMPTS, public_url=public_url)
    assert utf8_len(out) <= WECHAT_TEXT_BUDGET
    assert utf8_len(out) > WECHAT_TEXT_BUDGET - 200  # the budget is used, not wasted
    body, note_and_cites = out.split("\n（", 1)
    assert body.endswith("。") and body.startswith("第0句")
    assert "已截取" in note_and_cites
    if public_url:
        assert public_url in note_and_cites
    else:
        assert "具体" in note_and_cites
    assert "【1】《" in note_and_cites  # citations survive the cut


def test_cut_keeps_markers_with_their_sentence() -> None:
    text = "这是第一句话说明情况；【1】这是第二句话。" * 200
    cut = cut_at_sentence(text, 500)
    assert utf8_len(cut) <= 500 and utf8_len(cut) > 400
    assert cut.endswith(("；【1】", "。")) and text.startswith(cut)
    # no sentence end in reach: cut at a clause, else hard, and say so with …
    assert cut_at_sentence("甲乙丙，" * 10 + "戊" * 3000, 60) == "甲乙丙，甲乙丙，甲乙丙，甲乙丙，甲乙丙…"
    hard = cut_at_sentence("戊" * 3000, 100)
    assert hard.endswith("…") and utf8_len(hard) <= 100


def test_citations_only_cited_in_the_cut_part_are_dropped() -> None:
    body = "开头一句话[1]。" + "中间的很长的说明文字。" * 300 + "最后一句[2]。"
    out = format_answer(answer(body, [cite(1), cite(2, section="三、保障措施")]), prompts_dir=PROMPTS)
    assert utf8_len(out) <= WECHAT_TEXT_BUDGET
    assert "\n【1】《" in out and "【2】" not in out


def test_budget_holds_for_any_mix_of_text() -> None:
    rng = random.Random(7)
    alphabet = ["长", "宁", "园", "a", "1", "。", "，", "\n", "😀", "[1]", "**", " "]
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 2500)))
        cites = [cite(i + 1, section="x" * rng.randint(0, 300)) for i in range(rng.randint(0, 5))]
        budget = rng.choice([120, 600, WECHAT_TEXT_BUDGET])
        out = fit_reply(strip_markdown(text), cites, "（已截取）", budget)
        assert utf8_len(out) <= budget
        out.encode("utf-8")  # never a broken character


def test_xml_safe() -> None:
    assert xml_safe("a]]>b\x00c\x1fd\ne") == "a]] >bcd\ne"


@pytest.mark.slow  # the session index and the embedding model
def test_real_answer_formats_within_budget(bot) -> None:
    ans = bot.ask("长宁园管理专班由哪个部门牵头组建？")
    out = format_answer(ans, prompts_dir=PROMPTS, public_url="https://policy.example.cn")
    assert out.startswith(ans.answer.replace("[1]", "【1】")[:20])
    assert "长宁区科委" in out and "\n【1】《" in out and "长科委〔2025〕13号" in out
    assert "[1]" not in out and utf8_len(out) <= WECHAT_TEXT_BUDGET
