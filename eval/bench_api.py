"""HTTP API benchmark: `python eval/bench_api.py` (or `make bench-api`).

Starts `assistant serve` in a subprocess on a free loopback port over an index it ingests (a temp data dir
unless --data-dir is given), waits for /readyz, then measures over real HTTP:

- `POST /v1/ask` latency p50/p95/p99 and throughput at concurrency 1, 8 and 32 (bounded request counts);
- time to first byte, to the first `delta` event and to the `done` event of `POST /v1/ask/stream`.

Two question mixes: `unique` (every request a question text the server has not seen: a gold question with a
polite prefix/suffix, so the query embedding is computed each time) and `repeat` (the gold questions cycled:
after the first round the query-embedding LRU answers). Target: p95 < 150 ms at concurrency 8 (extractive
mode, 2 cores). The load generator runs on the same machine and shares its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from assistant.bench import free_port, gold_rows, percentile, stop, wait_ready

REPO = Path(__file__).resolve().parent.parent
PREFIXES = ["", "请问", "想了解一下，", "咨询一下：", "你好，"]
SUFFIXES = ["", "谢谢。", "麻烦告知。"]
TARGET_P95_MS = 150.0


@dataclass
class Level:
    mix: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    server_total_ms: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0


class Questions:
    """Unique question texts on demand (gold × prefixes × suffixes), or the gold list cycled."""

    def __init__(self, base: list[str]) -> None:
        self.base = base
        self.unique = [f"{p}{q}{s}" for s in SUFFIXES for p in PREFIXES for q in base]
        self.next_unique = 0
        self.next_repeat = 0

    def take(self, mix: str, n: int) -> list[str]:
        if mix == "repeat":
            out = [self.base[(self.next_repeat + i) % len(self.base)] for i in range(n)]
            self.next_repeat += n
            return out
        if self.next_unique + n > len(self.unique):
            raise SystemExit(f"only {len(self.unique)} unique questions available; lower --requests")
        out = self.unique[self.next_unique : self.next_unique + n]
        self.next_unique += n
        return out


async def run_level(base: str, mix: str, concurrency: int, questions: list[str]) -> Level:
    level = Level(mix, concurrency)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for q in questions:
        queue.put_nowait(q)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while True:
                try:
                    q = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                r = await client.post("/v1/ask", json={"question": q})
                elapsed = (time.perf_counter() - t0) * 1000
                if r.status_code == 200:
                    level.latencies_ms.append(elapsed)
                    level.server_total_ms.append(r.json()["timings_ms"].get("total", float("nan")))
                else:
                    level.errors[r.status_code] = level.errors.get(r.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        level.seconds = time.perf_counter() - started
    return level


async def run_stream(base: str, questions: list[str]) -> dict[str, list[float]]:
    """Sequential streamed asks: ms to first byte, first delta event, done event."""
    out: dict[str, list[float]] = {"first_byte": [], "first_delta": [], "done": []}
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for q in questions:
            t0 = time.perf_counter()
            first_byte = first_delta = None
            buffer = ""
            async with client.stream("POST", "/v1/ask/stream", json={"question": q}) as r:
                r.raise_for_status()
                async for chunk in r.aiter_text():
                    now = (time.perf_counter() - t0) * 1000
                    first_byte = first_byte if first_byte is not None else now
                    buffer += chunk
                    if first_delta is None and "event: delta" in buffer:
                        first_delta = now
            out["first_byte"].append(first_byte or float("nan"))
            out["first_delta"].append(first_delta if first_delta is not None else float("nan"))
            out["done"].append((time.perf_counter() - t0) * 1000)
    return out


def start_server(data_dir: Path, port: int, workers: int) -> tuple[subprocess.Popen, Path]:
    env = {**os.environ, "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0", "HF_HUB_OFFLINE": "1",
           "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    log = data_dir / f"bench-serve-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(data_dir), "--workers", str(workers)],
        cwd=REPO, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    return proc, log


def report_level(lv: Level) -> str:
    lat = lv.latencies_ms
    ok = len(lat)
    errors = ", ".join(f"{k}×{v}" for k, v in sorted(lv.errors.items())) or "0"
    return (
        f"{lv.mix:<7} {lv.concurrency:>4} {ok:>5} {percentile(lat, .5):>8.1f} {percentile(lat, .95):>8.1f} {percentile(lat, .99):>8.1f} "
        f"{max(lat, default=float('nan')):>8.1f} {ok / lv.seconds if lv.seconds else 0:>7.1f} "
        f"{percentile(lv.server_total_ms, .5):>9.1f} {percentile(lv.server_total_ms, .95):>9.1f}  {errors}"
    )


async def main_async(args: argparse.Namespace) -> dict:
    tmp = None
    if args.data_dir:
        data_dir = Path(args.data_dir).expanduser().resolve()
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-api-")
        data_dir = Path(tmp.name)
    print(f"data dir: {data_dir}", flush=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--data-dir", str(data_dir), "--json"],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    print(f"ingest: {time.perf_counter() - t0:.1f} s", flush=True)

    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    proc, log = start_server(data_dir, port, args.workers)
    results: dict = {"workers": args.workers, "requests_per_level": args.requests, "levels": []}
    try:
        print(f"server ready after {wait_ready(base, proc, log=log):.1f} s ({base}, workers={args.workers})", flush=True)
        questions = Questions([r["question"] for r in gold_rows() if not r.get("history")])
        # warm-up: first model calls, allocator, connection setup (not measured)
        await run_level(base, "warmup", 2, questions.take("repeat", 20))

        print("\nPOST /v1/ask — client-side latency in ms (server 'total' = Answer.timings_ms.total)")
        print(f"{'mix':<7} {'conc':>4} {'ok':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'req/s':>7} "
              f"{'srv p50':>9} {'srv p95':>9}  errors")
        for mix in args.mixes:
            for c in args.concurrency:
                lv = await run_level(base, mix, c, questions.take(mix, args.requests))
                print(report_level(lv), flush=True)
                results["levels"].append({
                    "mix": mix, "concurrency": c, "ok": len(lv.latencies_ms), "errors": lv.errors,
                    "p50_ms": percentile(lv.latencies_ms, .5), "p95_ms": percentile(lv.latencies_ms, .95),
                    "p99_ms": percentile(lv.latencies_ms, .99), "rps": len(lv.latencies_ms) / lv.seconds,
                    "server_total_p50_ms": percentile(lv.server_total_ms, .5),
                })

        stream = await run_stream(base, questions.take("unique", args.stream_requests))
        print(f"\nPOST /v1/ask/stream — {args.stream_requests} sequential unique questions, ms")
        for key, label in (("first_byte", "first byte"), ("first_delta", "first delta"), ("done", "done event")):
            vals = stream[key]
            print(f"  {label:<12} p50 {percentile(vals, .5):7.1f}   p95 {percentile(vals, .95):7.1f}   "
                  f"mean {statistics.fmean(vals):7.1f}")
        results["stream"] = {k: {"p50_ms": percentile(v, .5), "p95_ms": percentile(v, .95)} for k, v in stream.items()}

        verdicts = [lv for lv in results["levels"] if lv["concurrency"] == 8]
        for lv in verdicts:
            status = "OK" if lv["p95_ms"] < TARGET_P95_MS else "MISSED"
            print(f"\ntarget p95 < {TARGET_P95_MS:.0f} ms at concurrency 8 ({lv['mix']}): "
                  f"{lv['p95_ms']:.1f} ms → {status}")
    finally:
        stop(proc, timeout_s=20)
        if tmp is not None:
            tmp.cleanup()
    if args.out:
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="index dir to ingest into and serve (default: a temp dir)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--requests", type=int, default=150, help="requests per concurrency level (10–500)")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    parser.add_argument("--mixes", type=lambda s: s.split(","), default=["unique", "repeat"])
    parser.add_argument("--stream-requests", type=int, default=40)
    parser.add_argument("--out", help="also write the numbers as JSON here")
    args = parser.parse_args()
    args.requests = max(10, min(args.requests, 500))
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
