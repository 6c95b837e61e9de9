"""The measures catalogue on disk: ``<generation dir>/measures.jsonl``, written at ingest beside the other files of
the generation (so it is published to Chroma-server replicas with them) and read on the first matching request.

Compact: line 1 is a header (``version``, ``generation``, ``taxonomy`` fingerprint, ``llm`` tag, ``count``) that can
be checked without reading the rest; then one measure per line, without its ``text`` — a measure's text is
``Document.text[start:end]`` by construction, so it is cut from the generation's documents when read. Strings that
recur across measures (document titles, kinds, target names, evidence words …) are shared in memory on reading.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.index.snapshot import atomic_text
from assistant.types import Document

FILE = "measures.jsonl"
FORMAT = 1  # bump when the line layout changes (the rules' version is the catalogue's own ``version``)


class CatalogueHeader(BaseModel):
    format: int = FORMAT
    version: int
    generation: str
    taxonomy: str  # fingerprint
    llm: str = ""
    count: int


def write(path: Path, header: CatalogueHeader, measures: list[dict[str, Any]]) -> None:
    """Atomically (``snapshot.atomic_text``): a reader sees the old file or the new one."""
    with atomic_text(path) as fh:
        fh.write(header.model_dump_json() + "\n")
        for m in measures:
            fh.write(json.dumps({k: v for k, v in m.items() if k != "text"}, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")


def read_header(path: Path) -> CatalogueHeader | None:
    """The header, or None when the file is missing, unreadable or of another format."""
    try:
        with open(path, encoding="utf-8") as fh:
            header = CatalogueHeader.model_validate_json(fh.readline())
    except (OSError, ValueError):
        return None
    return header if header.format == FORMAT else None


def read_measures(path: Path, documents: dict[str, Document]) -> Iterator[dict[str, Any]]:
    """The measures, one at a time, as plain dicts with their ``text`` restored from ``documents`` and recurring
    strings shared. ``ValueError`` when a line is malformed or names a document the generation lacks."""
    shared: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        fh.readline()  # the header
        for n, line in enumerate(fh, 2):
            row = _share(json.loads(line), shared)
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{n}: not a measure object")
            doc = documents.get(row.get("source", ""))
            if doc is None:
                raise ValueError(f"{path}:{n}: measure of {row.get('source')!r}, a document this generation lacks")
            try:
                row["text"] = doc.text[row["start"] : row["end"]]
            except (KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: no valid start/end offsets ({exc})") from exc
            yield row


def _share(value: Any, shared: dict[str, str]) -> Any:
    """``value`` with every string (and dict key) replaced by one shared copy per distinct string."""
    if isinstance(value, str):
        return shared.setdefault(value, value) if len(value) < 200 else value
    if isinstance(value, list):
        return [_share(v, shared) for v in value]
    if isinstance(value, dict):
        return {sys.intern(k): _share(v, shared) for k, v in value.items()}
    return value
