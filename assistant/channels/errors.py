"""Errors of the channel endpoints; ``api/errors.py`` renders them as JSON with their status."""

from __future__ import annotations

from assistant.errors import AssistantError


class ChannelDisabledError(AssistantError):
    status_code = 404


class SignatureError(AssistantError):
    """Bad signature, or a timestamp outside the allowed window (replay)."""

    status_code = 403


class BadMessageError(AssistantError):
    """Garbled, oversized or unsafe XML, or a message that cannot be decrypted."""

    status_code = 400
