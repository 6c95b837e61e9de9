"""The ncpqa table: real government documents and questions (DataFountain 2020 policy QA), read from outside
the repository (``../shared/external/ncpqa_dev/`` by default; never copied into it).

Every document is written as ``<id>.txt`` (its text as is) into a generated corpus folder under the data dir,
ingested into an index of its own (incremental; the embedding cache is the shared one), and every question is
asked through ``Assistant.ask``. Scores per question, then averaged:

- ``doc_hit_at_5``: a top-5 context comes from the gold document or one of its ``equivalent_doc_ids`` /
  ``answer_also_in_doc_ids``;
- ``span_in_top5``: the gold answer (whitespace removed) is inside the top-5 contexts' texts, concatenated in
  rank order, or inside any one of them;
- ``answer_span_recall``: LCS(answer, gold) / len(gold), the answer without ``[n]`` markers and whitespace,
  the gold without whitespace; 0 for a refusal;
- ``rouge_l``: character-level ROUGE-L F1 (beta = 1) between the same two strings; 0 for a refusal;
- ``answered``: share of grounded answers; latency p50/p95 of ``timings_ms["total"]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field
from tqdm import tqdm

from assistant.errors import AssistantError
from assistant.evaluation.gold import GoldRow
from assistant.settings import REPO_ROOT, Settings

ENV_DIR = "ASSISTANT_NCPQA_DIR"
DEFAULT_DIR = REPO_ROOT.parent / "shared" / "external" / "ncpqa_dev"
TOP = 5
ANSWER_KEEP = 300  # characters of each answer kept in the report rows

_WS = re.compile(r"\s+")
_MARKER = re.compile(r"\[\d{1,2}\]")


# ---- string scores ------------------------------------------------------------------------------------
def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence of ``a`` and ``b`` (characters).

    Bit-parallel (Hyyrö 2004): one bit per character of the longer string in a Python integer, one add/and/or
    per character of the shorter, so the inner loop runs in C over machine words — a 1,000 × 1,000-character
    pair takes well under a millisecond, instead of the million steps of the textbook table.
    """
    if not a or not b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        m = masks.get(ch)
        if m is None:
            continue
        u = v & m
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(prediction: str, reference: str, beta: float = 1.0) -> float:
    """Character-level ROUGE-L F-measure: LCS-based precision P = lcs/len(pred), recall R = lcs/len(ref),
    F = (1 + beta²)·P·R / (R + beta²·P); 0 when either string is empty or nothing is shared."""
    lcs = lcs_length(prediction, reference)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(prediction), lcs / len(reference)
    return (1 + beta**2) * p * r / (r + beta**2 * p)


def answer_form(text: str) -> str:
    """An answer as scored: citation markers ``[n]`` and whitespace removed."""
    return _WS.sub("", _MARKER.sub("", text or ""))


def gold_form(text: str) -> str:
    return _WS.sub("", text or "")


# ---- data ---------------------------------------------------------------------------------------------
def resolve_dir(path: Path | str | None = None) -> tuple[Path, str]:
    """The data folder and how it was chosen (argument, environment, default)."""
    if path:
        return Path(path).expanduser(), "--ncpqa"
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR]).expanduser(), ENV_DIR
    return DEFAULT_DIR, "默认位置"


