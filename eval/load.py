"""Loopback load test: ``python eval/load.py [--minutes 5] [--concurrency 32]`` (``make load``).

Starts the service in a subprocess on a socket bound here (127.0.0.1, a free port), over an index it ingests into a
temp dir unless ``--data-dir`` is given, and keeps ``--concurrency`` requests in flight for the whole run: half
the workers ask ``POST /v1/ask``, half send text messages to ``POST /wechat`` signed as WeChat does (plaintext
mode, a new MsgId, timestamp and nonce each). Questions are the answerable gold questions, in turn.

The first ``--warmup-s`` seconds are load too but are not measured; the server's RSS (psutil) is read when they
end and at the end of the run. Prints the latency distribution per route (p50/p95/p99/max), requests, errors
and throughput, and the RSS before/after. Exit 1 when any request failed (a status other than 200, a body that
is not an answer, a transport error) or RSS grew by more than ``--max-rss-growth`` (default 10 %).

The per-client and per-user rate limits are off in the server under test (everything comes from 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.bench import data_dir_or_ingest, gold_rows, percentile, stop, wait_ready, wechat_signature  # noqa: E402

TOKEN = "load-test-token"
ROUTES = ("/v1/ask", "/wechat")


# ---- server side (subprocess) --------------------------------------------------------------------------------
def serve(data_dir: Path, fd: int) -> None:
    import uvicorn

    from api.main import create_app
    from assistant.settings import Settings

    settings = Settings(data_dir=data_dir, wechat_token=TOKEN, rate_limit_per_minute=0,
                        wechat_user_rate_per_minute=0).resolved()
    uvicorn.run(create_app(settings), fd=fd, log_level="warning", access_log=False)


def start_server(data_dir: Path) -> tuple[str, subprocess.Popen, socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    fd = sock.fileno()
    proc = subprocess.Popen(
        [sys.executable, __file__, "serve", "--data-dir", str(data_dir), "--fd", str(fd)],
        cwd=REPO, pass_fds=(fd,), env={**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"},
    )
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        wait_ready(base, proc)
    except BaseException:
        proc.kill()
        sock.close()
        raise
    return base, proc, sock


# ---- client side ---------------------------------------------------------------------------------------------
@dataclass
class RouteStats:
    latencies_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


@dataclass
class LoadReport:
    seconds: float
    warmup_s: float
    concurrency: int
    routes: dict[str, dict]
    requests: int
    errors: int
    rss_after_warmup_mb: float
    rss_end_mb: float
    rss_peak_mb: float
    rss_growth: float
    max_rss_growth: float

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.rss_growth <= self.max_rss_growth


_msg_ids = itertools.count(uuid.uuid4().int % 10**12 * 1000)


def wechat_request(question: str, user: str) -> tuple[dict[str, str], bytes]:
    ts, nonce, msg_id = str(int(time.time())), uuid.uuid4().hex[:12], next(_msg_ids)
    xml = (f"<xml><ToUserName><![CDATA[gh_load]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
           f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{question}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    params = {"signature": wechat_signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": user}
    return params, xml.encode()


async def one_request(client: httpx.AsyncClient, route: str, question: str, user: str) -> str | None:
    """None when the request got a real answer, else what went wrong."""
    try:
        if route == "/v1/ask":
            r = await client.post(route, json={"question": question})
            if r.status_code != 200:
                return f"HTTP {r.status_code}"
            return None if "answer" in r.json() else "no answer in the body"
        params, body = wechat_request(question, user)
        r = await client.post(route, params=params, content=body)
        if r.status_code != 200:
            return f"HTTP {r.status_code}"
        return None if r.text.startswith("<xml>") and "<Content>" in r.text else "not an XML reply"
    except httpx.HTTPError as exc:
        return type(exc).__name__


async def drive(base: str, pid: int, seconds: float, warmup_s: float, concurrency: int,
                questions: list[str], rss_every_s: float = 5.0) -> tuple[dict[str, RouteStats], list[float], float]:
    import psutil

    server = psutil.Process(pid)
    stats = {route: RouteStats() for route in ROUTES}
    started = time.monotonic()
    measure_from = started + warmup_s
    end = measure_from + seconds
    rss: list[float] = []
    rss_warm = 0.0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(i: int, client: httpx.AsyncClient) -> None:
        route = ROUTES[i % len(ROUTES)]
        for n in itertools.count():
            now = time.monotonic()
            if now >= end:
                return
            question = questions[(i * 7 + n) % len(questions)]
            t0 = time.perf_counter()
            problem = await one_request(client, route, question, f"load-user-{i}")
            if now >= measure_from:
                stats[route].latencies_s.append(time.perf_counter() - t0)
                if problem:
                    stats[route].error(problem)

    async def sample_rss() -> None:
        nonlocal rss_warm
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        rss_warm = server.memory_info().rss / 2**20
        while time.monotonic() < end:
            rss.append(server.memory_info().rss / 2**20)
            await asyncio.sleep(min(rss_every_s, max(0.0, end - time.monotonic())))
        rss.append(server.memory_info().rss / 2**20)

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        await asyncio.gather(sample_rss(), *(worker(i, client) for i in range(concurrency)))
    return stats, rss, rss_warm


def run_load(data_dir: Path, seconds: float, warmup_s: float, concurrency: int, max_rss_growth: float) -> LoadReport:
    questions = [r["question"] for r in gold_rows() if r.get("answerable") and not r.get("history")]
    base, proc, sock = start_server(data_dir)
    try:
        stats, rss, rss_warm = asyncio.run(drive(base, proc.pid, seconds, warmup_s, concurrency, questions))
    finally:
        stop(proc)
        sock.close()
    routes = {}
    for route, s in stats.items():
        lat = s.latencies_s
        routes[route] = {
            "requests": len(lat), "errors": sum(s.errors.values()), "error_kinds": s.errors,
            "p50_ms": round(percentile(lat, 0.50) * 1000, 1), "p95_ms": round(percentile(lat, 0.95) * 1000, 1),
            "p99_ms": round(percentile(lat, 0.99) * 1000, 1), "max_ms": round(max(lat, default=0) * 1000, 1),
            "per_s": round(len(lat) / seconds, 1),
        }
    all_lat = [x for s in stats.values() for x in s.latencies_s]
    routes["all"] = {
        "requests": len(all_lat), "errors": sum(r["errors"] for r in routes.values()),
        "p50_ms": round(percentile(all_lat, 0.50) * 1000, 1), "p95_ms": round(percentile(all_lat, 0.95) * 1000, 1),
        "p99_ms": round(percentile(all_lat, 0.99) * 1000, 1), "max_ms": round(max(all_lat, default=0) * 1000, 1),
        "per_s": round(len(all_lat) / seconds, 1),
    }
    end_rss = rss[-1] if rss else rss_warm
    return LoadReport(
        seconds=seconds, warmup_s=warmup_s, concurrency=concurrency, routes=routes,
        requests=routes["all"]["requests"], errors=routes["all"]["errors"],
        rss_after_warmup_mb=round(rss_warm, 1), rss_end_mb=round(end_rss, 1),
        rss_peak_mb=round(max(rss, default=rss_warm), 1),
        rss_growth=round((end_rss - rss_warm) / rss_warm, 4) if rss_warm else 0.0, max_rss_growth=max_rss_growth,
    )


def print_report(r: LoadReport) -> None:
    print(f"\nload: {r.seconds:g} s measured after {r.warmup_s:g} s warm-up, concurrency {r.concurrency}")
    print(f"{'route':<10}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for route, s in r.routes.items():
        print(f"{route:<10}{s['requests']:>9}{s['errors']:>8}{s['per_s']:>8}{s['p50_ms']:>9}{s['p95_ms']:>9}"
              f"{s['p99_ms']:>9}{s['max_ms']:>9}")
        if s.get("error_kinds"):
            print(f"  errors: {s['error_kinds']}")
    print(f"server RSS: {r.rss_after_warmup_mb} MB after warm-up, {r.rss_end_mb} MB at the end (peak {r.rss_peak_mb} MB), "
          f"growth {r.rss_growth:+.1%} (limit {r.max_rss_growth:.0%})")
    print("PASS" if r.ok else "FAIL", "(0 errors and RSS growth within the limit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="(internal) run the service on an inherited socket")
    srv.add_argument("--data-dir", type=Path, required=True)
    srv.add_argument("--fd", type=int, required=True)
    parser.add_argument("--minutes", type=float, default=5.0, help="measured duration (default 5)")
    parser.add_argument("--seconds", type=float, help="measured duration in seconds (overrides --minutes)")
    parser.add_argument("--warmup-s", type=float, default=30.0, help="load before measuring (default 30)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-rss-growth", type=float, default=0.10, help="fail above this RSS growth (0.10 = 10 %%)")
    parser.add_argument("--data-dir", type=Path, help="an ingested data dir (default: ingest corpus/ into a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.data_dir, args.fd)
        return
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="assistant-load-") as tmp:
        data_dir = data_dir_or_ingest(args.data_dir, Path(tmp))
        report = run_load(data_dir, seconds, args.warmup_s, args.concurrency, args.max_rss_growth)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps({**asdict(report), "ok": report.ok}, ensure_ascii=False, indent=1), "utf-8")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
