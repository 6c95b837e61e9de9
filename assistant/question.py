"""What a question asks for: salient terms, the kind of answer it needs, numbers, places, ordinals, metadata fields.

The relevance gate and the answerer both read this, so that "does the corpus answer it?" and "which sentence
answers it?" use one understanding of the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.index.lexical import LexicalIndex, phrasing_word, salient_terms
from assistant.synonyms import variants

# Conversational frame words: they shape the question but say nothing about its topic.
FRAME_WORDS = frozenset(
    """区里 我们 我 公司 一家 企业家 想 想办 想先 办 有没有 有 能 帮 帮忙 帮助 找 谁 遇到 一起 靠 两个 希望 得到 肯定 过 不少 考虑
    打算 放在 更 契合 合适 还有 办法 叫 名字 哪位 提了 几点 几大类 大类 分为 分成 下面 其中 一部分 以后 自己 达到 哪一年 哪次
    经过 一共 几家 是从 出来 上要 中要 时 来 做法 怎样 有个 需要 满足 主要 目前 现在 当前 今年 这 那 哪份 份 提到 里 这是 一下
    知道 了解 告诉 具体 工作 呢 方面 相关 支持吗 鼓励吗 吗 什么样 哪方面 哪种 多大 多少 几 哪 之 第几 份文件 这份 哪个 会不会
    不会 可不可以 有无 是否是 类 这类 此类 人 给 做 怎么样 要做 你好 您好 请教 咨询 了解一下 想了解 麻烦 告知 谢谢 感谢
    劳驾 打扰 问一下 问下 一下子 说说 讲讲 介绍 介绍一下""".split()
)

ENUMERATION = re.compile(r"哪些|哪几|有几|几项|几个|几方面|几大|包括什么|包含什么|有什么|分别|列举|都有")
_CN_NUM = "一二三四五六七八九十"
ORDINAL = re.compile(rf"第([{_CN_NUM}\d]{{1,2}})(?:项|条|个|点|方面|类|是)")
NUMBER = re.compile(r"(?<![\d第])(\d{2,4}|\d+(?:\.\d+)?%)(?!\d)")

# Questions about a document's own metadata, answered from its header/footer lines.
META_FIELD = re.compile(r"文号|发文字号|签发人|签发|联系人|联系电话|电话|联系方式|通讯地址|地址|邮编|邮政编码|发文机关|发文单位|哪个(?:机关|部门|单位)(?:印发|发布|制定|发文)|成文日期|印发日期|发布日期|日期|哪天|何时|哪一天|什么时候印发")
DOC_WORDS = re.compile(r"文件|通知|答复|方案|提案|印发|发文|成文|签发|文号")
DOC_LEVEL_FIELD = re.compile(r"文号|发文字号|签发人|签发|发文机关|发文单位|哪个(?:机关|部门|单位)(?:印发|发布|制定|发文)|成文日期|印发日期")

# (name, question pattern, what a passage must contain to answer it)
ANSWER_TYPES: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    ("amount", re.compile(r"(多少|几)(钱|万|元|亿)|金额|额度|(资金|经费|奖励|补贴|补助|资助|奖金|租金|规模).{0,6}(多少|多大|标准)|(多少|多大).{0,4}(资金|经费|奖励|补贴|资助|规模)"),
     re.compile(r"[\d〇零一二两三四五六七八九十百千]+(?:\.\d+)?\s*(?:万|亿|千)?元|\d+\s*(?:万|亿)")),
    ("rate", re.compile(r"比例|比重|占比|利率|税率|费率|百分之|百分比"), re.compile(r"\d+(?:\.\d+)?\s*[%％]|百分之")),
    ("phone", re.compile(r"电话|联系方式|热线"), re.compile(r"\d{3,4}[-－]?\d{7,8}|\d{8}")),
    ("address", re.compile(r"地址|办公地点|在哪里办公|位于哪|在哪儿办|地点在哪"), re.compile(r"[路街道弄]\s*\d+\s*号|地址")),
    ("deadline", re.compile(r"截止|期限|什么时候(?:开始|申报|截止)|哪天|申报时间"), re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日|截止|期限")),
    ("count", re.compile(r"多少(?:家|个|项|名|人|次|所|支)|(?<![哪有])几(?:家|个|项|名|所|支)"),
     re.compile(r"[\d一二两三四五六七八九十百千]+\s*(?:家|个|项|名|人|次|所|支|大)")),
    ("condition", re.compile(r"(?:什么|哪些)(?:条件|标准|资格|要求)|(?:条件|标准|资格|要求)是什么|需要满足|满足什么|申报条件|认定标准|门槛"),
     re.compile(r"条件|标准|须|应当|符合|满足|要求|资格")),
    ("person", re.compile(r"负责人|主任是谁|局长是谁|哪位领导"), re.compile(r"负责人|主任|局长|书记|[\u4e00-\u9fa5]{2,3}(?:委员|同志)")),
]


# Words that name the kind of answer (not its topic), per answer type.
TYPE_WORDS: dict[str, re.Pattern[str]] = {
    "amount": re.compile(r"规模|金额|资金|经费|额度|钱|多大|多少"),
    "rate": re.compile(r"比例|比重|占比|利率|税率|费率|百分比"),
    "phone": re.compile(r"电话|联系方式|热线"),
    "address": re.compile(r"地址|办公|地点"),
    "deadline": re.compile(r"截止|期限|时间|申报"),
    "count": re.compile(r"^$"),
    "condition": re.compile(r"条件|标准|资格|要求|门槛|满足|认定"),
    "person": re.compile(r"负责人|主任|局长|领导"),
}


@dataclass
class QuestionAnalysis:
    text: str
    terms: dict[str, float] = field(default_factory=dict)  # salient term → weight (filled by the gate/answerer)
    enumeration: bool = False
    ordinal: int | None = None
    numbers: list[str] = field(default_factory=list)
    answer_type: str | None = None
    answer_pattern: re.Pattern[str] | None = None
    metadata_field: bool = False  # asks for a document's 文号/签发人/日期 … about a document

    @property
    def topic_terms(self) -> list[str]:
        return list(self.terms)


def cn_to_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN_NUM.index(s[1]) + 1
    if len(s) == 2 and s[1] == "十":
        return (_CN_NUM.index(s[0]) + 1) * 10
    return _CN_NUM.index(s[0]) + 1 if s and s[0] in _CN_NUM else 0


def analyse(question: str) -> QuestionAnalysis:
    q = question.strip()
    meta = bool(META_FIELD.search(q)) and (bool(DOC_LEVEL_FIELD.search(q)) or bool(DOC_WORDS.search(q)))
    qa = QuestionAnalysis(text=q, enumeration=bool(ENUMERATION.search(q)), metadata_field=meta)
    m = ORDINAL.search(q)
    if m:
        qa.ordinal = cn_to_int(m.group(1)) or None
    qa.numbers = NUMBER.findall(q)
    if not meta:
        for name, q_pat, a_pat in ANSWER_TYPES:
            if q_pat.search(q):
                qa.answer_type, qa.answer_pattern = name, a_pat
                break
    terms = [t for t in salient_terms(q) if t not in FRAME_WORDS and not META_FIELD.fullmatch(t)]
    if qa.ordinal:
        terms = [t for t in terms if not ORDINAL.fullmatch(t) and not re.fullmatch(r"第.+", t)]
    qa.terms = {t: 1.0 for t in terms}
    return qa


@dataclass
class TermWeights:
    """Salient terms with weights, and the strings that count as each term being present (itself, synonyms)."""

    weights: dict[str, float]
    forms: dict[str, frozenset[str]]

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def found(self, text: str) -> set[str]:
        low = text.lower()
        return {t for t, forms in self.forms.items() if any(f in low for f in forms)}

    def cover(self, text: str) -> float:
        total = self.total
        if not total:
            return 1.0
        return sum(self.weights[t] for t in self.found(text)) / total


# Words that phrase a question rather than name its topic: jieba's adverbs, pronouns, numerals, measure and time
# words, localisers, conjunctions, prepositions, particles (``lexical.PHRASING_TAGS``). Verbs are an open class
# (下雨, 侵权 name a topic), so only the closed class of light verbs that colloquial questions are built on counts.
LIGHT_VERBS = frozenset(
    """搞 弄 整 干 拿 拿来 拿去 弄成 搞成 做成 打算 准备 想要 需要 能够 可以 应该 会 要 让 给 帮 帮着 找 去 来 过来 出来
    起来 下来 上来 弄好 搞好 管 抓 办 跑 看看 问问 说说 算 说了算 有点 出点""".split()
)
# Weight of such a word when the corpus never uses it: "搞/弄/到底/说了算/那块" are how people ask, and missing
# them must not sink the coverage of a rephrased question; nouns, verbs and unknown words keep full weight.
PHRASING_WEIGHT = 0.25


def is_phrasing(term: str) -> bool:
    """A light verb or a function word (how the question is asked, not what it is about)."""
    return term in LIGHT_VERBS or phrasing_word(term)


def weigh(qa: QuestionAnalysis, lexical: LexicalIndex, synonyms: dict[str, frozenset[str]]) -> TermWeights:
    """IDF weights from the corpus. A term the corpus never uses weighs most, unless it is a phrasing word
    (``is_phrasing``), which weighs a quarter. A long unknown term (often a segmentation artefact such as
    '专班由区') is split into character bigrams that share its weight."""
    weights: dict[str, float] = {}
    forms: dict[str, frozenset[str]] = {}
    for term in qa.terms:
        w = lexical.idf(term)
        group = variants(term, synonyms)
        unused = len(group) == 1 and lexical.doc_freq(term) == 0
        parts = [term[i : i + 2] for i in range(len(term) - 1)] if unused and len(term) >= 3 and not term.isascii() else []
        if unused and is_phrasing(term) and not any(lexical.doc_freq(p) for p in parts):
            weights[term] = w * PHRASING_WEIGHT
            forms[term] = group
            continue
        if parts:
            for part in parts:
                weights[part] = weights.get(part, 0.0) + w / len(parts)
                forms[part] = variants(part, synonyms)
            continue
        weights[term] = w
        forms[term] = group
    return TermWeights(weights, forms)