def present(folder: Path) -> bool:
    return (folder / "corpus.jsonl").is_file() and (folder / "qa.jsonl").is_file()


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_corpus(docs: list[dict], dest: Path) -> Path:
    """Every document as ``<id>.txt`` (its text as is); files already holding the same text are left alone (so
    an incremental ingest sees no change), files of documents no longer in the data are removed."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {f"{d['id']}.txt": d["text"] for d in docs}
    for old in dest.glob("*.txt"):
        if old.name not in wanted:
            old.unlink()
    for name, text in wanted.items():
        path = dest / name
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    return dest


def half(q: dict) -> str:
    """Which half of ncpqa a question belongs to, split **by document**: ``"tune"`` (the sentence model may be
    fitted on it, ``assistant eval --fit``) or ``"test"`` (never fitted: the number to report). A question's
    document and its duplicates (``equivalent_doc_ids``) fall in one half: the smallest id of the group decides,
    by the parity of its SHA-256 — stable across runs and machines."""
    group = min([q["doc_id"], *(q.get("equivalent_doc_ids") or [])])
    return "test" if int(hashlib.sha256(group.encode("utf-8")).hexdigest(), 16) % 2 else "tune"


def gold_rows(questions: list[dict]) -> list[GoldRow]:
    """The questions as gold rows (so every system of the eval can run them): the accepted documents are the
    expected sources, the answer span the one key fact."""
    rows = []
    for q in questions:
        docs = [q["doc_id"], *(q.get("equivalent_doc_ids") or []), *(q.get("answer_also_in_doc_ids") or [])]
        rows.append(GoldRow(
            id=q["id"], question=q["q"], category="factual", answerable=True,
            expected_sources=list(dict.fromkeys(f"{d}.txt" for d in docs)),
            key_facts=[[q["answer"] if q["answer"].strip() else "?"]],
        ))
    return rows


# ---- scoring ------------------------------------------------------------------------------------------
class NcpqaRow(BaseModel):
    id: str
    question: str
    gold: str
    doc_id: str
    answer: str
    grounded: bool
    doc_hit_at_5: bool
    span_in_top5: bool
    answer_span_recall: float
    rouge_l: float
    latency_ms: float | None = None
    top_sources: list[str] = Field(default_factory=list)
    error: str = ""
    half: str = ""  # "tune" | "test" (``half``)


class NcpqaSystem(BaseModel):
    name: str
    description: str
    values: dict[str, float | None]  # all questions
    rows: list[NcpqaRow]
    values_test: dict[str, float | None] = Field(default_factory=dict)  # the half never fitted on (``half``)
    seconds: float


class NcpqaReport(BaseModel):
    data_dir: str
    n_documents: int
    n_questions: int
    limit: int | None = None
    systems: list[NcpqaSystem]
    ingest_seconds: float = 0.0
    notes: list[str] = Field(default_factory=list)


NCPQA_METRICS = [
    ("doc_hit_at_5", "doc hit@5"),
    ("span_in_top5", "span in top-5 contexts"),
    ("answer_span_recall", "answer span recall (LCS)"),
    ("rouge_l", "ROUGE-L F1 (char)"),
    ("answered", "answered"),
    ("latency_total_p50", "latency total p50"),
    ("latency_total_p95", "latency total p95"),
]


def score_question(q: dict, row: GoldRow, answer_text: str, grounded: bool, contexts: list, latency: float | None,
                   error: str = "") -> NcpqaRow:
    accepted = set(row.expected_sources)
    top = contexts[:TOP]
    gold = gold_form(q["answer"])
    joined = "".join(gold_form(c.text) for c in top)
    in_top = bool(gold) and (gold in joined or any(gold in gold_form(c.text) for c in top))
    if grounded and gold:
        pred = answer_form(answer_text)
        recall = lcs_length(pred, gold) / len(gold)
        rl = rouge_l(pred, gold)
    else:
        recall = rl = 0.0
    return NcpqaRow(
        id=q["id"], question=q["q"], gold=q["answer"][:ANSWER_KEEP], doc_id=q["doc_id"],
        answer=answer_text[:ANSWER_KEEP], grounded=grounded,
        doc_hit_at_5=any(c.source in accepted for c in top), span_in_top5=in_top,
        answer_span_recall=round(recall, 4), rouge_l=round(rl, 4), latency_ms=latency,
        top_sources=[c.source for c in top], error=error, half=half(q),
    )


def aggregate_ncpqa(rows: list[NcpqaRow]) -> dict[str, float | None]:
    def mean(xs: list[float]) -> float | None:
        return round(float(np.mean(xs)), 4) if xs else None

    times = [r.latency_ms for r in rows if r.latency_ms is not None]
    return {
        "doc_hit_at_5": mean([float(r.doc_hit_at_5) for r in rows]),
        "span_in_top5": mean([float(r.span_in_top5) for r in rows]),
        "answer_span_recall": mean([r.answer_span_recall for r in rows]),
        "rouge_l": mean([r.rouge_l for r in rows]),
        "answered": mean([float(r.grounded) for r in rows]),
        "latency_total_p50": round(float(np.percentile(times, 50)), 2) if times else None,
        "latency_total_p95": round(float(np.percentile(times, 95)), 2) if times else None,
    }


def _evaluate(system: object, questions: list[dict], rows: list[GoldRow], progress: bool) -> NcpqaSystem:
    started = time.perf_counter()
    out = []
    for q, row in tqdm(list(zip(questions, rows, strict=True)), desc=f"ncpqa {system.name}", unit="q",  # type: ignore[attr-defined]
                       disable=not progress, file=sys.stderr, mininterval=1.0):
        try:
            answer, contexts = system.run(row)  # type: ignore[attr-defined]
        except AssistantError as exc:  # e.g. a question over the length limit: counted as a refusal
            out.append(score_question(q, row, "", False, [], None, error=exc.message))
            continue
        out.append(score_question(q, row, answer.answer, answer.grounded, contexts, answer.timings_ms.get("total")))
    return NcpqaSystem(name=system.name, description=system.description,  # type: ignore[attr-defined]
                       values=aggregate_ncpqa(out), rows=out, seconds=round(time.perf_counter() - started, 2),
                       values_test=aggregate_ncpqa([r for r in out if r.half == "test"]))


def run_ncpqa(
    base: Settings,
    folder: Path,
    *,
    embeddings: object | None = None,
    limit: int | None = None,
    baselines: bool = False,
    progress: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> NcpqaReport:
    """Ingest the ncpqa documents (all of them, whatever ``limit``) and ask its questions (the first ``limit``)."""
    from assistant.evaluation.baselines import NaiveLangChain
    from assistant.evaluation.runner import ProjectSystem
    from assistant.ingest.pipeline import make_embeddings, run_ingest
    from assistant.service import Assistant

    say = on_progress or (lambda _msg: None)
    docs = _jsonl(folder / "corpus.jsonl")
    questions = _jsonl(folder / "qa.jsonl")
    if limit is not None:
        questions = questions[:limit]
    root = base.data_dir / "eval" / "ncpqa"
    settings = base.model_copy(update={"corpus_dir": write_corpus(docs, root / "corpus"), "data_dir": root / "data"})
    emb = embeddings or make_embeddings(base)  # the shared cache: <data_dir>/cache/embeddings.sqlite
    say(f"ncpqa：导入 {len(docs)} 个文件（增量）")
    t0 = time.perf_counter()
    report = run_ingest(settings, embeddings=emb, progress=progress)  # type: ignore[arg-type]
    ingest_seconds = round(time.perf_counter() - t0, 2)
    if report.skipped:
        say(f"ncpqa：{len(report.skipped)} 个文件未能导入：" + "、".join(s.source for s in report.skipped[:5]))
    bot = Assistant(settings, embeddings=emb)  # type: ignore[arg-type]
    rows = gold_rows(questions)
    say(f"ncpqa：本项目 {len(rows)} 个问题")
    project = _evaluate(ProjectSystem(bot), questions, rows, progress)
    systems = [project]
    notes = []
    # The test half's column: answered by models fitted without it (``fit.NCPQA_REPORT_PATH``), when the
    # shipped models were fitted on ncpqa at all.
    from assistant.answer.scoring import load_fitted
    from assistant.evaluation.fit import NCPQA_REPORT_PATH

    shipped = load_fitted(settings.scoring_path)
    report_model = settings.scoring_path.with_name(NCPQA_REPORT_PATH.name)
    if shipped is not None and any(f.startswith("ncpqa") for f in shipped.fitted_on):
        test = [(q, r) for q, r in zip(questions, rows, strict=True) if half(q) == "test"]
        if report_model.exists() and test:
            say(f"ncpqa：测试半 {len(test)} 个问题，用未在其上拟合的模型（{report_model.name}）")
            held = Assistant(settings.model_copy(update={"scoring_path": report_model}), embeddings=emb)  # type: ignore[arg-type]
            project.values_test = _evaluate(ProjectSystem(held), [q for q, _ in test], [r for _, r in test], progress).values
        else:
            project.values_test = {}
            notes.append(f"缺少 {report_model.name}：发布的模型在全部 ncpqa 上拟合过，测试半一栏不作数（运行 make tune）。")
    if baselines:
        say("ncpqa：基线 naive_langchain")
        with tempfile.TemporaryDirectory(prefix="eval-ncpqa-naive-") as tmp:
            naive = NaiveLangChain(settings.corpus_dir, Path(tmp), list(bot.snapshot().chunks.values()),
                                   top_k=settings.top_k)
            try:
                systems.append(_evaluate(naive, questions, rows, progress))
            finally:
                naive.close()
        notes.append("naive_langchain 的“答案”是第 1 个片段（约 1000 字），从不拒答。")
    return NcpqaReport(
        data_dir=str(folder), n_documents=len(docs), n_questions=len(questions), limit=limit, systems=systems,
        ingest_seconds=ingest_seconds, notes=notes,
    )
