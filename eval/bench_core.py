"""Core benchmark script: `python eval/bench_core.py` (same as `assistant bench`).

Prints ingest time and chunks/s for the corpus (cold: model load included), re-ingest time when nothing
changed, warm `ask` latency p50/p95/p99 over the gold questions, and peak RSS.
"""

from assistant.bench import run_bench
from assistant.settings import get_settings

if __name__ == "__main__":
    run_bench(get_settings())
