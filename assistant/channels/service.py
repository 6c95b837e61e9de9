"""What every chat channel does with a user's text: rate limit, per-user follow-up history, answer once per
message within a time budget, and format the reply for WeChat.

One ``ChannelService`` per app (``for_app``); the answer function is ``app.state.answer_fn`` when set (tests slow
it down), else ``Assistant.ask``. All state lives in the shared ``Store``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from assistant.channels.dedupe import MessageLedger
from assistant.channels.formatting import format_answer, format_text
from assistant.channels.push import PushClient, wechat_push, wecom_push
from assistant.channels.relay import Outcome, Relay
from assistant.checks import check_question
from assistant.errors import AssistantError
from assistant.prompts import render
from assistant.settings import Settings
from assistant.store import Store
from assistant.types import Answer

log = logging.getLogger(__name__)

AnswerFn = Callable[[str, list[str]], Answer]  # (question, earlier questions of this user) -> Answer

RATE_WINDOW_S = 60
_LOCK = threading.Lock()


class ChannelService:
    def __init__(self, settings: Settings, store: Store, answer_fn: AnswerFn, relay: Relay | None = None) -> None:
        self.settings = settings
        self.store = store
        self.answer_fn = answer_fn
        self.relay = relay or Relay()

    # ---- fixed texts (prompts/wechat_*.j2) ----------------------------------------------------------------
    def text(self, template: str, **variables: object) -> str:
        return format_text(render(self.settings.prompts_dir, template, **variables))

    def welcome(self) -> str:
        return self.text("wechat_welcome", public_url=self.settings.public_url.strip())

    def unsupported(self) -> str:
        return self.text("wechat_unsupported")

    def rate_limited_text(self) -> str:
        return self.text("wechat_rate_limited", limit=self.settings.wechat_user_rate_per_minute)

    # ---- per-user state -----------------------------------------------------------------------------------
    def ledger(self, channel: str) -> MessageLedger:
        return MessageLedger(self.store, channel)

    def rate_limited(self, channel: str, user: str) -> bool:
        """Count one message of ``user``; True once they exceed ``wechat_user_rate_per_minute`` (≤ 0: no limit)."""
        limit = self.settings.wechat_user_rate_per_minute
        if limit <= 0:
            return False
        return self.store.hit(f"channel:{channel}:rate", user, RATE_WINDOW_S) > limit

    def history(self, channel: str, user: str) -> list[str]:
        return list(self.store.get(f"channel:{channel}:history", user) or [])

    def remember(self, channel: str, user: str, question: str) -> None:
        turns = (self.history(channel, user) + [question])[-max(1, self.settings.session_max_turns) :]
        self.store.set(f"channel:{channel}:history", user, turns, ttl_s=self.settings.session_ttl_s)

    # ---- answering ----------------------------------------------------------------------------------------
    def answer(self, channel: str, user: str, question: str) -> tuple[Answer, str]:
        """Answer now (blocking) with this user's earlier questions as context; the answer and its WeChat text."""
        question = check_question(self.settings, question)  # this app's limits, whatever answers
        answer = self.answer_fn(question, self.history(channel, user))
        self.remember(channel, user, question)  # only answered questions become context for follow-ups
        text = format_answer(answer, prompts_dir=self.settings.prompts_dir, public_url=self.settings.public_url)
        return answer, text

    def answer_text(self, channel: str, user: str, question: str) -> str:
        """``answer`` for a chat reply: failures become a polite text, never an exception."""
        try:
            return self.answer(channel, user, question)[1]
        except AssistantError as exc:  # e.g. question too long: tell the user what to do
            return format_text("\n".join(p for p in (exc.message, exc.hint) if p))
        except Exception:  # noqa: BLE001 - the user gets an apology, the log gets the traceback
            log.exception("answering a %s message failed", channel)
            return self.text("wechat_error")

    async def handle_question(
        self,
        *,
        channel: str,
        key: str,
        user: str,
        question: str,
        attempts: int,
        push: PushClient | None,
        budget_s: float,
    ) -> Outcome:
        """Answer message ``key`` at most once. ``attempts``: how many times the platform sends a message before
        the request that must say something (the last one replies a placeholder and the answer is pushed)."""
        ledger = self.ledger(channel)
        attempt = ledger.attempt(key)
        if attempt == 1 and ledger.result(key) is None:
            if self.rate_limited(channel, user):
                ledger.save_result(key, self.rate_limited_text())
            elif (earlier := ledger.take_undelivered(user, question)) is not None:
                ledger.alias(key, earlier)  # the user resent a question whose answer never reached them
        key = ledger.alias(key)
        pusher = partial(push.send_text, user) if push is not None else None
        outcome = await self.relay.respond(
            ledger,
            key,
            partial(self.answer_text, channel, user, question),
            budget_s=budget_s,
            final=attempt >= attempts,
            push=pusher,
        )
        if outcome.kind == "placeholder":
            if not outcome.pushed:
                ledger.note_undelivered(user, question, key)
            return replace(outcome, text=self.text("wechat_pending", push=outcome.pushed))
        return outcome


# ---- one service per app -------------------------------------------------------------------------------------
def _default_answer_fn(assistant: Any) -> AnswerFn:
    def ask(question: str, history: list[str]) -> Answer:
        return assistant.ask(question, history=history)

    return ask


def for_app(app: Any) -> ChannelService:
    """The app's ``ChannelService``, created on first use; picks up ``app.state.answer_fn`` on every call."""
    state = app.state
    service: ChannelService | None = getattr(state, "channels", None)
    if service is None:
        with _LOCK:
            service = getattr(state, "channels", None)
            if service is None:
                service = ChannelService(state.settings, state.store, _default_answer_fn(state.assistant))
                state.channels = service
    service.answer_fn = getattr(state, "answer_fn", None) or _default_answer_fn(state.assistant)
    return service


def push_client(app: Any, channel: str) -> PushClient | None:
    """``app.state.<channel>_push`` when set (tests inject a fake), else a wechatpy client when configured."""
    state = app.state
    injected = getattr(state, f"{channel}_push", None)
    if injected is not None:
        return injected
    cache_name = f"_{channel}_push_client"
    if not hasattr(state, cache_name):
        build = {"wechat": wechat_push, "wecom": wecom_push}[channel]
        setattr(state, cache_name, build(state.settings, state.store))
    return getattr(state, cache_name)
