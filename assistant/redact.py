"""Secrets never reach a log line or an error response.

``install(settings)`` registers the secret values of the settings (admin key, WeChat/WeCom tokens, AES keys
and app secrets, the LLM API key) and, once per process, wraps logging's record factory: every record of every
logger — uvicorn's access log, a library's debug line, a traceback — is masked when it is created, whatever
handler writes it later (uvicorn's, pytest's, a file). Masking at the record rather than in one handler's
filter is what makes "every log line" true: filters on a logger do not apply to its children's records.

Patterns also catch secrets the settings do not hold: ``Authorization``/``X-Admin-Key`` header values, the
``access_token=``/``secret=`` query parameters of WeChat's API URLs, OpenAI-style ``sk-`` keys.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from assistant.settings import Settings

MASK = "***"
SECRET_FIELDS = (
    "admin_key",
    "llm_api_key",
    "wechat_token",
    "wechat_app_secret",
    "wechat_aes_key",
    "wechat_aes_key_previous",
    "wecom_secret",
    "wecom_token",
    "wecom_aes_key",
)
MIN_SECRET_CHARS = 4  # shorter values would mask ordinary words; WeChat requires tokens of 3–32 characters
PATTERNS = (
    # "Authorization: Bearer x", "'authorization': 'Basic x'", "Bearer x" anywhere
    re.compile(r"(?i)(\bauthorization\b[\"']?\s*[:=]\s*[\"']?(?:bearer\s+|basic\s+|token\s+)?)(?!(?:bearer|basic|token)\b)[^\s\"',;}&%]+"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(\bx-admin-key\b[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&%]+"),
    # URL / form parameters: access_token=…, secret=…, corpsecret=…, api_key=…, EncodingAESKey=…
    re.compile(r"(?i)(\b(?:access_token|secret|corpsecret|app_?secret|api_?key|admin_?key|encodingaeskey|aes_?key)=)[^&\s\"'#%]+"),
    re.compile(r"(\bsk-)[A-Za-z0-9_-]{12,}"),
)


class Masker:
    """Replaces registered secret values and secret-looking patterns by ``***``. Thread-safe; grows only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._literal: re.Pattern[str] | None = None

    def add(self, values: Iterable[str]) -> None:
        new = {v for v in values if v and len(v) >= MIN_SECRET_CHARS}
        with self._lock:
            if new <= self._secrets:
                return
            self._secrets = self._secrets | new
            ordered = sorted(self._secrets, key=len, reverse=True)  # longest first: no partial leftovers
            self._literal = re.compile("|".join(re.escape(v) for v in ordered))

    def mask(self, text: str) -> str:
        literal = self._literal
        if literal is not None:
            text = literal.sub(MASK, text)
        for pattern in PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
        return text

    def value(self, value: Any) -> Any:
        """``value`` masked when it is text or its text holds a secret; numbers and the like unchanged."""
        if isinstance(value, str):
            return self.mask(value)
        if value is None or isinstance(value, (int, float, bool)):
            return value
        try:
            text = str(value)
        except Exception:  # noqa: BLE001 - a broken __str__ is logging's business, not ours
            return value
        masked = self.mask(text)
        return value if masked == text else masked

    def record(self, record: logging.LogRecord) -> None:
        """Mask a log record in place. Its arguments are masked one by one and kept (formatters such as
        uvicorn's access log index them); when a secret spans the message and an argument ("Bearer %s"), the
        record is flattened to its masked message. Then the traceback and the stack."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record: logging reports it when it is emitted
            return
        if self.mask(message) != message:
            if isinstance(record.msg, str):
                record.msg = self.mask(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(self.value(a) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: self.value(v) for k, v in record.args.items()}
            try:
                parts_masked = record.getMessage()
            except Exception:  # noqa: BLE001
                parts_masked = None
            if parts_masked is None or self.mask(parts_masked) != parts_masked:
                record.msg, record.args = self.mask(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)


_masker: Masker | None = None
_install_lock = threading.Lock()


def masker() -> Masker:
    """The process's masker, created (and logging's record factory wrapped) on first use."""
    global _masker
    if _masker is None:
        with _install_lock:
            if _masker is None:
                made = Masker()
                previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

                def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                    record = previous(*args, **kwargs)
                    made.record(record)
                    return record

                logging.setLogRecordFactory(factory)
                _masker = made
    return _masker


def secrets_of(settings: Settings) -> list[str]:
    return [str(getattr(settings, name, "") or "") for name in SECRET_FIELDS]


def install(settings: Settings) -> Masker:
    """Mask ``settings``' secrets (and the patterns) in every log record of this process from now on."""
    m = masker()
    m.add(secrets_of(settings))
    return m


def redact(value: Any) -> Any:
    """``value`` with secrets masked, recursively through dicts and lists (error response bodies)."""
    m = masker()
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return m.value(value)
