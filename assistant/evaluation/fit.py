"""``assistant eval --fit``: fit the sentence and decision models on the tune questions, write the data file.

Procedure (deterministic; the same questions and index give the same file):

1. For every tune question, retrieve as the service does (follow-ups condensed first) and take every content
   sentence of the top passages with its features (``scoring.SENTENCE_FEATURES``). A sentence is a positive
   when it holds one of the question's key facts (whitespace removed on both sides).
2. Fit the sentence model: L2-regularised logistic regression (Newton/IRLS on standardised features, folded
   back to raw-feature weights), questions weighted equally (each question's sentences share weight 1).
   With the same held-out models (step 3), choose the runner-up ratio: a sentence nearly as likely as the best
   (p ≥ ratio·p_best, at most two) joins the answer; the ratio maximises questions whose quoted sentences hold
   a key fact minus ``RUNNER_COST`` per added sentence (``choose_runner_ratio``).
3. Draft every question's answer as the service would — with a sentence model fitted without the questions
   of its fold (5 folds by document: cross-fitting, so a tune question's draft is no surer than a new one's)
   — and take the decision features of its evidence (``scoring.DECISION_FEATURES``). Label: the question is
   answerable.
   Answerable questions whose draft misses a key fact weigh half (answering them is less right than answering
   a correct draft); near-miss unanswerables weigh 1.5 (a confident wrong figure is the worst outcome).
4. Fit the decision model the same way, its L2 strength chosen by cross-validation over the same document folds
   (least held-out log-loss on a grid, ``choose_l2``: a few hundred questions, a few dozen of them unanswerable,
   so weak shrinkage would let the weights swing with every added question); choose the threshold on its probability: the
   median of the thresholds whose (answered share of answerable) + (refused share of unanswerable) is within one
   unanswerable question's worth of the best (``choose_threshold``: the objective is flat near its top).

Only tune questions may be used here: the test split (``dev-test``) is never fitted on (eval/README.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from assistant.answer.decision import decide
from assistant.answer.extractive import DECIDED, ExtractiveAnswerer
from assistant.answer.scoring import (
    DECISION_FEATURES,
    FITTED_PATH,
    SENTENCE_FEATURES,
    FittedScoring,
    LinearModel,
)
from assistant.answer.strategies.sentence import candidate_features
from assistant.conversation import condense
from assistant.evaluation.metrics import fact_present
from assistant.service import Assistant

_WS = re.compile(r"\s+")

# What one more quoted sentence costs, in answered questions: a runner-up joins the answer when the ratio that
# lets it in finds the answer for at least this share of the questions it lengthens (``choose_runner_ratio``).
RUNNER_COST = 0.15


@dataclass
class FitQuestion:
    id: str
    question: str
    answerable: bool
    key_facts: list[list[str]] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    near_miss: bool = False
    document: str = ""  # the document a question is about (its first expected source): cross-fitting folds


def fold_of(set_name: str, row: FitQuestion, folds: int) -> int:
    """The cross-fitting fold of a question, **by document**: every question about one document in one fold."""
    key = f"{set_name}/{row.document or row.id}"
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % folds


@dataclass
class Sample:
    x: np.ndarray
    y: float
    w: float
    fold: int = -1  # the cross-fitting fold of its question (-1: in every training fold)
    group: str = ""  # which question it is a candidate sentence of: "<set>/<id>" (sentence samples)
    source: str = ""  # the document the candidate sentence is from (sentence samples)


def _squash(text: str) -> str:
    return _WS.sub("", text)


def holds_fact(text: str, facts: list[list[str]]) -> bool:
    """Some key fact is in ``text``, matched as the eval matches it (``metrics.fact_present``)."""
    return any(fact_present(variants, text) for variants in facts)


def answers_sentence(text: str, facts: list[list[str]]) -> bool:
    """A sentence is a positive when it holds a key fact, or is itself part of a long answer span (an answer of
    several sentences, as in ncpqa, holds none of them whole)."""
    if holds_fact(text, facts):
        return True
    flat = _squash(text)
    return len(flat) >= 8 and any(flat in _squash(v) for variants in facts for v in variants)


def holds_all(text: str, facts: list[list[str]]) -> bool:
    return all(fact_present(variants, text) for variants in facts)


def fit_logistic(samples: list[Sample], names: tuple[str, ...], l2: float = 1.0, iters: int = 50) -> LinearModel:
    """Weighted L2 logistic regression by Newton's method on standardised features."""
    X = np.array([s.x for s in samples], dtype=np.float64)
    y = np.array([s.y for s in samples], dtype=np.float64)
    w = np.array([s.w for s in samples], dtype=np.float64)
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    sd[sd < 1e-9] = 1.0
    Z = np.hstack([np.ones((len(X), 1)), (X - mu) / sd])
    beta = np.zeros(Z.shape[1])
    reg = np.full(Z.shape[1], l2)
    reg[0] = 0.0  # the intercept is not shrunk
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(Z @ beta, -30, 30)))
        grad = Z.T @ (w * (p - y)) + reg * beta
        hess = (Z * (w * p * (1 - p))[:, None]).T @ Z + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    weights = beta[1:] / sd
    bias = beta[0] - float(np.sum(beta[1:] * mu / sd))
    return LinearModel(features=list(names), weights=[round(float(v), 6) for v in weights], bias=round(float(bias), 6))


