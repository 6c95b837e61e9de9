"""The fitted answering core, piece by piece and without a model: qualifiers, the fitted models' file, the
logistic fit, table rows and lists as answer units, the policy strategy, document-level filters, and the
decision's refusal that says what the documents say instead."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.qualifiers import mismatches, question_qualifiers
from assistant.answer.scoring import (
    DECISION_FEATURES,
    FITTED_PATH,
    SENTENCE_FEATURES,
    FittedScoring,
    LinearModel,
    bigram_overlaps,
    load_fitted,
    scoped_mismatches,
)
from assistant.answer.strategies import Draft, PolicyStrategy, Scored
from assistant.answer.strategies.sentence import announces_list, item_run, runners_up
from assistant.answer.text import Span, content_spans
from assistant.errors import ConfigError
from assistant.evaluation.fit import (
    FitQuestion,
    Sample,
    choose_l2,
    choose_runner_ratio,
    fit_logistic,
    fold_of,
    holds_all,
    holds_fact,
)
from assistant.retrieve import document_passes
from assistant.rules import load_rules
from assistant.settings import Settings
from assistant.types import DocumentMeta, Hit
from tests.fixtures.answering import NOTICE, PLAN, TinyCorpus

RULES = load_rules()
Q = RULES.answer.qualifiers

# (question, its salient terms, evidence, slots the evidence contradicts)
QUALIFIERS = [
    ("对国家级专精特新企业奖励多少？", ["国家级", "专精特新", "奖励"], "对市级专精特新企业给予10万元奖励。", {"level"}),
    ("对国家级专精特新企业奖励多少？", ["国家级", "专精特新", "奖励"], "对国家级专精特新企业给予50万元奖励。", set()),
    ("2024年申报截止是哪天？", ["2024", "申报", "截止"], "2023年申报截止时间为11月30日。", {"year"}),
    ("首次认定的企业奖励多少？", ["首次", "认定", "企业"], "对复审通过的企业给予5万元。", {"group0"}),
    ("购买办公用房有补贴吗？", ["购买", "办公用房", "补贴"], "租赁办公用房的，给予租金补贴。", {"group2"}),
    ("示范性科普场馆有几家？", ["示范性", "科普", "场馆"], "基础性科普基地213家。", set()),  # 性 is no head
    ("第二批名单有哪些？", ["第二批", "名单"], "第一批名单如下。", {"batch"}),
    ("有哪几类项目？", ["哪类", "项目"], "A类项目、B类项目。", set()),  # a question word, not a qualifier
    # a negated word: evidence about the word itself (and never its negation) is about the other kind
    ("一般（非重点）项目给多少年出让年限？", ["一般", "非", "重点", "项目"], "对于重点的先进制造业项目，给予50年的土地出让年限。", {"negated"}),
    ("非拿地企业有什么补贴？", ["非", "拿地", "企业"], "新增的非拿地重点企业，给予租金补贴。", set()),
    ("这项工作非常重要吗？", ["工作", "非常", "重要"], "这项工作很重要。", set()),  # 非常 is an adverb, not a negation
]


@pytest.mark.parametrize(("question", "terms", "evidence", "slots"), QUALIFIERS)
def test_qualifier_mismatches(question: str, terms: list[str], evidence: str, slots: set[str]) -> None:
    qs = question_qualifiers(question, terms, Q)
    assert {m.slot for m in mismatches(qs, evidence, Q)} == slots


def test_a_year_is_checked_in_the_whole_document() -> None:
    qs = question_qualifiers("2012年的联系人是谁？", ["2012", "联系人"], Q)
    local = "七、联系人\n联系人：张三"
    assert scoped_mismatches(qs, local, "2012年度资助项目申报通知\n" + local, Q, ("year",)) == []
    assert [m.asked for m in scoped_mismatches(qs, local, "2013年度申报通知\n" + local, Q, ("year",))] == ["2012"]


# ---- the fitted models' file ---------------------------------------------------------------------------
def test_linear_model_and_validation() -> None:
    m = LinearModel(features=["a", "b"], weights=[2.0, -1.0], bias=0.5)
    assert m.logit({"a": 1.0}) == 2.5 and m.logit({}) == 0.5
    assert 0.92 < m.prob({"a": 1.0}) < 0.93
    with pytest.raises(ValueError):
        LinearModel(features=["a"], weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="refit"):
        FittedScoring(sentence=LinearModel(features=["no_such"], weights=[1.0]), decision=m.model_copy(update={"features": [], "weights": []}),
                      threshold=0.5)


def test_packaged_models_load_and_name_known_features() -> None:
    fitted = load_fitted()
    assert fitted is not None, "assistant/data/fitted.json is written by `assistant eval --fit`"
    assert set(fitted.sentence.features) <= set(SENTENCE_FEATURES)
    assert set(fitted.decision.features) <= set(DECISION_FEATURES)
    assert 0 < fitted.threshold < 1 and fitted.fitted_on and "dev-test" not in " ".join(fitted.fitted_on)


def test_a_missing_or_stale_file(tmp_path: Path) -> None:
    assert load_fitted(tmp_path / "none.json") is None  # no file: the rules' hand weights
    stale = tmp_path / "stale.json"
    data = json.loads(FITTED_PATH.read_text(encoding="utf-8"))
    data["decision"]["features"][0] = "retired_feature"
    stale.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="eval --fit"):
        load_fitted(stale)


def test_fit_logistic_finds_the_separating_feature() -> None:
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(400):
        signal, noise = rng.normal(), rng.normal()
        samples.append(Sample(np.array([signal, noise]), float(signal + 0.3 * rng.normal() > 0), 1.0))
    model = fit_logistic(samples, ("signal", "noise"))
    w_signal, w_noise = model.weights
    assert w_signal > 3 and abs(w_noise) < 0.5 * w_signal
    assert model.prob({"signal": 2.0}) > 0.95 and model.prob({"signal": -2.0}) < 0.05


def test_fact_labels_ignore_whitespace() -> None:
    assert holds_fact("给予 50 万元奖励", [["50万元"]]) and not holds_fact("给予5万元", [["50万元"]])
    assert holds_all("营业执照、承诺书", [["营业执照"], ["承诺书"]]) and not holds_all("营业执照", [["营业执照"], ["承诺书"]])


# ---- answer units ----------------------------------------------------------------------------------------
def test_a_table_row_is_one_span_and_headings_are_not_answers() -> None:
    text = "二、支持标准\n类别 | 支持内容 | 金额\n旗舰店 | 经备案。对品牌企业。 | 最高300万元。\n其他说明。"
    spans = content_spans(text, "二、支持标准")
    assert [s.text for s in spans] == ["类别 | 支持内容 | 金额", "旗舰店 | 经备案。对品牌企业。 | 最高300万元。", "其他说明。"]
    assert all(text[s.start : s.end] == s.text for s in spans)
    # a row is read with its table's header row (the names of its columns); the header and prose are not
    assert [s.context for s in spans] == ["", "类别 | 支持内容 | 金额", ""]


def test_the_heading_of_a_section_with_no_body_is_its_content() -> None:
    # A contact line set as a numbered heading has nothing under it: the heading is what answers.
    line = "七、 联系人:郭*** 联系电话:26510931"
    spans = content_spans(line, line)
    assert [(s.text, s.heading) for s in spans] == [(line, True)]
    # Under a heading with a body, the heading stays out (it names what follows).
    text = "一、申报条件\n在本区注册的企业。"
    assert [(s.text, s.heading) for s in content_spans(text, "一、申报条件")] == [("在本区注册的企业。", False)]
    # A chunk of only its parents' headings and its own: the deepest one.
    text = "三、联系方式\n（一）电话：12345678"
    assert [s.text for s in content_spans(text, "三、联系方式 > （一）电话：12345678")] == ["（一）电话：12345678"]


def test_cross_fitting_folds_keep_a_document_together() -> None:
    rows = [FitQuestion(f"q{i}", "问", True, document=f"doc{i % 7}.txt") for i in range(70)]
    folds = {}
    for r in rows:
        folds.setdefault(r.document, set()).add(fold_of("dev-tune", r, 5))
    assert all(len(f) == 1 for f in folds.values())  # every question of a document in one fold
    assert len({f for fs in folds.values() for f in fs}) > 1  # and the documents spread over folds
    assert all(0 <= next(iter(f)) < 5 for f in folds.values())


def _scored(texts: list[str]) -> list[Scored]:
    hit = Hit(chunk=TinyCorpus.build().chunks[f"{PLAN}#0"], score=1.0)
    return [Scored(0, hit, Span(0, len(t), t), 0.0) for t in texts]


LISTS = [
    # (sentences, index of the best one, expected (lo, hi))
    (["申报材料如下：", "1. 营业执照复印件；", "2. 承诺书；", "3. 申报表。", "其他事项另行通知。"], 2, (0, 3)),
    (["条件：", "（一）在本区注册；", "（二）无重大违法记录；", "三、申报材料"], 0, (0, 2)),
    (["对企业给予奖励。", "不是列表。"], 0, (0, 0)),
]


@pytest.mark.parametrize(("texts", "best", "expected"), LISTS)
def test_item_run_takes_the_whole_list(texts: list[str], best: int, expected: tuple[int, int]) -> None:
    assert item_run(_scored(texts), best) == expected


def test_announces_list() -> None:
    assert announces_list("同时需符合下列条件之一的单位，均可自愿提出申报。")
    assert announces_list("申报材料如下：")
    assert not announces_list("对企业给予10万元奖励。")


# ---- policy dates and status ---------------------------------------------------------------------------
@pytest.fixture()
def policy_corpus() -> TinyCorpus:
    corpus = TinyCorpus.build()
    doc = corpus.documents[PLAN]
    sentence = "引进海外高层次人才，给予最高100万元资助。"
    corpus.documents[PLAN] = doc.model_copy(update={"meta": doc.meta.model_copy(update={
        "effective_date": "2025-01-01", "effective_text": sentence, "expiry_date": "2027-12-31",
        "validity_period": "3年", "validity_text": sentence})})
    return corpus


def test_policy_strategy_quotes_the_sentence(policy_corpus: TinyCorpus) -> None:
    ctx = policy_corpus.context("这个行动方案什么时候施行？有效期多久？", f"{PLAN}#0")
    draft = PolicyStrategy().draft(ctx)
    assert draft is not None and not draft.empty
    assert "自2025-01-01起施行" in draft.text and "有效期至2027-12-31" in draft.text
    assert draft.citations[0].quote == "引进海外高层次人才，给予最高100万元资助。"


def test_policy_strategy_refuses_a_date_the_text_lacks() -> None:
    corpus = TinyCorpus.build()
    ctx = corpus.context("这个行动方案什么时候施行？", f"{PLAN}#0")
    assert PolicyStrategy().draft(ctx) == Draft.nothing()  # not the 成文日期, not another date
    assert PolicyStrategy().draft(corpus.context("海外人才资助多少？", f"{PLAN}#0")) is None  # not its kind


FILTERS = [
    ({"effective_date": "2025-01-01", "expiry_date": "2027-12-31"}, "valid_on", "2026-06-01", True),
    ({"effective_date": "2025-01-01", "expiry_date": "2027-12-31"}, "valid_on", "2028-01-01", False),
    ({"effective_date": "2025-01-01"}, "valid_on", "2024-12-31", False),
    ({}, "valid_on", "2020-01-01", True),  # the text gives no dates: not excluded
    ({"status": ["废止"]}, "valid_on", "2020-01-01", False),
    ({"status": ["征求意见稿"]}, "exclude_status", ["征求意见稿", "废止"], False),
    ({"status": ["试行"]}, "status", "试行", True),
    ({"kind": "若干措施"}, "kind", ["若干措施", "申报通知"], True),
]


@pytest.mark.parametrize(("meta", "key", "value", "passes"), FILTERS)
def test_document_filters(meta: dict, key: str, value: object, passes: bool) -> None:
    assert document_passes(DocumentMeta(source="a.txt", title="t", **meta), key, value) is passes


# ---- the decision ----------------------------------------------------------------------------------------
def test_a_contradicted_qualifier_is_refused_saying_what_the_document_says() -> None:
    corpus = TinyCorpus.build()
    refuse = LinearModel(features=["qual_sibling"], weights=[-20.0], bias=10.0)  # answer unless contradicted
    fitted = FittedScoring(sentence=LinearModel(features=["own_cover"], weights=[5.0]), decision=refuse,
                           threshold=0.5, top_passages=3)
    snapshot = SimpleNamespace(chunks=corpus.chunks, lexical=corpus.lexical, documents=corpus.documents, sentences=None)
    answerer = ExtractiveAnswerer(Settings(), snapshot, {}, corpus.rules, fitted=fitted)  # type: ignore[arg-type]

    asked = answerer.answer("国家级高层次人才资助最高多少？", corpus.retrieval("国家级高层次人才资助最高多少？", f"{PLAN}#0"),
                            corpus.documents)
    assert asked.grounded  # no sibling level in the evidence: answered
    municipal = "引进市级高层次人才，给予最高100万元资助。"
    corpus.chunks[f"{PLAN}#0"] = corpus.chunks[f"{PLAN}#0"].model_copy(update={"text": municipal})
    doc = corpus.documents[PLAN]
    corpus.documents[PLAN] = doc.model_copy(update={"text": doc.text.replace("引进海外高层次人才，给予最高100万元资助。", municipal)})
    question = "国家级高层次人才资助最高多少？"
    refused = answerer.answer(question, corpus.retrieval(question, f"{PLAN}#0"), corpus.documents)
    assert not refused.grounded and refused.citations == [] and refused.refusal_reason == "qualifier_mismatch"
    assert "没有关于“国家级”的规定" in refused.answer and "“引进市级高层次人才" in refused.answer
    assert "[1]" not in refused.answer  # no marker: a refusal's citations are empty, the quote is in `related`
    assert refused.related and refused.related[0].quote == "引进市级高层次人才，给予最高100万元资助。"


def test_every_kind_of_answer_asked_for_must_be_in_the_quote() -> None:
    """"补贴比例和最高金额是多少" asks for a rate as well as an amount: a quote with only an amount (a near miss's
    other figure) is refused; one with both is answered. ("给多少比例的补贴" asks for the rate alone: the amount
    pattern's 补贴…多少 does not count there, ``AnswerType.unless``; its amount-only quote is refused too.)"""
    from assistant.question import analyse

    rate_only = "海外高层次人才资助给多少比例的补贴？"
    assert [k for k, _ in analyse(rate_only, RULES).answer_kinds] == ["rate"]
    question = "海外高层次人才资助的补贴比例和最高金额是多少？"
    assert [k for k, _ in analyse(question, RULES).answer_kinds] == ["amount", "rate"]
    corpus = TinyCorpus.build()
    answer_all = LinearModel(features=[], weights=[], bias=10.0)
    fitted = FittedScoring(sentence=LinearModel(features=["own_cover"], weights=[5.0]), decision=answer_all,
                           threshold=0.5, top_passages=3)
    snapshot = SimpleNamespace(chunks=corpus.chunks, lexical=corpus.lexical, documents=corpus.documents, sentences=None)
    answerer = ExtractiveAnswerer(Settings(), snapshot, {}, corpus.rules, fitted=fitted)  # type: ignore[arg-type]
    amount_only = answerer.answer(question, corpus.retrieval(question, f"{PLAN}#0"), corpus.documents)
    assert not amount_only.grounded  # the quote holds 100万元 but no rate
    assert not answerer.answer(rate_only, corpus.retrieval(rate_only, f"{PLAN}#0"), corpus.documents).grounded
    both = "引进海外高层次人才，按投入的30%给予补贴，最高100万元资助。"
    corpus.chunks[f"{PLAN}#0"] = corpus.chunks[f"{PLAN}#0"].model_copy(update={"text": both})
    doc = corpus.documents[PLAN]
    corpus.documents[PLAN] = doc.model_copy(update={"text": doc.text.replace("引进海外高层次人才，给予最高100万元资助。", both)})
    answered = answerer.answer(question, corpus.retrieval(question, f"{PLAN}#0"), corpus.documents)
    assert answered.grounded and "30%" in answered.answer


def test_fitting_on_the_test_split_is_refused(tmp_path: Path) -> None:
    from assistant.errors import InputError
    from assistant.evaluation.fit import fit_splits

    with pytest.raises(InputError, match="dev-test"):
        fit_splits(Settings(data_dir=tmp_path), ["dev-tune", "dev-test"])


def test_the_head_rule_needs_a_category_name() -> None:
    # 哪一级 / 大模型 segment into 一级 / 模型: two characters on a head are no category names
    assert question_qualifiers("是哪一级领导在抓？", ["一级", "领导"], Q) == []
    assert question_qualifiers("做大模型应用的公司", ["模型", "应用"], Q) == []
    assert [q.value for q in question_qualifiers("示范型企业奖励多少？", ["示范型", "企业"], Q)] == ["示范型"]


def test_list_strategy_answers_every_item_of_the_named_section() -> None:
    from assistant.answer.strategies import ListStrategy
    from assistant.types import Chunk, Document

    corpus = TinyCorpus.build()
    text = "二、申报条件\n在本区注册。\n三、申报材料\n1. 营业执照复印件；\n2. 承诺书；\n3. 申报表。"
    start = text.index("三、申报材料")
    corpus.documents["guide.txt"] = Document(meta=DocumentMeta(source="guide.txt", title="某区申报指南"), text=text)
    corpus.chunks["guide.txt#0"] = Chunk(id="guide.txt#0", source="guide.txt", title="某区申报指南", section="二、申报条件",
                                         start=0, text=text[:start - 1])
    corpus.chunks["guide.txt#1"] = Chunk(id="guide.txt#1", source="guide.txt", title="某区申报指南", section="三、申报材料",
                                         start=start, ordinal=1, text=text[start:])
    draft = ListStrategy().draft(corpus.context("申报需要提交哪些材料？", "guide.txt#1"))
    assert draft is not None and draft.text.startswith("共3项：")
    assert draft.citations[0].quote == "1. 营业执照复印件；\n2. 承诺书；\n3. 申报表。"
    assert ListStrategy().draft(corpus.context("申报材料的要求是什么？", "guide.txt#1")) is None  # not a list question
    assert ListStrategy().draft(corpus.context("申报条件有哪些？", "guide.txt#0")) is None  # no numbered items there


@pytest.mark.parametrize(("question", "kind"), [
    ("“数字长宁”战略已经实施多少年了？", "duration"),
    ("租金支持最长能支持几年？", "duration"),
    ("公开征求意见期是哪几天？", None),  # dates, not a length of time
    ("科普基地一共有多少家？", "count"),
])
def test_duration_questions(question: str, kind: str | None) -> None:
    from assistant.question import analyse

    assert analyse(question, RULES).answer_type == kind


# ---- character-bigram overlap and runners-up ---------------------------------------------------------------
def test_bigram_overlap_meets_words_jieba_cuts_apart() -> None:
    """申报材料 against 所需材料: no jieba token is shared, characters are; the title's bigrams (浦东, 基地,
    申报) weigh nothing, and a sentence holding more of the question's other bigrams scores higher."""
    q = "浦东示范基地申报材料最晚什么时候要送到？"
    texts = ["各单位最晚于11月5日前将所需材料送到区科经委。", "开展示范基地申报材料征集工作。", "其他事项另行通知。"]
    o = bigram_overlaps(q, texts, ["关于开展浦东示范基地申报工作的通知"])
    assert o[0] > o[1] > o[2] == 0.0
    assert bigram_overlaps("", texts, []) == [0.0, 0.0, 0.0]
    assert bigram_overlaps(q, [], []) == []
    # punctuation never makes a bigram
    assert bigram_overlaps("？，", ["？，"], []) == [0.0]


def _scored_in(source_chunk: str, texts_p: list[tuple[str, float]]) -> list[Scored]:
    hit = Hit(chunk=TinyCorpus.build().chunks[source_chunk], score=1.0)
    return [Scored(0, hit, Span(0, len(t), t), p, p=p) for t, p in texts_p]


def test_runners_up_join_when_nearly_as_likely_from_the_same_document_only() -> None:
    mine = _scored_in(f"{PLAN}#0", [("最佳句。", 0.8), ("次佳句，几乎一样可能。", 0.72), ("远不如的句子。", 0.3)])
    other = _scored_in(f"{NOTICE}#0", [("别的文件里同样可能的句子。", 0.79)])
    scored = mine + other
    best = mine[0]
    groups = [(best.hit, best.span.text)]
    got = [t for _, t in runners_up(scored, best, groups, 0.85, 2, 320)]
    assert got == ["次佳句，几乎一样可能。"]  # 0.72 ≥ 0.85·0.8; the other document's sentence never joins
    assert runners_up(scored, best, groups, 0.95, 2, 320) == []  # ratio too strict
    assert runners_up(scored, best, groups, 0.3, 0, 320) == []  # none allowed
    assert runners_up(scored, best, groups, 0.3, 2, 8) == []  # over the length budget
    quoted = [(best.hit, "最佳句。次佳句，几乎一样可能。")]
    assert [t for _, t in runners_up(scored, best, quoted, 0.3, 2, 320)] == ["远不如的句子。"]  # quoted already


def test_runner_ratio_is_chosen_on_held_out_probabilities() -> None:
    """Questions whose answer is the runner-up at 0.9·p_best: a ratio letting it in pays for its sentence;
    a question whose runner-up never answers does not pull the ratio lower."""
    samples, probs = [], []
    for g in range(10):
        answer_second = g < 6
        for p, y in ((0.8, not answer_second), (0.72, answer_second), (0.4, False)):
            samples.append(Sample(np.zeros(1), float(y), 1.0, 0, f"q{g}", "a.txt"))
            probs.append(p)
    ratio, metrics = choose_runner_ratio(samples, probs, cost=0.15)
    assert 0.5 < ratio <= 0.9
    assert metrics["runner_found"] == 1.0 and metrics["runner_added_per_answer"] == 1.0
    # when the runner-up never answers, no ratio below 1 pays
    flat = [Sample(np.zeros(1), float(i % 3 == 0), 1.0, 0, f"q{i // 3}", "a.txt") for i in range(30)]
    assert choose_runner_ratio(flat, [0.8, 0.72, 0.4] * 10, cost=0.15)[0] == 1.0


def test_decision_l2_is_chosen_by_cross_validation() -> None:
    """A clear signal in plenty of rows wants little shrinkage; pure noise wants the most (ties: strongest)."""
    rng = np.random.default_rng(1)
    signal = []
    for i in range(300):
        x = rng.normal()
        signal.append(Sample(np.array([x, rng.normal()]), float(3 * x + 0.3 * rng.normal() > 0), 1.0, i % 5))
    l2, losses = choose_l2(signal, ("a", "b"), 5)
    assert l2 <= 3.0 and losses["cv_logloss_l2_1"] < losses["cv_logloss_l2_100"]
    noise = [Sample(np.array([rng.normal(), rng.normal()]), float(rng.random() < 0.5), 1.0, i % 5) for i in range(300)]
    assert choose_l2(noise, ("a", "b"), 5)[0] == 100.0


def _rows_at(probs: list[tuple[float, bool]]) -> list:
    from assistant.evaluation.fit import DecisionRow

    at = DECISION_FEATURES.index("p_best")
    rows = []
    for p, answerable in probs:
        x = np.zeros(len(DECISION_FEATURES))
        x[at] = np.log(p / (1 - p))  # the model below gives back p
        rows.append(DecisionRow(x, answerable, near_miss=not answerable, correct=answerable))
    return rows


def test_the_threshold_is_the_middle_of_the_near_best_band_not_its_edge() -> None:
    from assistant.evaluation.fit import choose_threshold

    model = LinearModel(features=["p_best"], weights=[1.0], bias=0.0)
    # answerable questions well above 0.6, unanswerable ones well below 0.3: every threshold in between is
    # equally good, and the argmax's old tie rule took the band's lowest edge (0.30)
    rows = _rows_at([(0.9, True)] * 20 + [(0.62, True)] * 2 + [(0.1, False)] * 10 + [(0.28, False)])
    threshold, metrics = choose_threshold(model, rows)
    assert 0.40 <= threshold <= 0.50, threshold
    assert metrics["answered_answerable"] == 1.0 and metrics["refused_unanswerable"] == 1.0
    # one more unanswerable question at the edge of the band moves the threshold a little, not across it
    moved, _ = choose_threshold(model, rows + _rows_at([(0.45, False)]))
    assert abs(moved - threshold) <= 0.1, (threshold, moved)
