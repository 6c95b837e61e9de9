"""WeChat / WeCom callback benchmark: `python eval/bench_wechat.py`.

Starts the service in a subprocess on a free loopback port over an index it ingests (a temp data dir unless
--data-dir is given), then sends messages signed and encrypted as WeChat / WeCom do (wechatpy), 8 at a time,
and prints the route latency p50/p99 per mode:

- plaintext, safe (AES) and wecom with the default (extractive) answerer;
- the same three with a slow LLM configured: ``ASSISTANT_ANSWERER=llm`` pointed at a stand-in
  OpenAI-compatible ``/chat/completions`` endpoint on loopback that takes ``--slow-s`` seconds (default 8) per
  completion (answer prompts only; other features' prompts get an instant "{}"). WeChat gives up after 5 s, so a request must end by then whatever the LLM does: the route waits
  ``wechat_answer_budget_s`` (4.0 s) and ends without a reply (Official Account: HTTP 503 so WeChat retries;
  WeCom: a short note, or an empty 200 and a push when push is configured). In slow mode each Official Account
  message is driven through WeChat's retries (up to 3 requests) to show when the answer is delivered, and the
  LLM calls are counted (one per message: retries are not recomputed).

Target: p99 < 4.5 s in every mode at concurrency 8. Bounded request counts; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.bench import (  # noqa: E402
    data_dir_or_ingest,
    free_port,
    gold_rows,
    percentile,
    stop,
    wait_ready,
    wechat_signature,
)

TOKEN = "bench-token"
APP_ID = "wxbench0000000000"
CORP_ID = "wwbench0000000000"
AGENT_ID = "1000002"
AES_KEY = base64.b64encode(hashlib.sha256(b"bench-wechat").digest()).decode().rstrip("=")
TARGET_P99_S = 4.5
CONCURRENCY = 8
RUN = uuid.uuid4().hex[:6]  # fresh users per run: no rate-limit or follow-up state from an earlier run


# ---- server side (subprocess) --------------------------------------------------------------------------------
def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from api.main import create_app
    from assistant.settings import Settings

    settings = Settings(
        data_dir=Path(args.data_dir), wechat_token=TOKEN, wechat_app_id=APP_ID, wechat_aes_key=AES_KEY,
        wecom_corp_id=CORP_ID, wecom_token=TOKEN, wecom_aes_key=AES_KEY, wechat_answer_budget_s=args.budget_s,
        rate_limit_per_minute=0,
        **({"answerer": "llm", "llm_base_url": args.llm_url, "llm_model": "slow-stand-in"} if args.llm_url else {}),
    ).resolved()
    app = create_app(settings)
    uvicorn.run(ServerTiming(app), host="127.0.0.1", port=args.port, log_level="warning")


class ServerTiming:
    """ASGI wrapper: ``Server-Timing: app;dur=<ms>`` from the call to the response start (bench only)."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        started = time.perf_counter()

        async def timed_send(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                dur = (time.perf_counter() - started) * 1000
                message = {**message, "headers": [*message.get("headers", []), (b"server-timing", f"app;dur={dur:.1f}".encode())]}
            await send(message)

        await self.app(scope, receive, timed_send)


# ---- a slow LLM on loopback ------------------------------------------------------------------------------------
class SlowLLM:
    """An OpenAI-compatible ``/v1/chat/completions`` that answers after ``delay_s`` (async: any concurrency)."""

    def __init__(self, delay_s: float) -> None:
        from fastapi import FastAPI

        self.delay_s = delay_s
        self.calls = 0
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.complete)

    async def complete(self, body: dict) -> dict:
        prompt = str((body.get("messages") or [{}])[-1].get("content", ""))
        if "政策问答助手" not in prompt:  # other features' prompts (e.g. measure extraction): answer at once
            return {"choices": [{"message": {"role": "assistant", "content": "{}"}}]}
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        text = "**结论**：根据所给材料，相关安排见文件原文[1]。"
        return {"choices": [{"message": {"role": "assistant", "content": text}}], "model": body.get("model", "")}

    def start(self) -> str:
        import uvicorn

        port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=self.server.run, daemon=True).start()
        while not self.server.started:
            time.sleep(0.02)
        return f"http://127.0.0.1:{port}/v1"

    def stop(self) -> None:
        self.server.should_exit = True


