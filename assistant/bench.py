"""Core benchmark: cold ingest of the corpus (model load included), warm query latency, peak memory."""

from __future__ import annotations

import hashlib
import json
import resource
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistant.settings import REPO_ROOT, Settings

DEFAULT_QUESTIONS = REPO_ROOT / "eval" / "gold" / "questions.jsonl"


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..1); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def gold_rows(path: Path = DEFAULT_QUESTIONS) -> list[dict]:
    """The gold question rows as plain dicts (benchmarks only need a few fields; the eval has a typed loader)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_questions(path: Path = DEFAULT_QUESTIONS) -> list[str]:
    if path.exists():
        return [row["question"] for row in gold_rows(path)]
    return ["“虹桥人才荟”是做什么的？", "行动方案的文号是多少？", "企业在长宁上市能拿到多少奖励？"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a server under test or benchmark."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc: subprocess.Popen, timeout_s: float = 180, log: object = "") -> float:
    """Poll ``GET {base}/readyz`` until it answers 200; the seconds waited. ``RuntimeError`` (naming ``log``, the
    server's log file) when the process exits first or the time runs out."""
    import httpx

    started = time.monotonic()
    where = f"; log: {log}" if log else ""
    while time.monotonic() - started < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"assistant serve exited with {proc.returncode}{where}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"assistant serve not ready after {timeout_s:.0f} s{where}")


def stop(proc: subprocess.Popen, timeout_s: float = 15) -> None:
    """Terminate a server process; kill it if it has not exited after ``timeout_s``."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wechat_signature(*parts: str) -> str:
    """The signature an Official Account request carries: SHA-1 of its parts (token, timestamp, nonce[, body])
    sorted and joined — what the loopback load and WeChat benchmarks sign their requests with."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def data_dir_or_ingest(data_dir: Path | None, tmp: Path, what: str = "corpus/") -> Path:
    """``data_dir`` when given (already ingested), else ``corpus/`` ingested into ``tmp/data``."""
    if data_dir is not None:
        return data_dir
    from assistant.ingest.pipeline import run_ingest

    fresh = tmp / "data"
    print(f"ingesting {what} into", fresh, flush=True)
    run_ingest(Settings(data_dir=fresh).resolved())
    return fresh


def run_bench(settings: Settings, n_questions: int = 60, console: Console | None = None) -> dict[str, float]:
    from assistant.ingest.pipeline import make_embeddings, run_ingest
    from assistant.service import Assistant

    console = console or Console()
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        bench_settings = settings.model_copy(update={"data_dir": Path(tmp)})
        embeddings = make_embeddings(bench_settings)  # fresh cache: every chunk is embedded
        t0 = time.perf_counter()
        report = run_ingest(bench_settings, embeddings=embeddings)
        ingest_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        again = run_ingest(bench_settings, embeddings=embeddings)
        reingest_s = time.perf_counter() - t0

        bot = Assistant(bench_settings, embeddings=embeddings)
        questions = load_questions()
        bot.ask(questions[0])  # warm: index loaded, model hot
        latencies: list[float] = []
        stages: dict[str, list[float]] = {"retrieve": [], "answer": []}
        for i in range(n_questions):
            q = questions[i % len(questions)]
            t = time.perf_counter()
            answer = bot.ask(q)
            latencies.append((time.perf_counter() - t) * 1000)
            for k in stages:
                stages[k].append(answer.timings_ms.get(k, 0.0))
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    results = {
        "documents": report.documents,
        "chunks": report.chunks,
        "ingest_s": round(ingest_s, 2),
        "chunks_per_s": round(report.chunks / ingest_s, 2) if ingest_s else 0.0,
        "reingest_unchanged_s": round(reingest_s, 3),
        "reingest_embedded": again.embedded,
        "questions": n_questions,
        "ask_p50_ms": round(percentile(latencies, 0.5), 1),
        "ask_p95_ms": round(percentile(latencies, 0.95), 1),
        "ask_p99_ms": round(percentile(latencies, 0.99), 1),
        "ask_mean_ms": round(statistics.fmean(latencies), 1),
        "retrieve_p95_ms": round(percentile(stages["retrieve"], 0.95), 1),
        "answer_p95_ms": round(percentile(stages["answer"], 0.95), 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }
    model = f"{settings.embedding}（{embeddings.runtime}）" if embeddings.runtime else settings.embedding
    table = Table("指标", "数值", "目标", title=f"核心基准（{model}，{report.documents} 个文件）")
    targets = {"ingest_s": "< 20 s（含模型加载）", "ask_p95_ms": "< 150 ms"}
    for key, value in results.items():
        table.add_row(key, str(value), targets.get(key, ""))
    console.print(table)
    print(json.dumps(results, ensure_ascii=False))
    return results
