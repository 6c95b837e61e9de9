"""Crash safety with real processes: ``kill -9`` of ``assistant ingest`` while it embeds, a second ingest started
meanwhile, and the lock file the killed process leaves behind.

The killed ingest must leave the previous index answering (in this process and in a new one), and the next ingest
must complete and converge to exactly the chunk set of a clean ingest of the same corpus into an empty data dir.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from assistant.errors import IngestBusyError
from assistant.index.snapshot import GENERATIONS, read_pointer
from assistant.index.vector import make_client
from assistant.ingest.pipeline import LOCK_FILE, ingest_lock, run_ingest
from assistant.service import Assistant
from embeddings.cache import CachedEmbeddings
from tests.conftest import CORPUS, PLAN, REPLY, REPO, make_settings
from tests.fixtures.contract import subprocess_env

ASSISTANT_BIN = REPO / ".venv" / "bin" / "assistant"
DEV_DOCS = REPO / "eval" / "corpus_dev" / "tune" / "docs"
QUESTION = "长宁园管理专班由哪个部门牵头组建？"


def _chunk_set(settings) -> set[tuple[str, str, str, int]]:
    snap = Assistant(settings).snapshot()
    return {(c.id, c.source, c.text, c.start) for c in snap.chunks.values()}


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_mid_ingest_keeps_the_old_index_and_the_next_ingest_converges(tmp_path: Path, shared_embeddings) -> None:
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    for name in (PLAN, REPLY):
        shutil.copyfile(CORPUS / name, corpus / name)
    settings = make_settings(data, corpus_dir=corpus)
    cache = data / "cache" / "embeddings.sqlite"
    first = run_ingest(settings, embeddings=CachedEmbeddings(shared_embeddings.inner, cache))
    old_chunks = _chunk_set(settings)

    # four development documents the cache has never seen: the subprocess has real embedding to do
    new_docs = sorted(DEV_DOCS.iterdir(), key=lambda p: -p.stat().st_size)[:4]
    for path in new_docs:
        shutil.copyfile(path, corpus / path.name)
    argv = [str(ASSISTANT_BIN), "ingest", "--corpus", str(corpus), "--data-dir", str(data)]
    victim = subprocess.Popen(argv, cwd=tmp_path, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    gen_root = data / GENERATIONS
    try:
        _wait_for(lambda: any(p.name.startswith(".tmp-") for p in gen_root.iterdir()) or victim.poll() is not None,
                  180, "the ingest to start building a generation (it embeds into it)")
        assert victim.poll() is None, victim.communicate()
        time.sleep(1.0)  # well inside the embedding of ~100 new chunks

        # a second ingest meanwhile is refused at once, saying who holds the data dir
        second = subprocess.run(argv, cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert "另一个导入任务正在进行" in second.stderr and f"进程 {victim.pid}" in second.stderr, second.stderr
        assert "请等它结束后再试" in second.stderr

        assert victim.poll() is None, "the ingest finished before it could be killed: the test proves nothing"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
        victim.stdout.close()  # type: ignore[union-attr]
        victim.stderr.close()  # type: ignore[union-attr]
    assert victim.returncode == -signal.SIGKILL

    # the previous index is live and answers, here and in a new process
    assert read_pointer(data)["generation"] == first.generation
    assert any(p.name.startswith(".tmp-") for p in gen_root.iterdir())  # the half-built generation is left aside
    assert (data / LOCK_FILE).read_text(encoding="utf-8").startswith(f"进程 {victim.pid}")  # a stale lock file
    bot = Assistant(settings, embeddings=shared_embeddings)
    answer = bot.ask(QUESTION)
    assert bot.snapshot().generation == first.generation and _chunk_set(settings) == old_chunks
    assert answer.grounded and answer.citations and answer.citations[0].source == PLAN
    asked = subprocess.run(
        [str(ASSISTANT_BIN), "ask", "--json", "--data-dir", str(data), QUESTION],
        cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=180,
    )
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["grounded"] is True

    # the next ingest is not blocked by the stale lock, completes, and cleans up what the killed one left
    started = time.monotonic()
    again = subprocess.run(argv + ["--json"], cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True,
                           timeout=600)
    reingest_s = time.monotonic() - started
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["changed"] and sorted(report["added"]) == sorted(p.name for p in new_docs), report
    assert not [p for p in gen_root.iterdir() if p.name.startswith(".tmp-")]
    pointer = read_pointer(data)
    names = {getattr(c, "name", c) for c in make_client(settings).list_collections()}
    assert names == {pointer["collection"], f"{settings.collection}-{first.generation}"}  # live + previous only

    # converged: the same chunks as a clean ingest of the same corpus into an empty data dir
    clean = make_settings(tmp_path / "clean", corpus_dir=corpus)
    run_ingest(clean, embeddings=CachedEmbeddings(shared_embeddings.inner, cache))
    recovered = _chunk_set(settings)
    assert recovered == _chunk_set(clean) and len(recovered) == report["chunks"] > len(old_chunks)
    stored = make_client(settings).get_collection(pointer["collection"]).get(include=[])["ids"]
    assert set(stored) == {c[0] for c in recovered}
    print(f"\nkill -9 after embedding started; re-ingest {reingest_s:.1f} s, {len(recovered)} chunks, equal to clean")


def test_a_second_ingest_can_wait_for_the_first(tmp_path: Path) -> None:
    data = tmp_path / "data"
    released = threading.Event()

    def hold() -> None:
        with ingest_lock(data):
            released.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        _wait_for(lambda: (data / LOCK_FILE).exists() and (data / LOCK_FILE).read_text(encoding="utf-8"), 5, "the lock")
        with pytest.raises(IngestBusyError) as err:  # no wait: refused at once, naming the holder
            with ingest_lock(data):
                pass
        assert "另一个导入任务正在进行" in err.value.message and "进程" in err.value.message
        threading.Timer(0.5, released.set).start()
        t0 = time.monotonic()
        with ingest_lock(data, wait_s=10):  # waits for the first, then goes ahead
            waited = time.monotonic() - t0
        assert 0.3 < waited < 10
    finally:
        released.set()
        holder.join()
    assert (data / LOCK_FILE).read_text(encoding="utf-8") == ""  # released cleanly: no holder named


def test_a_lock_file_left_by_a_killed_process_does_not_block(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = (
        "import sys, time; from pathlib import Path; from assistant.ingest.pipeline import ingest_lock\n"
        f"with ingest_lock(Path({str(data)!r})):\n    print('locked', flush=True); time.sleep(600)"
    )
    holder = subprocess.Popen([str(REPO / ".venv" / "bin" / "python"), "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(IngestBusyError) as err:
            with ingest_lock(data):
                pass
        assert f"进程 {holder.pid}" in err.value.message
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    assert f"进程 {holder.pid}" in (data / LOCK_FILE).read_text(encoding="utf-8")  # the file is still there
    t0 = time.monotonic()
    with ingest_lock(data):  # the kernel released the flock with the process
        pass
    assert time.monotonic() - t0 < 1.0
