"""Secrets masked in log records (assistant.redact): values from the settings and secret-looking patterns."""

from __future__ import annotations

import logging

import pytest

from assistant.redact import MASK, Masker
from assistant.settings import Settings

SECRET = "s3cr3t-admin-key-xyz"


@pytest.fixture
def masker() -> Masker:
    m = Masker()
    m.add([SECRET, "wx-token-99", "", "abc"])  # "" and values under 4 characters are not registered
    return m


def record(msg: object, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("t", logging.WARNING, __file__, 1, msg, args or None, exc_info)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key={SECRET}", f"key={MASK}"),
        (f"admin key {SECRET} and {SECRET}x", f"admin key {MASK} and {MASK}x"),
        ("Authorization: Bearer abc.def-123", f"Authorization: Bearer {MASK}"),
        ("{'authorization': 'Basic dXNlcjpwdw=='}", f"{{'authorization': 'Basic {MASK}'}}"),
        ("headers X-Admin-Key: hunter22", f"headers X-Admin-Key: {MASK}"),
        ("GET /cgi-bin/message/custom/send?access_token=AT_123&x=1", f"GET /cgi-bin/message/custom/send?access_token={MASK}&x=1"),
        ("/cgi-bin/gettoken?corpid=ww1&corpsecret=CS_9", f"/cgi-bin/gettoken?corpid=ww1&corpsecret={MASK}"),
        ("using sk-proj-abcdefghijklmnop", f"using sk-{MASK}"),
        ("abc is too short to be a secret", "abc is too short to be a secret"),
        ("签名校验失败：请核对 Token", "签名校验失败：请核对 Token"),
    ],
)
def test_mask(masker: Masker, text: str, expected: str) -> None:
    assert masker.mask(text) == expected
    assert masker.mask(expected) == expected  # idempotent


def test_record_arguments_are_masked_and_kept(masker: Masker) -> None:
    r = record('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/x?access_token=AT_1", "1.1", 200)
    masker.record(r)
    assert isinstance(r.args, tuple) and r.args[-1] == 200  # uvicorn's access formatter indexes the args
    assert r.getMessage() == f'127.0.0.1:5 - "GET /x?access_token={MASK} HTTP/1.1" 200'


def test_a_secret_split_between_message_and_argument_is_masked(masker: Masker) -> None:
    r = record("Authorization: Bearer %s", "tok-123456")
    masker.record(r)
    assert "tok-123456" not in r.getMessage() and MASK in r.getMessage()
    r = record("payload %s", {"password": SECRET, "n": 1})
    masker.record(r)
    assert SECRET not in r.getMessage() and "'n': 1" in r.getMessage()


def test_tracebacks_are_masked(masker: Masker) -> None:
    try:
        raise RuntimeError(f"refused wx-token-99 for {SECRET}")
    except RuntimeError as exc:
        r = record("failed", exc=exc)
    masker.record(r)
    text = logging.Formatter().format(r)
    assert "RuntimeError: refused *** for ***" in text and SECRET not in text


def test_every_secret_setting_is_registered() -> None:
    from assistant.redact import SECRET_FIELDS, secrets_of

    names = {n for n in Settings.model_fields if any(w in n for w in ("key", "secret", "token", "password"))}
    assert names - {"chroma_ssl"} == set(SECRET_FIELDS), "a new secret setting: add it to redact.SECRET_FIELDS"
    values = secrets_of(Settings(admin_key="k" * 8, llm_api_key="sk-x"))
    assert "k" * 8 in values and "sk-x" in values
