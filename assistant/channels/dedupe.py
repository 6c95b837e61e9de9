"""Per-message bookkeeping on the shared ``Store``, so that every worker process agrees on it.

WeChat and WeCom resend a message (same ``MsgId``) when they get no usable answer in 5 s, and the resend may
reach another worker process. For each message key the ledger records:

- which attempt a request is (1, 2, 3 …), counted with atomic claims of numbered slots;
- who computes the answer (``claim_compute``: exactly one caller, across processes);
- the finished reply text (the answer cache a retry is served from);
- whether the answer must be pushed (the last attempt replied with a placeholder);
- how it was delivered (``claim_delivery``): a passive reply may be repeated to a retry, a push happens once and
  never after a passive reply.
"""

from __future__ import annotations

from typing import Literal

from assistant.store import Store

Delivery = Literal["passive", "push"]

MAX_ATTEMPTS = 16  # slots counted per message; WeChat sends at most 4
RESULT_TTL_S = 3600.0  # a retry comes within ~15 s; a resent question may reuse the answer for an hour
COMPUTE_CLAIM_TTL_S = 300.0  # if the computing process dies, another may compute after this


class MessageLedger:
    def __init__(self, store: Store, channel: str, ttl_s: float = RESULT_TTL_S) -> None:
        self.store = store
        self.channel = channel
        self.ttl_s = ttl_s

    def _ns(self, what: str) -> str:
        return f"channel:{self.channel}:{what}"

    def attempt(self, key: str) -> int:
        """1 for the first request carrying ``key``, 2 for the first retry …, across all worker processes."""
        for n in range(1, MAX_ATTEMPTS + 1):
            if self.store.add_if_absent(self._ns("attempt"), f"{key}#{n}", True, ttl_s=self.ttl_s):
                return n
        return MAX_ATTEMPTS + 1

    def claim_compute(self, key: str) -> bool:
        """True for exactly one caller: that one computes the answer."""
        return self.store.add_if_absent(self._ns("compute"), key, True, ttl_s=COMPUTE_CLAIM_TTL_S)

    def result(self, key: str) -> str | None:
        return self.store.get(self._ns("result"), key)

    def save_result(self, key: str, text: str) -> None:
        self.store.set(self._ns("result"), key, text, ttl_s=self.ttl_s)

    def request_push(self, key: str) -> None:
        self.store.set(self._ns("push"), key, True, ttl_s=self.ttl_s)

    def push_requested(self, key: str) -> bool:
        return bool(self.store.get(self._ns("push"), key))

    def claim_delivery(self, key: str, how: Delivery) -> bool:
        """May the answer be delivered this way? A passive reply may repeat (WeChat keeps one of them); a push
        happens once, and never once a passive reply went out (and vice versa)."""
        if self.store.add_if_absent(self._ns("delivered"), key, how, ttl_s=self.ttl_s):
            return True
        return how == "passive" and self.store.get(self._ns("delivered"), key) == "passive"

    def delivered(self, key: str) -> Delivery | None:
        return self.store.get(self._ns("delivered"), key)

    # A question answered with a placeholder and no push: when the user sends it again, the new message is
    # answered by the earlier computation (waited for, or taken from the cache) instead of a second one.
    def note_undelivered(self, user: str, question: str, key: str) -> None:
        self.store.set(self._ns("undelivered"), user, {"question": question, "key": key}, ttl_s=self.ttl_s)

    def take_undelivered(self, user: str, question: str) -> str | None:
        """The key of this user's undelivered message with the same question, if any (forgotten once taken)."""
        note = self.store.get(self._ns("undelivered"), user)
        if not note or note.get("question") != question:
            return None
        self.store.delete(self._ns("undelivered"), user)
        return str(note["key"])

    def alias(self, key: str, target: str | None = None) -> str:
        """Record that message ``key`` is answered by ``target``; without ``target``: the key that answers ``key``."""
        if target is not None:
            self.store.set(self._ns("alias"), key, target, ttl_s=self.ttl_s)
            return target
        return self.store.get(self._ns("alias"), key) or key
