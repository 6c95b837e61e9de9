"""What a question asks for: salient terms, the kind of answer it needs, numbers, places, ordinals, metadata fields.

The relevance gate and the answerer both read this, so that "does the corpus answer it?" and "which sentence
answers it?" use one understanding of the question. The word lists, patterns and weights are the ``question``
section of the rules file (``assistant/data/rules.yaml``), passed in as a ``Rules`` object (``None``: the
packaged rules).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.index.lexical import LexicalIndex, in_dictionary, phrasing_word, salient_terms
from assistant.rules import Rules, load_rules
from assistant.synonyms import variants

_CN_NUM = "一二三四五六七八九十"


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
    # every kind of answer the question asks for, in the rules' order ("给多少比例的补贴" asks for a rate and an
    # amount); answer_type/answer_pattern are the first of them
    answer_kinds: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)

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


def analyse(question: str, rules: Rules | None = None) -> QuestionAnalysis:
    rules = rules or load_rules()
    r = rules.question
    q = question.strip()
    meta = bool(r.meta_field.search(q)) and (bool(r.doc_level_field.search(q)) or bool(r.doc_words.search(q)))
    if meta and r.cited_document is not None and r.cited_document.search(q):
        meta = False  # about a document this one cites: answered from the sentence that cites it
    qa = QuestionAnalysis(text=q, enumeration=bool(r.enumeration.search(q)), metadata_field=meta)
    m = r.ordinal.search(q)
    if m:
        qa.ordinal = cn_to_int(m.group(1)) or None
    qa.numbers = r.number.findall(q)
    if not meta:
        qa.answer_kinds = [(kind.name, kind.passage) for kind in r.answer_types
                           if kind.question.search(q) and not (kind.unless and kind.unless.search(q))]
        if qa.answer_kinds:
            qa.answer_type, qa.answer_pattern = qa.answer_kinds[0]
    terms = [t for t in salient_terms(q, rules.lexical) if t not in r.frame_words and not r.meta_field.fullmatch(t)]
    if qa.ordinal:
        terms = [t for t in terms if not r.ordinal.fullmatch(t) and not r.ordinal_term.fullmatch(t)]
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


def is_phrasing(term: str, rules: Rules | None = None) -> bool:
    """A light verb or a function word (how the question is asked, not what it is about).

    Verbs are an open class (下雨, 侵权 name a topic), so only the closed class of light verbs that colloquial
    questions are built on counts (rules ``question.light_verbs``); function words are jieba's adverbs,
    pronouns, numerals … (rules ``lexical.phrasing_tags``)."""
    rules = rules or load_rules()
    return term in rules.question.light_verbs or phrasing_word(term, rules.lexical)


_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
STRADDLE_CONTEXT = 6  # characters of the question on either side searched for the corpus's word


def straddling_word(term: str, question: str, lexical: LexicalIndex) -> str | None:
    """For a two-character token the corpus never uses and jieba's dictionary does not know (its HMM joined
    the end of one word to a particle: 征求意见稿里 → 征求意见 / 稿里): the longest run of the question that
    the corpus does use, made of at least two characters before the token and its first character, or its
    second character and at least two after it. None when there is none (a real word the corpus lacks)."""
    pos = question.find(term)
    if pos < 0:
        return None
    for a in range(max(0, pos - STRADDLE_CONTEXT), pos - 1):
        cand = question[a : pos + 1]
        if _CJK.match(cand) and lexical.used(cand):
            return cand
    end = pos + len(term)
    for b in range(min(len(question), end + STRADDLE_CONTEXT), end + 1, -1):
        cand = question[pos + 1 : b]
        if _CJK.match(cand) and lexical.used(cand):
            return cand
    return None


def corpus_word_for(term: str, question: str, lexical: LexicalIndex) -> str | None:
    """The corpus word a two-character jieba fragment was cut from (``straddling_word``), for a fragment the
    corpus never uses and the dictionary does not know; None for any other term."""
    if len(term) != 2 or term.isascii() or in_dictionary(term) or lexical.used(term):
        return None
    return straddling_word(term, question, lexical)


def weigh(
    qa: QuestionAnalysis, lexical: LexicalIndex, synonyms: dict[str, frozenset[str]], rules: Rules | None = None
) -> TermWeights:
    """IDF weights from the corpus. A term the corpus never uses weighs most, unless it is a phrasing word
    (``is_phrasing``), which weighs ``question.phrasing_weight`` (a quarter). A long unknown term (often a
    segmentation artefact such as '专班由区') is split into character bigrams that share its weight."""
    rules = rules or load_rules()
    r = rules.question
    weights: dict[str, float] = {}
    forms: dict[str, frozenset[str]] = {}
    for term in qa.terms:
        group = variants(term, synonyms)
        unused = len(group) == 1 and not lexical.used(term)
        if unused:
            whole = corpus_word_for(term, qa.text, lexical)
            if whole is not None:  # '征求意见稿里' cut as 征求意见 / 稿里: the corpus's word is 征求意见稿
                term, group, unused = whole, variants(whole, synonyms), False
        w = lexical.idf(term)
        parts = [term[i : i + 2] for i in range(len(term) - 1)] if unused and len(term) >= r.split_min_chars and not term.isascii() else []
        if unused and is_phrasing(term, rules) and not any(lexical.used(p) for p in parts):
            weights[term] = w * r.phrasing_weight
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
