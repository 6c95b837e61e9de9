"""Dynamic batching of query embeddings: questions that arrive while the model is busy share its next forward pass.

A single worker thread takes whatever is queued (up to ``max_batch``) and embeds it in one call. An idle server
embeds a lone question at once, without waiting to fill a batch; a loaded one gets fewer, larger forward passes,
which the torch runtime runs far more cheaply per question than one by one (the weights are read once per pass).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

Encode = Callable[[list[str]], Sequence[Sequence[float]]]


@dataclass
class BatchStats:
    batches: int = 0
    texts: int = 0
    largest: int = 0


class QueryBatcher:
    """``embed(text)`` from many threads; one worker calls ``encode(texts)`` for the queued ones together."""

    def __init__(self, encode: Encode, max_batch: int = 16, name: str = "embed-batcher") -> None:
        self._encode = encode
        self.max_batch = max(1, max_batch)
        self._name = name
        self._queue: queue.Queue[tuple[str, Future[list[float]]] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.stats = BatchStats()

    def embed(self, text: str) -> list[float]:
        future: Future[list[float]] = Future()
        self._ensure_worker()
        self._queue.put((text, future))
        return future.result()

    def close(self) -> None:
        """Stop the worker after the questions already queued (idempotent)."""
        with self._start_lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=30)

    def _ensure_worker(self) -> None:
        if self._worker is not None:
            return
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            items = [item]
            while len(items) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:  # close(): finish this batch, then stop
                    self._queue.put(None)
                    break
                items.append(nxt)
            self._process(items)

    def _process(self, items: list[tuple[str, Future[list[float]]]]) -> None:
        try:
            vectors = self._encode([text for text, _ in items])
        except BaseException as exc:  # noqa: BLE001 - every waiting caller gets the error
            for _, future in items:
                future.set_exception(exc)
            return
        for (_, future), vector in zip(items, vectors, strict=True):
            future.set_result(vector.tolist() if hasattr(vector, "tolist") else list(vector))
        s = self.stats
        s.batches += 1
        s.texts += len(items)
        s.largest = max(s.largest, len(items))
