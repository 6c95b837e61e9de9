"""Benchmarks at size: ``make bench-scale`` (``SIZES=1000,10000,100000``) — ``python -m eval.bench.scale``.

For each size: a synthetic library of that many chunks (``eval.bench.synth``) with the shipped corpus's two
documents buried in it; the project's real ``run_ingest`` over it (throughput, peak RSS, unchanged re-ingest,
re-ingest after editing one document), in-process retrieve and ``ask`` latency, hit@5 of the gold questions,
the real API server started on a free loopback port (cold start to ``/readyz``, RSS, ``/v1/ask`` at
concurrency 1/8/32), and the naive LangChain recipe on the same files. Before that, the fast-ingest check:
this machine's sgemm rate, the chunks/s bound it implies for e5-small, and the real model's chunks/s.

Writes ``eval/reports/bench-scale.json`` (a list of rows: ``system``, ``chunks``, ``ingest_chunks_per_s``,
``retrieve_p95_ms``, ``http_c8_p95_ms``, ``rss_mb``, ``hit5`` and more) and ``eval/reports/bench-scale.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistant.bench import free_port, percentile, stop, wait_ready
from assistant.settings import REPO_ROOT, Settings

REPORTS = REPO_ROOT / "eval" / "reports"
DEFAULT_WORK = REPO_ROOT / ".data" / "bench-scale"
TARGETS = {"retrieve_p95_ms": 50.0, "http_c8_p95_ms": 150.0, "rss_mb": 1500.0, "cold_start_s": 10.0}
CONTRACT = ("system", "chunks", "ingest_chunks_per_s", "retrieve_p95_ms", "http_c8_p95_ms", "rss_mb", "hit5")
HIT5_MAX_DROP = 0.03


def needle_paths() -> list[Path]:
    from assistant.ingest.pipeline import iter_corpus

    return list(iter_corpus(REPO_ROOT / "corpus"))


def build_corpus(size: int, work: Path, seed: int = 12) -> tuple[Path, int]:
    """``work/corpus-{size}``: the needles plus synthetic documents up to ``size`` chunks (0: the needles alone)."""
    from eval.bench.synth import Generator, Pool, write_corpus
    from eval.bench.workers import pool_paths

    corpus = work / f"corpus-{size}"
    shutil.rmtree(corpus, ignore_errors=True)  # a previous run's edit must not leak into this one
    corpus.mkdir(parents=True)
    settings = Settings()
    needle_chunks = 0
    reserved: set[str] = set()
    from assistant.ingest.pipeline import process_file

    for path in needle_paths():
        shutil.copy2(path, corpus / path.name)
        doc, chunks = process_file(path, path.name, "", settings)
        needle_chunks += len(chunks)
        reserved |= {doc.meta.title, doc.meta.doc_number}
    if size <= 0:
        return corpus, needle_chunks
    gen = Generator(Pool.from_files(pool_paths()), seed=seed, reserved=reserved)
    _, made = write_corpus(gen, corpus, size, settings.chunk_size, settings.chunk_overlap, already=needle_chunks)
    return corpus, needle_chunks + made


def run_worker(system: str, corpus: Path, data: Path, work: Path, queries: int) -> dict:
    out = work / f"{system}-{corpus.name}.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-m", "eval.bench.workers", system, "--corpus", str(corpus), "--data", str(data),
                    "--cache", str(work), "--queries", str(queries), "--out", str(out)], cwd=REPO_ROOT, env=env, check=True)
    return json.loads(out.read_text(encoding="utf-8"))


def _proc_status(pid: int) -> dict[str, float]:
    """VmRSS / VmHWM of a process in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def run_http(corpus: Path, data: Path, requests: int, levels: tuple[int, ...]) -> dict:
    """The real server over the ingested data dir: cold start to ready, RSS, /v1/ask at each concurrency."""
    from eval.bench.workers import unique_questions
    from eval.bench_api import run_level

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0", "HF_HUB_OFFLINE": "1", "ASSISTANT_CORPUS_DIR": str(corpus),
           "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    log = data / f"serve-{port}.log"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data)],
        cwd=REPO_ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    out: dict = {}
    try:
        wait_ready(base, proc, timeout_s=300, log=log)
        out["cold_start_s"] = round(time.perf_counter() - t0, 2)
        out["server_rss_ready_mb"] = round(_proc_status(proc.pid)["VmRSS"], 1)
        questions = unique_questions(requests * (len(levels) + 1), offset=3 * requests)
        asyncio.run(run_level(base, "warmup", 2, questions[:20]))
        for n, c in enumerate(levels, 1):
            lv = asyncio.run(run_level(base, "unique", c, questions[n * requests : (n + 1) * requests]))
            for p in (50, 95, 99):
                out[f"http_c{c}_p{p}_ms"] = round(percentile(lv.latencies_ms, p / 100), 1)
            out[f"http_c{c}_rps"] = round(len(lv.latencies_ms) / lv.seconds, 1) if lv.seconds else 0.0
            out[f"http_c{c}_errors"] = sum(lv.errors.values())
        status = _proc_status(proc.pid)
        out["server_rss_mb"] = round(status["VmRSS"], 1)
        out["server_peak_rss_mb"] = round(status["VmHWM"], 1)
    finally:
        stop(proc, timeout_s=20)
    return out


