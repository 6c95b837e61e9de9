"""Errors meant for users. Each says what went wrong and what to do; the CLI and API translate them."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: ``message`` is shown to the user as-is (Chinese or English), ``hint`` says what to do."""

    status_code = 400

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ConfigError(AssistantError):
    status_code = 500


class IndexNotFoundError(AssistantError):
    status_code = 503


class EmbeddingMismatchError(AssistantError):
    status_code = 409


class InputError(AssistantError):
    status_code = 422


class NotFoundError(AssistantError):
    """Something the request names (a document, a chunk) is not in the index."""

    status_code = 404


class LoaderError(AssistantError):
    """A single file could not be read; ingest reports it and goes on."""


class IngestBusyError(AssistantError):
    status_code = 409


class StoreUnavailableError(AssistantError):
    """The shared state store (Redis) cannot be reached."""

    status_code = 503
