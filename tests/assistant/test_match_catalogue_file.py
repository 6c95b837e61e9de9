"""The catalogue is built at ingest and saved with the generation; the server reads it on first use only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.index.snapshot import GENERATIONS
from assistant.ingest.pipeline import run_ingest
from assistant.match import catalogue as catalogue_mod
from assistant.match.catalogue import CACHE_FILE, build_catalogue, get_catalogue
from assistant.match.taxonomy import load_taxonomy
from assistant.service import Assistant
from tests.conftest import CORPUS, make_settings


@pytest.fixture
def ingested(tmp_path: Path, shared_embeddings):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = make_settings(tmp_path / "data", corpus)
    report = run_ingest(settings, embeddings=shared_embeddings)
    return settings, report


def _no_build(*_args, **_kwargs):
    raise AssertionError("the catalogue saved at ingest should have been read, not rebuilt")


def test_ingest_saves_the_catalogue_and_the_server_reads_it_on_first_use_only(
    ingested, shared_embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, report = ingested
    saved = settings.data_dir / GENERATIONS / report.generation / CACHE_FILE
    assert saved.is_file() and report.measures == 26 and not report.measures_error

    bot = Assistant(settings, embeddings=shared_embeddings)
    monkeypatch.setattr(catalogue_mod, "build_catalogue", _no_build)
    bot.warm_up()
    assert not any(key[0] == str(settings.data_dir) for key in catalogue_mod._memo), "warm-up leaves it unread"

    loaded = get_catalogue(bot)
    snap = bot.snapshot()
    monkeypatch.undo()
    fresh = build_catalogue(snap.documents, [snap.chunks[c] for c in snap.order], load_taxonomy(settings), snap.generation)
    assert [m.model_dump() for m in loaded.measures] == [m.model_dump() for m in fresh.measures]
    assert all(m.text == snap.documents[m.source].text[m.start : m.end] for m in loaded.measures)
    first, second = loaded.measures[:2]
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__, "one shared fields-set"
    assert first.doc_title is second.doc_title or first.source != second.source, "recurring strings shared"


def test_a_catalogue_saved_for_another_taxonomy_is_rebuilt_at_the_next_ingest_and_when_read(
    ingested, shared_embeddings
) -> None:
    settings, report = ingested
    saved = settings.data_dir / GENERATIONS / report.generation / CACHE_FILE
    lines = saved.read_text(encoding="utf-8").splitlines()
    stale = json.dumps({**json.loads(lines[0]), "taxonomy": "0000000000000000"})
    saved.write_text("\n".join([stale, *lines[1:]]) + "\n", encoding="utf-8")

    again = run_ingest(settings, embeddings=shared_embeddings)
    assert not again.changed and again.measures == 26
    assert saved.read_text(encoding="utf-8").splitlines() == lines, "rebuilt by the unchanged ingest"

    saved.write_text("\n".join([stale, *lines[1:]]) + "\n", encoding="utf-8")
    bot = Assistant(settings, embeddings=shared_embeddings)
    assert len(get_catalogue(bot).measures) == 26
    assert saved.read_text(encoding="utf-8").splitlines() == lines, "rebuilt and saved on first use"


def test_an_invalid_taxonomy_does_not_fail_the_ingest(tmp_path: Path, shared_embeddings) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "taxonomy.yaml").write_text("kinds: [unclosed\n", encoding="utf-8")
    settings = make_settings(tmp_path / "data", corpus)
    report = run_ingest(settings, embeddings=shared_embeddings)
    assert report.changed and report.chunks > 0
    assert report.measures is None and "taxonomy" in report.measures_error.lower()


@pytest.mark.parametrize("damage", ["[1, 2]", '{"source": "nope.md", "start": 0, "end": 3}', "{not json", '{"source": "SRC"}'])
def test_a_damaged_catalogue_file_is_rebuilt_on_first_use(ingested, shared_embeddings, damage: str) -> None:
    settings, report = ingested
    saved = settings.data_dir / GENERATIONS / report.generation / CACHE_FILE
    lines = saved.read_text(encoding="utf-8").splitlines()
    source = json.loads(lines[1])["source"]
    saved.write_text("\n".join([*lines[:2], damage.replace("SRC", source), *lines[3:]]) + "\n", encoding="utf-8")
    bot = Assistant(settings, embeddings=shared_embeddings)
    assert len(get_catalogue(bot).measures) == 26
    assert saved.read_text(encoding="utf-8").splitlines() == lines, "rebuilt and saved again"