def fast_ingest_check(work: Path, sample: int, console: Console) -> dict:
    """sgemm rate → e5-small chunks/s bound; the real model's chunks/s on ``sample`` synthetic chunks."""
    from assistant.ingest.chunking import build_document, chunk_sections
    from assistant.ingest.clean import clean_blocks
    from assistant.ingest.loaders import Block
    from assistant.types import DocumentMeta
    from eval.bench.flops import chunks_per_s_bound, measure_model, sgemm_gflops
    from eval.bench.synth import Generator, Pool
    from eval.bench.workers import pool_paths

    settings = Settings()
    gen = Generator(Pool.from_files(pool_paths()))
    texts: list[str] = []
    for doc in gen.docs():
        if len(texts) >= sample:
            break
        d, sections = build_document(clean_blocks([Block(text=line) for line in doc.text.splitlines()]),
                                     DocumentMeta(source=doc.name, title=doc.title))
        texts += [c.dense_text() for c in chunk_sections(d, sections, settings.chunk_size, settings.chunk_overlap)]
    gflops = sgemm_gflops(threads=2)
    model = measure_model(texts[:sample])
    bound = chunks_per_s_bound(gflops, model["tokens_per_text"])
    result = {"sgemm_gflops_2t": round(gflops, 1), "tokens_per_chunk": round(model["tokens_per_text"], 1),
              "bound_chunks_per_s": round(bound, 1), "model_chunks_per_s": round(model["texts_per_s"], 1),
              "fraction": round(model["texts_per_s"] / bound, 3), "runtime": model["runtime"], "sample": len(texts[:sample])}
    console.print(
        f"快速导入：sgemm {gflops:.0f} GFLOP/s（2 线程）→ e5-small 上限 {bound:.0f} 块/s（{model['tokens_per_text']:.0f} token/块 × 42 MFLOP）；"
        f"实测真实模型 {model['texts_per_s']:.1f} 块/s（{model['runtime']}，{len(texts[:sample])} 块）= 上限的 {result['fraction']:.0%}（目标 ≥ 50%）"
    )
    return result


