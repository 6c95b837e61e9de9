"""Real HTTP for API tests: uvicorn serving an app on a free 127.0.0.1 port in a background thread.

Reusable by every HTTP feature's tests:

- ``make_server(app)`` — context manager yielding the base URL (``http://127.0.0.1:PORT``).
- ``live_server`` — fixture: ``live_server(app) -> base_url``; servers stop at the end of the test.
- ``make_app`` — fixture: ``make_app(**settings_overrides) -> FastAPI`` over the session index (the ``bot``
  assistant), with its own data dir (so its Store — sessions, rate limits, feedback — is fresh) and the
  rate limit off unless a test sets ``rate_limit_per_minute``.
- ``base_url`` — fixture: a live server for ``make_app()``.
- ``sse_events(response)`` — parse a Server-Sent Events body into ``(event, data)`` pairs.

Every test here runs twice: ``[embedded]`` (Chroma under the data dir, SQLite state) and ``[servers]`` (a real
Chroma server and a real Redis), through the ``bot`` / ``corpus_settings`` of tests/fixtures/deployments.py.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.fixtures.servers import namespace_of


@contextmanager
def make_server(app: Any, host: str = "127.0.0.1", timeout_s: float = 30.0, **config: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of ``host`` (socket bound here: no port race); ``config``:
    more ``uvicorn.Config`` arguments (e.g. ``log_level="debug"``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    options = {"log_level": "warning", "lifespan": "on", "timeout_graceful_shutdown": 3, **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited before it started; see the log above")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start within {timeout_s} s")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def live_server() -> Iterator[Callable[[Any], str]]:
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(make_server(app))


def settings_for(base: Any, data_dir: Path, **overrides: Any) -> Any:
    """A copy of ``base`` with its own data dir (fresh Store) and the rate limit off unless overridden.

    On the servers deployment the data dir also names its own collection prefix and Redis key prefix."""
    namespace = namespace_of(data_dir) if base.chroma_host or base.redis_url else {}
    update = {"data_dir": data_dir, "rate_limit_per_minute": 0, **namespace, **overrides}
    return base.model_copy(update=update)


@pytest.fixture(scope="session")
def corpus_settings(deployed_corpus_settings):
    """Once per deployment: embedded, and Chroma server + Redis (tests/fixtures/deployments.py)."""
    return deployed_corpus_settings


@pytest.fixture(scope="session")
def bot(deployed_bot):
    return deployed_bot


@pytest.fixture
def make_app(corpus_settings, bot, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    from api.main import create_app

    def factory(*, assistant: Any = None, data_dir: Path | None = None, **overrides: Any) -> Any:
        settings = settings_for(corpus_settings, data_dir or tmp_path_factory.mktemp("api-state"), **overrides)
        return create_app(settings=settings, assistant=assistant or bot)

    return factory


@pytest.fixture
def base_url(make_app, live_server) -> str:
    return live_server(make_app())


def sse_events(lines: Iterator[str]) -> list[tuple[str, Any]]:
    """``(event, data)`` for each event of an SSE body given as lines (``httpx.Response.iter_lines()``);
    ``data`` is parsed as JSON when it is JSON. Comment lines (pings) are skipped."""
    events: list[tuple[str, Any]] = []
    name, data = "message", []

    def flush() -> None:
        nonlocal name, data
        if data:
            raw = "\n".join(data)
            try:
                value: Any = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
            events.append((name, value))
        name, data = "message", []

    for line in lines:
        line = line.rstrip("\r")
        if not line:
            flush()
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    flush()
    return events
