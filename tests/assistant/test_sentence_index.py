"""The sentence index's rows round-trip through both file forms and give the same similarities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from assistant.index.sentences import CHUNK_IDS, ROWS, SPANS, SentenceIndex

ROWS_IN = [("c1", 0, 12), ("c1", 12, 30), ("c2", 0, 9), ("c3", 0, 5), ("c3", 5, 40), ("c3", 40, 41)]


def _index() -> SentenceIndex:
    rng = np.random.default_rng(3)
    m = rng.normal(size=(len(ROWS_IN), 8)).astype(np.float32)
    return SentenceIndex(list(ROWS_IN), m / np.linalg.norm(m, axis=1, keepdims=True))


def test_saved_and_loaded_compact_or_from_rows_json_the_index_answers_alike(tmp_path: Path) -> None:
    built = _index()
    built.save(tmp_path / "s")
    assert json.loads((tmp_path / "s" / ROWS).read_text()) == [list(r) for r in ROWS_IN], "kept for older servers"
    compact = SentenceIndex.load(tmp_path / "s")
    (tmp_path / "s" / SPANS).unlink()
    (tmp_path / "s" / CHUNK_IDS).unlink()
    old = SentenceIndex.load(tmp_path / "s")
    query = built.vectors[4]
    for index in (compact, old):
        assert index is not None and index.rows() == ROWS_IN
        for cid in ("c1", "c2", "c3", "nope"):
            assert index.similarities(query, cid) == built.similarities(query, cid)
    assert list(built.similarities(query, "c3")) == [(0, 5), (5, 40), (40, 41)]
    assert built.similarities(query, "c3")[(5, 40)] == float(built.vectors[4] @ query)


def test_rows_of_one_chunk_that_are_not_consecutive_are_all_found() -> None:
    rows = [("a", 0, 3), ("b", 0, 4), ("a", 3, 9)]
    index = SentenceIndex(rows, np.eye(3, dtype=np.float32))
    assert index.rows() == rows
    assert index.similarities(np.array([1, 0, 1], dtype=np.float32), "a") == {(0, 3): 1.0, (3, 9): 1.0}


def test_an_empty_index_saves_and_loads(tmp_path: Path) -> None:
    SentenceIndex([], np.zeros((0, 8), dtype=np.float32)).save(tmp_path)
    loaded = SentenceIndex.load(tmp_path)
    assert loaded is not None and loaded.rows() == [] and loaded.similarities(np.ones(8, dtype=np.float32), "x") == {}


def test_row_file_reads_the_rows_np_load_would_without_mapping_the_file(tmp_path: Path) -> None:
    import pytest

    from assistant.index.sentences import RowFile

    m = np.random.default_rng(5).normal(size=(7, 4)).astype(np.float32)
    np.save(tmp_path / "v.npy", m)
    rows = RowFile(tmp_path / "v.npy")
    assert rows.shape == (7, 4) and rows.size == 28
    for pick in ([0], [2, 3, 4], [6, 1, 2], [], list(range(7))):
        got = rows[pick]
        assert got.dtype == m.dtype and got.shape == (len(pick), 4) and np.array_equal(got, m[pick])
    with pytest.raises(IndexError):
        rows[[5, 6, 7]]