# ---- client side ----------------------------------------------------------------------------------------------
_first_id = uuid.uuid4().int % 10**15 * 1000  # MsgIds never seen before, even with a reused --data-dir
_ids = iter(range(_first_id, _first_id + 10**9))
_ids_lock = threading.Lock()


def next_id() -> int:
    with _ids_lock:
        return next(_ids)


class Sender:
    """Builds and sends one message the way WeChat (plaintext / safe mode) or WeCom does."""

    def __init__(self, base: str, mode: str) -> None:
        from wechatpy.crypto import WeChatCrypto
        from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

        self.mode = mode
        self.url = base + ("/wecom" if mode == "wecom" else "/wechat")
        self.crypto = {"safe": WeChatCrypto(TOKEN, AES_KEY, APP_ID), "wecom": WeComCrypto(TOKEN, AES_KEY, CORP_ID)}.get(mode)
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        self.client = httpx.AsyncClient(timeout=30, limits=limits)

    def message(self, question: str, user: str) -> tuple[str, dict[str, str]]:
        import xmltodict

        ts, nonce, msg_id = str(int(time.time())), uuid.uuid4().hex[:10], next_id()
        to = CORP_ID if self.mode == "wecom" else "gh_bench"
        xml = (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
               f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[{question}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>")
        params = {"timestamp": ts, "nonce": nonce}
        if self.crypto is None:
            return xml, params | {"signature": wechat_signature(TOKEN, ts, nonce), "openid": user}
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, ts))["xml"]
        body = f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        params["msg_signature"] = envelope["MsgSignature"]
        if self.mode == "safe":
            params |= {"signature": wechat_signature(TOKEN, ts, nonce), "encrypt_type": "aes", "openid": user}
        return body, params

    async def send(self, body: str, params: dict[str, str]) -> tuple[float, float, int, str]:
        """(client-side latency s, server-side handler time s, status, body)."""
        started = time.perf_counter()
        response = await self.client.post(self.url, params=params, content=body.encode())
        latency = time.perf_counter() - started
        timing = response.headers.get("server-timing", "")
        server = float(timing.split("dur=")[1]) / 1000 if "dur=" in timing else float("nan")
        return latency, server, response.status_code, response.text


@dataclass
class Result:
    mode: str
    answerer: str
    latencies_s: list[float] = field(default_factory=list)
    server_s: list[float] = field(default_factory=list)  # the same requests timed inside the server
    statuses: dict[str, int] = field(default_factory=dict)
    delivered_s: list[float] = field(default_factory=list)  # slow mode: first request → reply with the answer
    messages: int = 0
    llm_calls: int | None = None  # slow mode: completions requested while this mode ran
    seconds: float = 0.0

    def add(self, latency: float, server: float, outcome: str) -> None:
        self.latencies_s.append(latency)
        self.server_s.append(server)
        self.statuses[outcome] = self.statuses.get(outcome, 0) + 1


def outcome_of(status: int, text: str) -> str:
    if status == 200 and not text.strip():
        return "200 empty"
    if status == 200:
        return "200 reply"
    return str(status)


def run_mode(base: str, mode: str, answerer: str, n: int, qs: list[str], retries: bool) -> Result:
    """``n`` messages, ``CONCURRENCY`` in flight (one asyncio client: the load generator stays light)."""
    return asyncio.run(_run_mode(base, mode, answerer, n, qs, retries))


async def _run_mode(base: str, mode: str, answerer: str, n: int, qs: list[str], retries: bool) -> Result:
    sender = Sender(base, mode)
    result = Result(mode, answerer, messages=n)
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with slots:
            body, params = sender.message(qs[i % len(qs)], f"bench-{RUN}-{mode}-{answerer}-{i % 97}")
            first = time.perf_counter()
            for _attempt in range(3 if retries else 1):  # WeChat resends the same request when it gets no reply
                latency, server, status, text = await sender.send(body, params)
                result.add(latency, server, outcome_of(status, text))
                if status == 200:
                    if retries and text.strip():
                        result.delivered_s.append(time.perf_counter() - first)
                    break

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    result.seconds = time.perf_counter() - started
    await sender.client.aclose()
    return result


def start_server(data_dir: Path, llm_url: str, budget_s: float) -> tuple[str, subprocess.Popen]:
    port = free_port()
    cmd = [sys.executable, __file__, "serve", "--data-dir", str(data_dir), "--port", str(port),
           "--llm-url", llm_url, "--budget-s", str(budget_s)]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
    except BaseException:
        proc.kill()
        raise
    return base, proc


