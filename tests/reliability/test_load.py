"""The load test, short: ``eval/load.py`` for 25 s (after 10 s of warm-up) at concurrency 32 on ``/v1/ask`` and
``/wechat`` against a real server process; 0 errors and server RSS growth under 10 %. The 5-minute run is
``make load`` (and part of ``make test-reliability``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.reliability]


def test_short_load_holds(tmp_path) -> None:
    out = tmp_path / "load.json"
    cmd = [sys.executable, str(REPO / "eval" / "load.py"), "--seconds", "25", "--warmup-s", "10",
           "--concurrency", "32", "--json", str(out)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    print(done.stdout[-2000:], done.stderr[-2000:])
    report = json.loads(out.read_text("utf-8"))
    assert done.returncode == 0 and report["ok"], done.stdout + done.stderr
    assert report["errors"] == 0 and report["rss_growth"] < 0.10
    for route in ("/v1/ask", "/wechat"):
        stats = report["routes"][route]
        assert stats["requests"] >= 100 and stats["errors"] == 0, (route, stats)
        assert 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] <= stats["max_ms"]
    assert "p99 ms" in done.stdout and "server RSS" in done.stdout and "PASS" in done.stdout
