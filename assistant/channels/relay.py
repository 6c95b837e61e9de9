"""Answer within a time budget, keep computing past it, and hand the answer over on a retry or by push.

The answer is computed once per message, in a worker thread of this process (``claim_compute`` decides which
process). A request waits up to the budget for the reply text to appear in the ledger (a local future wakes it at
once; an answer computed by another process is seen by polling the shared store). What the request does when
the budget runs out is the caller's choice, given by the returned ``Outcome``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from assistant.channels.dedupe import MessageLedger

log = logging.getLogger(__name__)

POLL_S = 0.05

Pusher = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    """``reply``: send ``text`` now. ``pending``: not ready and not the last attempt. ``placeholder``: not ready on
    the last attempt (``pushed`` = the answer will be pushed). ``nothing``: already delivered by push."""

    kind: Literal["reply", "pending", "placeholder", "nothing"]
    text: str = ""
    pushed: bool = False


class Relay:
    def __init__(self, max_workers: int = 16) -> None:
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="channel-answer")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=False)

    async def respond(
        self,
        ledger: MessageLedger,
        key: str,
        compute: Callable[[], str],
        *,
        budget_s: float,
        final: bool,
        push: Pusher | None,
    ) -> Outcome:
        deadline = time.monotonic() + budget_s
        text = ledger.result(key)
        if text is None:
            if ledger.claim_compute(key):
                self._start(ledger, key, compute, push)
            text = await self._wait(ledger, key, deadline)
        if text is not None:
            return self._deliver(ledger, key, text)
        if not final:
            return Outcome("pending")
        if push is None:
            return Outcome("placeholder", pushed=False)
        ledger.request_push(key)
        # The answer may have landed between the wait and the request: its job then did not see the request.
        text = ledger.result(key)
        if text is not None:
            return self._deliver(ledger, key, text)
        return Outcome("placeholder", pushed=True)

    @staticmethod
    def _deliver(ledger: MessageLedger, key: str, text: str) -> Outcome:
        return Outcome("reply", text) if ledger.claim_delivery(key, "passive") else Outcome("nothing")

    def _start(self, ledger: MessageLedger, key: str, compute: Callable[[], str], push: Pusher | None) -> None:
        future_key = f"{ledger.channel}:{key}"
        future = self._executor.submit(self._run, ledger, key, compute, push)
        with self._lock:
            self._futures[future_key] = future
        future.add_done_callback(lambda _: self._forget(future_key))

    def _forget(self, future_key: str) -> None:
        with self._lock:
            self._futures.pop(future_key, None)

    @staticmethod
    def _run(ledger: MessageLedger, key: str, compute: Callable[[], str], push: Pusher | None) -> None:
        try:
            text = compute()  # compute() turns its own failures into a polite text
            ledger.save_result(key, text)
        except Exception:
            log.exception("answering %s/%s failed", ledger.channel, key)
            return
        if push is not None and ledger.push_requested(key) and ledger.claim_delivery(key, "push"):
            try:
                push(text)
            except Exception as exc:  # noqa: BLE001 - a failed push is logged, the request is long gone
                log.warning("push of %s/%s failed: %s", ledger.channel, key, exc)

    async def _wait(self, ledger: MessageLedger, key: str, deadline: float) -> str | None:
        future_key = f"{ledger.channel}:{key}"
        while True:
            text = ledger.result(key)
            if text is not None:
                return text
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with self._lock:
                future = self._futures.get(future_key)
            if future is not None:  # computed here: wake up the moment it is done
                await asyncio.wait([asyncio.wrap_future(future)], timeout=remaining)
            else:  # computed by another worker process (or just finished): poll the shared store
                await asyncio.sleep(min(POLL_S, remaining))
