"""make bench-scale's JSON contract, end to end on a tiny size: real ingest, the real API server on a free
loopback port, the naive recipe; the rows, their keys and the plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONTRACT = {"system", "chunks", "ingest_chunks_per_s", "retrieve_p95_ms", "http_c8_p95_ms", "rss_mb", "hit5"}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_bench_scale_writes_the_contract_rows_and_the_plot(tmp_path: Path) -> None:
    from eval.bench.scale import main

    out = tmp_path / "reports" / "bench-scale.json"
    main(["--sizes", "300", "--work", str(tmp_path / "work"), "--out", str(out), "--queries", "20",
          "--requests", "12", "--levels", "1,8", "--skip-fast-ingest"])
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [r["system"] for r in rows] == ["project", "naive_langchain"]
    for row in rows:
        assert CONTRACT <= set(row)
    project, naive = rows
    assert 300 <= project["chunks"] < 400  # the size asked for, the buried corpus included
    assert project["ingest_chunks_per_s"] > 0 and project["retrieve_p95_ms"] > 0
    assert project["http_c8_p95_ms"] > 0 and project["http_c8_errors"] == 0
    assert 100 < project["rss_mb"] < 4000 and project["cold_start_s"] > 0
    assert 0.0 <= project["hit5"] <= 1.0 and project["hit5_small"] >= 0.9
    assert project["reingest_unchanged_embedded"] == 0
    assert 0 < project["reingest_edit_embedded"] <= project["reingest_edit_doc_chunks"] * 20
    assert naive["chunks"] > 0 and naive["http_c8_p95_ms"] is None and naive["rss_mb"] > 0
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