def with_server(data_dir: Path, llm_url: str, budget_s: float, work: Callable[[str], list[Result]]) -> list[Result]:
    base, proc = start_server(data_dir, llm_url, budget_s)
    try:
        return work(base)
    finally:
        stop(proc)


def report(results: list[Result]) -> bool:
    ok = True
    print(f"\nWeChat-route latency at concurrency {CONCURRENCY} (target p99 < {TARGET_P99_S} s)")
    print(f"{'mode':<10}{'answerer':<11}{'requests':>9}{'p50 s':>9}{'p99 s':>9}{'max s':>9}"
          f"{'server p99':>12}  outcomes")
    for r in results:
        p99 = percentile(r.latencies_s, 0.99)
        ok &= p99 < TARGET_P99_S
        outcomes = ", ".join(f"{k}×{v}" for k, v in sorted(r.statuses.items()))
        print(f"{r.mode:<10}{r.answerer:<11}{len(r.latencies_s):>9}{percentile(r.latencies_s, 0.5):>9.3f}{p99:>9.3f}"
              f"{max(r.latencies_s):>9.3f}{percentile(r.server_s, 0.99):>12.3f}  {outcomes}")
    for r in results:
        if r.llm_calls is not None:
            print(f"{r.mode} / {r.answerer}: {r.llm_calls} LLM calls for {r.messages} messages "
                  f"({len(r.latencies_s)} requests)", end="")
            if r.delivered_s:
                print(f"; answer delivered on a retry, p50 {percentile(r.delivered_s, 0.5):.2f} s after the first request "
                      f"(max {max(r.delivered_s):.2f} s)", end="")
            print()
    print("PASS" if ok else "FAIL", f"(p99 < {TARGET_P99_S} s in every mode)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="(internal) run the service for the benchmark")
    srv.add_argument("--data-dir", required=True)
    srv.add_argument("--port", type=int, required=True)
    srv.add_argument("--llm-url", default="", help="OpenAI-compatible base URL: use the LLM answerer")
    srv.add_argument("--budget-s", type=float, default=4.0)
    parser.add_argument("--data-dir", type=Path, help="an ingested data dir (default: ingest the corpus into a temp dir)")
    parser.add_argument("--requests", type=int, default=200, help="messages per fast mode")
    parser.add_argument("--slow-requests", type=int, default=24, help="messages per slow mode")
    parser.add_argument("--slow-s", type=float, default=8.0, help="seconds the stand-in LLM takes per answer")
    parser.add_argument("--budget-s", type=float, default=4.0, help="ASSISTANT_WECHAT_ANSWER_BUDGET_S")
    parser.add_argument("--modes", default="plaintext,safe,wecom", help="comma-separated: plaintext, safe, wecom")
    parser.add_argument("--only", choices=["fast", "slow"], help="run only the real or only the slow answerer")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if args.command == "serve":
        serve(args)
        return

    with tempfile.TemporaryDirectory(prefix="bench-wechat-") as tmp:
        data_dir = data_dir_or_ingest(args.data_dir, Path(tmp), "the corpus")
        qs = [r["question"] for r in gold_rows() if r.get("answerable") and not r.get("history")]
        modes = [m.strip() for m in args.modes.split(",") if m.strip()]

        def fast(base: str) -> list[Result]:
            for mode in modes:  # warm-up, not measured
                run_mode(base, mode, "warmup", CONCURRENCY, qs, retries=False)
            # every gold question once: each needs a fresh query embedding (what new questions cost)
            cold = run_mode(base, modes[0], "real/new", len(qs), qs, retries=False)
            return [cold] + [run_mode(base, mode, "real", args.requests, qs, retries=False) for mode in modes]

        def slow(base: str) -> list[Result]:
            label = f"llm{args.slow_s:g}s"
            run_mode(base, modes[0], "warmup", CONCURRENCY, qs, retries=True)  # not measured
            out = []
            for mode in modes:
                calls = llm.calls
                out.append(run_mode(base, mode, label, args.slow_requests, qs, retries=mode != "wecom"))
                out[-1].llm_calls = llm.calls - calls
            return out

        results: list[Result] = []
        if args.only != "slow":
            results += with_server(data_dir, "", args.budget_s, fast)
        if args.only != "fast":
            llm = SlowLLM(args.slow_s)
            try:
                results += with_server(data_dir, llm.start(), args.budget_s, slow)
            finally:
                llm.stop()
    ok = report(results)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=1), encoding="utf-8")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
