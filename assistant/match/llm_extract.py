"""Optional LLM-assisted extraction: when an LLM is configured (``llm_base_url`` + ``llm_model``), ask it for each
measure's kinds, targets and stated conditions, and merge what verifies into the rule-based result.

Nothing unverified gets in: kinds and targets must be names of the taxonomy, conditions must be verbatim phrases
of the measure text. Answers are cached on disk (``<data_dir>/cache/measures_llm.json``) keyed by model, taxonomy
and measure text, so a re-ingest only asks about measures whose text changed. Any failure (timeout, HTTP error,
not JSON) leaves that measure rule-based.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from pathlib import Path
from typing import Any

import httpx

from assistant.index.snapshot import write_json_atomic
from assistant.match.taxonomy import Taxonomy
from assistant.prompts import render
from assistant.settings import Settings

log = logging.getLogger(__name__)

CACHE_NAME = "measures_llm.json"
LLM_KIND_STRENGTH = 0.5  # a kind only the model saw counts as a secondary kind
TARGET_FIELDS = ("industries", "qualifications", "groups")
_lock = threading.Lock()


def llm_configured(settings: Settings) -> bool:
    return bool(settings.llm_base_url.strip() and settings.llm_model.strip())


def llm_tag(settings: Settings) -> str:
    """Part of the catalogue cache key: which model (if any) helped build it."""
    return f"{settings.llm_base_url.rstrip('/')}|{settings.llm_model}" if llm_configured(settings) else ""


def _cache_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "cache" / CACHE_NAME


def _load_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _key(settings: Settings, taxonomy: Taxonomy, heading: str, text: str) -> str:
    raw = "\x00".join((settings.llm_model, taxonomy.fingerprint, heading, text))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _parse(reply: str) -> dict[str, Any]:
    """The JSON object in a model reply (tolerates code fences and text around it)."""
    m = re.search(r"\{.*\}", reply, re.S)
    if not m:
        raise ValueError("no JSON object in the reply")
    data = json.loads(m.group(0))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def verified(data: dict[str, Any], text: str, taxonomy: Taxonomy) -> dict[str, list[str]]:
    """Keep only taxonomy names and verbatim conditions."""
    out: dict[str, list[str]] = {}
    for field in ("kinds", *TARGET_FIELDS):
        names = taxonomy.names(field)
        values = data.get(field) or []
        out[field] = (
            [v for v in values if isinstance(v, str) and v in names] if isinstance(values, list) else []
        )
    conditions = data.get("conditions") or []
    out["conditions"] = (
        [c.strip() for c in conditions if isinstance(c, str) and len(c.strip()) >= 2 and c.strip() in text]
        if isinstance(conditions, list)
        else []
    )
    return out


def ask(
    settings: Settings, taxonomy: Taxonomy, heading: str, section: str, text: str
) -> dict[str, list[str]] | None:
    from assistant.answer.llm import chat  # the core's OpenAI-compatible client

    prompt = render(
        settings.prompts_dir,
        "measure_extract",
        kinds=taxonomy.names("kinds"),
        industries=taxonomy.names("industries"),
        qualifications=taxonomy.names("qualifications"),
        groups=taxonomy.names("groups"),
        heading=heading,
        section=section,
        text=text,
    )
    try:
        return verified(_parse(chat(settings, prompt, max_tokens=400)), text, taxonomy)
    except (httpx.HTTPError, KeyError, IndexError, ValueError, TypeError) as exc:
        log.warning("LLM measure extraction failed for %s (%s); keeping the rule-based result", heading, exc)
        return None


def enrich(measures: list, settings: Settings, taxonomy: Taxonomy) -> None:
    """Merge verified LLM extractions into ``measures`` (catalogue ``Measure`` objects) in place."""
    if not llm_configured(settings) or not measures:
        return
    path = _cache_path(settings)
    with _lock:
        cache = _load_cache(path)
    changed = False
    for m in measures:
        key = _key(settings, taxonomy, m.heading, m.text)
        found = cache.get(key)
        if found is None:
            found = ask(settings, taxonomy, m.heading, m.section, m.text)
            if found is None:
                continue
            cache[key] = found
            changed = True
        merge(m, found, taxonomy)
    if changed:
        with _lock:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_json_atomic(path, {**_load_cache(path), **cache})
            except OSError as exc:
                log.warning("could not write the LLM extraction cache %s: %s", path, exc)


def merge(m: Any, found: dict[str, list[str]], taxonomy: Taxonomy) -> None:
    added = False
    for kind in found.get("kinds", []):
        if kind not in m.kind_strength:
            m.kind_strength[kind] = LLM_KIND_STRENGTH
            m.evidence.setdefault("kinds", {})[kind] = []
            added = True
    if added:
        order = [k for k in taxonomy.names("kinds") if k in m.kind_strength]
        order.sort(key=lambda k: -m.kind_strength[k])
        m.kinds = order
        m.kind_strength = {k: m.kind_strength[k] for k in order}
    for field in TARGET_FIELDS:
        have = getattr(m.targets, field)
        extra = [v for v in found.get(field, []) if v not in have]
        if extra:
            names = taxonomy.names(field)
            setattr(m.targets, field, [n for n in names if n in have or n in extra])
    for c in found.get("conditions", []):
        if c not in m.conditions and not any(c in other for other in m.conditions):
            m.conditions.append(c)
    m.extracted_by = "rules+llm"