def rows_for(size: int, chunks_est: int, project: dict, http: dict, naive: dict, small_hit5: float,
             naive_small_hit5: float) -> list[dict]:
    p = {"system": "project", "size": size, **project, **http}
    p["rss_mb"] = http.get("server_peak_rss_mb")
    p["hit5_small"] = small_hit5
    p["hit5_drop"] = round(small_hit5 - project["hit5"], 4)
    p["http_c8_p95_ms"] = http.get("http_c8_p95_ms")
    p["estimated_chunks"] = chunks_est
    n = {"system": "naive_langchain", "size": size, **naive, "http_c8_p95_ms": None, "rss_mb": naive.get("peak_rss_mb"),
         "hit5_small": naive_small_hit5}
    for row in (p, n):
        for key in CONTRACT:
            row.setdefault(key, None)
    return [p, n]


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def ratios(rows: list[dict]) -> list[dict]:
    by = {(r["system"], r["size"]): r for r in rows}
    out = []
    for (system, size), p in sorted(by.items(), key=lambda kv: kv[0][1]):
        n = by.get(("naive_langchain", size))
        if system != "project" or n is None:
            continue

        out.append({"size": size, **{k: _ratio(p.get(k), n.get(k)) for k in ("ingest_chunks_per_s", "retrieve_p95_ms", "rss_mb", "hit5")},
                    "hit5_project": p.get("hit5"), "hit5_naive": n.get("hit5")})
    return out


def print_table(rows: list[dict], console: Console) -> None:
    table = Table(title="规模基准（project = 本项目；naive_langchain = 朴素 LangChain 基线）")
    cols = [("system", "系统"), ("chunks", "片段"), ("ingest_chunks_per_s", "导入 块/s"), ("ingest_peak_rss_mb", "导入峰值 MB"),
            ("reingest_unchanged_s", "重导(未改) s"), ("reingest_edit_s", "重导(改1) s"), ("reingest_edit_embedded", "重导嵌入数"),
            ("retrieve_p50_ms", "检索 p50"), ("retrieve_p95_ms", "检索 p95"), ("retrieve_p99_ms", "检索 p99"),
            ("ask_p95_ms", "问答 p95"), ("http_c1_p95_ms", "HTTP c1 p95"), ("http_c8_p95_ms", "HTTP c8 p95"),
            ("http_c32_p95_ms", "HTTP c32 p95"), ("cold_start_s", "冷启动 s"), ("rss_mb", "RSS MB"), ("hit5", "hit@5")]
    for _, label in cols:
        table.add_column(label, justify="right")
    for r in rows:
        table.add_row(*("—" if r.get(k) is None else str(r[k]) for k, _ in cols))
    console.print(table)


