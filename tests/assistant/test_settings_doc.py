"""docs/configuration.md carries the table generated from ``Settings``: a new setting cannot go undocumented."""

from __future__ import annotations

from assistant.settings import settings_table
from tests.conftest import REPO


def test_configuration_doc_is_generated_from_settings() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert settings_table() in doc, "regenerate the table: .venv/bin/python -m assistant.settings"