def _vector(f: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    return np.array([f.get(n, 0.0) for n in names], dtype=np.float64)


def _contexts(bot: Assistant, rows: Iterable[FitQuestion], answerer: ExtractiveAnswerer):
    snap = bot.snapshot()
    for row in rows:
        query = condense(row.question, row.history or None)
        retrieval = bot.retrieve(query)
        yield row, answerer.context(row.question, retrieval, snap.documents)


def _answerer(bot: Assistant, fitted: FittedScoring | None) -> ExtractiveAnswerer:
    snap = bot.snapshot()
    from assistant.retrieve import HybridRetriever

    retriever = HybridRetriever(snap, bot.embeddings, bot.settings)
    return ExtractiveAnswerer(bot.settings, snap, retriever.synonyms(), retriever.rules,
                              embed=bot.embeddings.embed_query if bot.settings.sentence_similarity == "always" else None,
                              fitted=fitted or False)


def sentence_samples(bot: Assistant, rows: list[FitQuestion], top: int, fold: Callable[[FitQuestion], int],
                     name: str = "") -> list[Sample]:
    answerer = _answerer(bot, None)
    samples: list[Sample] = []
    for row, ctx in _contexts(bot, [r for r in rows if r.answerable], answerer):
        cands = candidate_features(ctx, top)
        labels = [answers_sentence(span.text, row.key_facts) for _, _, span, _ in cands]
        if not any(labels):
            continue  # the answer is not in the top passages: nothing to learn about sentences here
        w = 1.0 / len(cands)
        k = fold(row)
        g = f"{name}/{row.id}"
        samples += [Sample(_vector(f, SENTENCE_FEATURES), float(y), w, k, g, h.chunk.source)
                    for (_, h, _, f), y in zip(cands, labels, strict=True)]
    return samples


@dataclass
class DecisionRow:
    x: np.ndarray
    answerable: bool
    near_miss: bool
    correct: bool  # the draft holds every key fact
    fold: int = -1  # the cross-fitting fold of its question


def decision_rows(bot: Assistant, rows: list[FitQuestion], fitted: FittedScoring) -> list[DecisionRow]:
    answerer = _answerer(bot, fitted)
    out: list[DecisionRow] = []
    for row, ctx in _contexts(bot, rows, answerer):
        drafted = answerer.draft(ctx)
        if drafted is None or drafted[0] not in DECIDED or drafted[1].empty:
            continue  # refused before the decision, or answered by structure/metadata: not the model's call
        decision = decide(ctx, drafted[1])
        correct = row.answerable and holds_all(drafted[1].text, row.key_facts)
        out.append(DecisionRow(_vector(decision.features, DECISION_FEATURES), row.answerable, row.near_miss, correct))
    return out


DECISION_L2_GRID = (1.0, 3.0, 10.0, 30.0, 100.0)


def choose_l2(samples: list[Sample], names: tuple[str, ...], folds: int,
              grid: tuple[float, ...] = DECISION_L2_GRID) -> tuple[float, dict[str, float]]:
    """The L2 strength of a small model, by cross-validation over the samples' folds (by document): the one
    with the least weighted held-out log-loss; of equally good ones the strongest (fewer rows, more shrinkage)."""
    best_l2, best_loss = grid[-1], float("inf")
    losses: dict[str, float] = {}
    for l2 in sorted(grid, reverse=True):
        loss = weight = 0.0
        for k in range(folds):
            train = [s for s in samples if s.fold != k]
            test = [s for s in samples if s.fold == k]
            if not train or not test:
                continue
            model = fit_logistic(train, names, l2)
            for s in test:
                p = min(max(model.prob(dict(zip(names, s.x, strict=True))), 1e-6), 1 - 1e-6)
                loss -= s.w * (s.y * np.log(p) + (1 - s.y) * np.log(1 - p))
                weight += s.w
        mean = loss / weight if weight else float("inf")
        losses[f"cv_logloss_l2_{l2:g}"] = round(mean, 4)
        if mean < best_loss - 1e-4:
            best_l2, best_loss = l2, mean
    return best_l2, losses


def choose_runner_ratio(samples: list[Sample], probs: list[float], most: int = 2,
                        cost: float = RUNNER_COST) -> tuple[float, dict[str, float]]:
    """The runner-up ratio (``FittedScoring.runner_ratio``) on held-out sentence probabilities: for each ratio,
    a question is found when its best sentence or a runner-up (same document, p ≥ ratio·p_best, at most ``most``) holds a key
    fact; the ratio maximises found − ``cost`` × added sentences (of equally good ratios the highest: fewer
    sentences)."""
    by_q: dict[str, list[tuple[float, float, str]]] = {}
    for s, p in zip(samples, probs, strict=True):
        by_q.setdefault(s.group, []).append((p, s.y, s.source))
    ranked = [sorted(v, key=lambda t: -t[0]) for v in by_q.values()]
    best_r, best_v, best_m = 1.0, -1e9, {}
    for r in np.round(np.arange(1.0, 0.299, -0.05), 2):
        found = added = 0
        for cands in ranked:
            top, _, doc = cands[0]
            chosen = [cands[0]] + [c for c in cands[1:] if c[2] == doc and c[0] >= r * top][:most]
            found += any(y for _, y, _ in chosen)
            added += len(chosen) - 1
        value = found - cost * added
        if value > best_v + 1e-9:
            n = max(len(ranked), 1)
            best_r, best_v = float(r), value
            best_m = {"runner_found": round(found / n, 4), "runner_added_per_answer": round(added / n, 4)}
    return best_r, best_m


def choose_threshold(model: LinearModel, rows: list[DecisionRow]) -> tuple[float, dict[str, float | str]]:
    """The threshold on the decision probability: the median of the thresholds whose (answered share of
    answerable) + (refused share of unanswerable) is within one unanswerable question's worth of the best.

    The objective is flat near its top — over a few hundred rows, thresholds 0.15 apart differ by one or two
    questions — so its exact argmax is decided by whichever question sits at the edge, and swung from 0.39 to
    0.62 under small pipeline changes (2026-12-08). The middle of the near-best band is what the rows support."""
    probs = [model.prob(dict(zip(DECISION_FEATURES, r.x, strict=True))) for r in rows]
    ans = [p for p, r in zip(probs, rows, strict=True) if r.answerable]
    una = [p for p, r in zip(probs, rows, strict=True) if not r.answerable]
    grid = [float(t) for t in np.round(np.arange(0.05, 0.951, 0.01), 2)]

    def shares(t: float) -> tuple[float, float]:
        return sum(p >= t for p in ans) / max(len(ans), 1), sum(p < t for p in una) / max(len(una), 1)

    values = [sum(shares(t)) for t in grid]
    best = max(values)
    band = [t for t, v in zip(grid, values, strict=True) if v >= best - 1.0 / max(len(una), 1) - 1e-9]
    threshold = band[(len(band) - 1) // 2]  # the median (the lower middle of an even band)
    answered, refused = shares(threshold)
    return threshold, {"answered_answerable": round(answered, 4), "refused_unanswerable": round(refused, 4),
                       "threshold_band": f"{band[0]:.2f}-{band[-1]:.2f}"}


def fit(
    sets: list[tuple[str, Assistant, list[FitQuestion]]],
    *,
    sentence_only: list[tuple[str, Assistant, list[FitQuestion]]] | None = None,
    top_passages: int = 5,
    neighbour_ratio: float = 0.6,
    l2: float = 1.0,
    decision_l2: float | None = None,
    folds: int = 5,
    say: Callable[[str], None] = lambda _m: None,
) -> FittedScoring:
    """Fit both models on the given (name, assistant over its corpus, tune questions) sets.

    The decision model learns from the sentence model's confidence, so its rows are **cross-fitted**: a
    question's draft is made by a sentence model fitted without the questions of its fold (folds by document,
    ``fold_of``). Drafted by a model that had seen its answer, every tune question would look surer than a new
    one does, and the decision would learn to trust a confidence that new questions never earn."""
    samples: list[Sample] = []
    for name, bot, rows in sets:
        say(f"句子特征：{name}（{len(rows)} 个问题）")
        samples += sentence_samples(bot, rows, top_passages, lambda r, n=name: fold_of(n, r, folds), name)
    for name, bot, rows in sentence_only or []:
        say(f"句子特征：{name}（{len(rows)} 个问题，只用于句子模型）")
        samples += sentence_samples(bot, rows, top_passages, lambda _r: -1, name)
    sentence = fit_logistic(samples, SENTENCE_FEATURES, l2)
    drows: list[DecisionRow] = []
    held_out_models = [fit_logistic([x for x in samples if x.fold != k], SENTENCE_FEATURES, l2) for k in range(folds)]
    scored = [x for x in samples if x.fold >= 0]  # questions with a fold: held-out probabilities exist for them
    probs = [held_out_models[x.fold].prob(dict(zip(SENTENCE_FEATURES, x.x, strict=True))) for x in scored]
    runner_max = FittedScoring.model_fields["runner_max"].default  # the fitted file's, so the ratio fits its use
    runner_ratio, runner_metrics = choose_runner_ratio(scored, probs, most=runner_max)
    for k in range(folds):
        held_out = held_out_models[k]
        provisional = FittedScoring(
            sentence=held_out, decision=LinearModel(features=[], weights=[], bias=30.0), threshold=0.0,
            neighbour_ratio=neighbour_ratio, top_passages=top_passages, runner_ratio=runner_ratio,
        )
        for name, bot, rows in sets:
            say(f"作答判定特征：{name}（第 {k + 1}/{folds} 折）")
            for r in decision_rows(bot, [r for r in rows if fold_of(name, r, folds) == k], provisional):
                r.fold = k
                drows.append(r)
    weighted = [Sample(r.x, float(r.answerable), (1.0 if r.correct else 0.5) if r.answerable else (1.5 if r.near_miss else 1.0),
                       r.fold) for r in drows]
    if decision_l2 is None:
        decision_l2, l2_metrics = choose_l2(weighted, DECISION_FEATURES, folds)
        metrics_l2 = {"decision_l2": decision_l2, **l2_metrics}
    else:
        metrics_l2 = {"decision_l2": decision_l2}
    decision = fit_logistic(weighted, DECISION_FEATURES, decision_l2)
    threshold, metrics = choose_threshold(decision, drows)
    return FittedScoring(
        sentence=sentence, decision=decision, threshold=threshold, neighbour_ratio=neighbour_ratio,
        runner_ratio=runner_ratio,
        top_passages=top_passages, procedure=(__doc__ or "").strip().splitlines()[0],
        fitted_on=[f"{name}: {len(rows)} questions" for name, _, rows in sets]
        + [f"{name}: {len(rows)} questions (sentence model only)" for name, _, rows in sentence_only or []],
        metrics={"sentence_samples": len(samples), "sentence_positives": int(sum(s.y for s in samples)),
                 "decision_rows": len(drows), "fitted": datetime.now().date().isoformat(), **metrics, **runner_metrics,
                 **metrics_l2},
    )


# The models the ncpqa table's test half is answered with: fitted like the shipped ones but without ncpqa's test
# half (``ncpqa.half``), so that column is a number on documents never fitted on. The shipped models are fitted
# on all of ncpqa (more data); the test-half column measures how the procedure does on new documents.
NCPQA_REPORT_PATH = FITTED_PATH.with_name("fitted-ncpqa-report.json")


def write_fitted(fitted: FittedScoring, path: Path = FITTED_PATH) -> None:
    path.write_text(fitted.model_dump_json(indent=1) + "\n", encoding="utf-8")


# The splits `assistant eval --fit` fits on. dev-test is never among them (eval/README.md).
FIT_SPLITS = ("dev-tune", "gold")
NEVER_FIT = frozenset({"dev-test"})


def fit_splits(base, names=FIT_SPLITS, *, splits_file=None, say: Callable[[str], None] = lambda _m: None,  # noqa: ANN001
               ncpqa_half: str | None = None) -> FittedScoring:
    """Fit on the named splits of eval/splits.toml: each ingested into its own index, as the eval does — plus
    ncpqa's questions for the sentence model (``ncpqa_half="tune"``: only the half whose documents the ncpqa
    table reports on are left out)."""
    from assistant.errors import InputError
    from assistant.evaluation.gold import load_gold
    from assistant.evaluation.splits import load_splits, split_settings
    from assistant.ingest.pipeline import make_embeddings, run_ingest

    banned = NEVER_FIT & set(names)
    if banned:
        raise InputError(f"不能在 {'、'.join(sorted(banned))} 上拟合", "测试划分只用来报告结果；请在 dev-tune（和 gold）上拟合。")
    splits = load_splits(splits_file)
    # The service's chain must not load the models being replaced (a stale file would stop the refit).
    base = base.model_copy(update={"scoring_path": base.data_dir / "fit-without-models.json"})
    embeddings = make_embeddings(base)
    sets = []
    for name in names:
        if name not in splits:
            raise InputError(f"eval/splits.toml 中没有划分 {name}", f"可选：{'、'.join(splits)}。")
        split = splits[name]
        why = split.missing()
        if why:
            raise InputError(f"划分 {name} 无法使用：{why}", "请先补齐它的金标与语料。")
        settings = split_settings(split, base)
        run_ingest(settings, embeddings=embeddings)
        bot = Assistant(settings, embeddings=embeddings)
        rows = [FitQuestion(r.id, r.question, r.answerable, [list(v) for v in r.key_facts], list(r.history),
                            bool(getattr(r, "near_miss", False)), (r.expected_sources or [""])[0])
                for r in load_gold(split.gold_files(), corpus_sources=set(bot.snapshot().documents))]
        sets.append((name, bot, rows))
    return fit(sets, sentence_only=_ncpqa_set(base, embeddings, say, ncpqa_half), say=say)


def _ncpqa_set(base, embeddings, say: Callable[[str], None], ncpqa_half: str | None = None) -> list:  # noqa: ANN001
    """ncpqa's questions (real documents and questions, all answerable: the sentence model only) — all of them,
    or one half (``ncpqa.half``) — when the folder is there (eval/README.md says where it comes from; nothing of it is in the repository)."""
    from assistant.evaluation import ncpqa
    from assistant.ingest.pipeline import run_ingest

    folder, _how = ncpqa.resolve_dir()
    if not ncpqa.present(folder):
        say(f"ncpqa 不在 {folder}：句子模型只用调优划分拟合")
        return []
    docs = ncpqa._jsonl(folder / "corpus.jsonl")
    questions = ncpqa._jsonl(folder / "qa.jsonl")
    root = base.data_dir / "eval" / "ncpqa"
    settings = base.model_copy(update={"corpus_dir": ncpqa.write_corpus(docs, root / "corpus"), "data_dir": root / "data"})
    run_ingest(settings, embeddings=embeddings)
    bot = Assistant(settings, embeddings=embeddings)
    rows = [FitQuestion(q["id"], q["q"], True, [[q["answer"]]], document=q["doc_id"]) for q in questions
            if q["answer"].strip() and (ncpqa_half is None or ncpqa.half(q) == ncpqa_half)]  # the test half is only reported
    return [("ncpqa", bot, rows)]