def verdicts(rows: list[dict], console: Console) -> list[str]:
    lines = []
    big = max((r for r in rows if r["system"] == "project"), key=lambda r: r["chunks"] or 0, default=None)
    if big is None:
        return lines
    for key, limit in TARGETS.items():
        value = big.get(key)
        ok = value is not None and value < limit
        lines.append(f"{key} at {big['chunks']} chunks: {value} (target < {limit:g}) → {'OK' if ok else 'MISSED'}")
    for r in rows:
        if r["system"] == "project" and r.get("hit5_drop") is not None:
            ok = r["hit5_drop"] <= HIT5_MAX_DROP
            lines.append(f"hit@5 at {r['chunks']} chunks: {r['hit5']} vs {r['hit5_small']} small (drop ≤ {HIT5_MAX_DROP}) → {'OK' if ok else 'MISSED'}")
    for line in lines:
        console.print(line)
    return lines


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for system, style in (("project", "o-"), ("naive_langchain", "s--")):
        rs = sorted((r for r in rows if r["system"] == system), key=lambda r: r["size"])
        xs = [r["size"] for r in rs]
        ax1.plot(xs, [r["retrieve_p95_ms"] for r in rs], style, label=f"{system} retrieve p95")
        if system == "project":
            ax1.plot(xs, [r["http_c8_p95_ms"] for r in rs], "o:", label="project HTTP /v1/ask p95 @ c8")
        ax2.plot(xs, [r["rss_mb"] for r in rs], style, label=f"{system} RSS" + (" (server peak)" if system == "project" else " (peak)"))
    for ax, ylabel in ((ax1, "latency, ms"), (ax2, "RSS, MB")):
        ax.set_xscale("log")
        ax.set_xlabel("corpus size, chunks")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    ax1.axhline(TARGETS["retrieve_p95_ms"], color="grey", lw=0.8)
    ax1.axhline(TARGETS["http_c8_p95_ms"], color="grey", lw=0.8, ls="--")
    ax2.axhline(TARGETS["rss_mb"], color="grey", lw=0.8)
    fig.suptitle("bench-scale: latency and memory vs corpus size (2 cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("SIZES") or "1000,10000,100000")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="corpora, data dirs, piece caches")
    parser.add_argument("--out", type=Path, default=REPORTS / "bench-scale.json")
    parser.add_argument("--queries", type=int, default=200, help="in-process questions per latency measure")
    parser.add_argument("--requests", type=int, default=120, help="HTTP requests per concurrency level")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--sample", type=int, default=500, help="chunks for the real-model ingest rate")
    parser.add_argument("--skip-fast-ingest", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs (default: removed after each size)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    levels = tuple(int(c) for c in args.levels.split(","))
    console = Console(width=max(Console().width, 230))  # the table has 17 columns
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    fast = None if args.skip_fast_ingest else fast_ingest_check(work, args.sample, console)

    small_corpus, _ = build_corpus(0, work)
    small = run_worker("project", small_corpus, work / "data-0", work, 60)
    small_naive = run_worker("naive", small_corpus, work / "data-0", work, 60)
    console.print(f"小语料（{small['chunks']} 块，真实模型）：hit@5 {small['hit5']}；朴素基线（{small_naive['chunks']} 块）：{small_naive['hit5']}")
    # The same server and load over the 42-chunk corpus: what this (shared) machine gives without the size.
    control = run_http(small_corpus, work / "data-0", args.requests, levels)
    console.print(f"对照（{small['chunks']} 块）：冷启动 {control['cold_start_s']} s，HTTP c8 p95 {control.get('http_c8_p95_ms')} ms，"
                  f"RSS {control['server_peak_rss_mb']} MB")
    rows: list[dict] = []
    for size in sizes:
        t0 = time.perf_counter()
        corpus, est = build_corpus(size, work)
        data = work / f"data-{size}"
        console.print(f"[bold]— {size} 块[/]：语料 {len(list(corpus.iterdir()))} 个文件（约 {est} 块），生成 {time.perf_counter() - t0:.1f} s")
        project = run_worker("project", corpus, data, work, args.queries)
        emb = project["embedder"]
        console.print(f"  向量：{emb['backend']}（池 {emb['pool_pieces']} 句，本次真实模型嵌入 {emb['pool_embedded']}）；"
                      f"合成 {project['composed_texts']} 条，真实模型 {project['model_texts']} 条")
        http = run_http(corpus, data, args.requests, levels)
        naive = run_worker("naive", corpus, data, work, args.queries)
        rows += rows_for(size, est, project, http, naive, small["hit5"], small_naive["hit5"])
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
        console.print(f"  用时 {time.perf_counter() - t0:.0f} s")

    print_table(rows, console)
    rs = ratios(rows)
    for r in rs:
        console.print(f"项目 / 朴素基线 @ {r['size']}：导入速度 ×{r['ingest_chunks_per_s']}，检索 p95 ×{r['retrieve_p95_ms']}，"
                      f"RSS ×{r['rss_mb']}，hit@5 {r['hit5_project']} 对 {r['hit5_naive']}")
    lines = verdicts(rows, console)
    for r in rows:
        r["fast_ingest"] = fast if r["system"] == "project" else None
    args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    png = args.out.with_suffix(".png")
    plot(rows, png)
    (args.out.with_name(args.out.stem + "-summary.json")).write_text(
        json.dumps({"ratios": rs, "verdicts": lines, "fast_ingest": fast, "small": small, "small_naive": small_naive, "small_http": control,
                    "seconds": round(time.perf_counter() - started, 1)}, ensure_ascii=False, indent=1), encoding="utf-8")
    console.print(f"写出 {args.out}、{png}（总用时 {time.perf_counter() - started:.0f} s）")
    return rows


if __name__ == "__main__":
    main()
