"""Score the matcher on gold profiles (``eval/gold/profiles.jsonl``): precision@5 and recall@5.

Definitions (per profile, then macro-averaged over profiles):

- returned = the matcher's results for the profile, at most k = 5. The matcher drops results below its relevance
  threshold, so a narrow profile may return fewer than 5; padding with weak results is what precision punishes.
- recall@5 = share of the profile's ``expected`` measures found among the returned results.
- precision@5 = share of the returned results that are ``expected`` or ``acceptable`` (a careful reader would not
  object to them), computed over the results actually returned (0 if nothing is returned).

Gold rows reference measures by source file + a heading of the measure's section path (e.g.
``14、健全知识产权服务体系`` or ``在人才引进方面``), so they survive id changes; every reference must resolve to a
measure of the catalogue, otherwise evaluation stops with an error naming the row.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError

from assistant.errors import InputError
from assistant.match.catalogue import Catalogue, Measure, get_catalogue
from assistant.match.matcher import match
from assistant.match.profile import ProfileInput
from assistant.match.taxonomy import load_taxonomy
from assistant.settings import REPO_ROOT

if TYPE_CHECKING:
    from assistant.service import Assistant

DEFAULT_PATH = REPO_ROOT / "eval" / "gold" / "profiles.jsonl"
K = 5
DEFINITION = (
    "precision@5 = 返回结果（至多 5 条，低于相关度阈值的不返回）中属于 expected 或 acceptable 的比例；"
    "recall@5 = expected 中出现在返回结果里的比例；两者均按画像宏平均。"
)


class MeasureRef(BaseModel):
    source: str
    section: str  # a heading of the measure's section path, as written (whitespace ignored)


class GoldProfile(BaseModel):
    id: str
    profile: ProfileInput
    expected: list[MeasureRef] = Field(min_length=1)
    acceptable: list[MeasureRef] = Field(default_factory=list)
    notes: str = ""


class ReturnedMeasure(BaseModel):
    measure_id: str
    title: str
    section: str
    score: float
    relevant: bool  # expected or acceptable
    expected: bool


class ProfileEval(BaseModel):
    id: str
    precision: float
    recall: float
    returned: list[ReturnedMeasure]
    expected_found: list[str]
    expected_missing: list[str]


class MatchEvalResult(BaseModel):
    precision_at_5: float
    recall_at_5: float
    n_profiles: int
    k: int = K
    definition: str = DEFINITION
    seconds: float = 0.0
    per_profile: list[ProfileEval]


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def ref_matches(ref: MeasureRef, measure: Measure) -> bool:
    if ref.source != measure.source:
        return False
    want = _norm(ref.section)
    return any(_norm(part) == want for part in measure.path)


def load_profiles(path: Path | None = None) -> list[GoldProfile]:
    path = Path(path or DEFAULT_PATH)
    if not path.is_file():
        raise InputError(f"找不到金标画像文件 {path}", "默认位置为 eval/gold/profiles.jsonl。")
    rows: list[GoldProfile] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = GoldProfile.model_validate_json(line)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise InputError(f"金标画像 {path} 第 {n} 行有误（{where}）：{first.get('msg')}") from exc
        if row.id in seen:
            raise InputError(f"金标画像 {path} 第 {n} 行：id 重复 {row.id}")
        seen.add(row.id)
        rows.append(row)
    if not rows:
        raise InputError(f"金标画像文件 {path} 是空的")
    return rows


def resolve(ref: MeasureRef, catalogue: Catalogue) -> list[str]:
    return [m.id for m in catalogue.measures if ref_matches(ref, m)]


def check_refs(rows: list[GoldProfile], catalogue: Catalogue) -> None:
    for row in rows:
        for ref in (*row.expected, *row.acceptable):
            if not resolve(ref, catalogue):
                raise InputError(
                    f"金标画像 {row.id} 引用的措施在目录中不存在：{ref.source} / {ref.section}",
                    "请用 `assistant measures` 查看目录中的章节标题，并核对文件名与标题原文。",
                )


def evaluate_profiles(assistant: Assistant, path: Path | None = None, k: int = K) -> MatchEvalResult:
    started = time.perf_counter()
    rows = load_profiles(path)
    taxonomy = load_taxonomy(assistant.settings)
    catalogue = get_catalogue(assistant, taxonomy)
    check_refs(rows, catalogue)
    per: list[ProfileEval] = []
    for row in rows:
        response = match(assistant, row.profile, top_k=k, taxonomy=taxonomy)
        expected_ids = {ref.section: set(resolve(ref, catalogue)) for ref in row.expected}
        relevant_ids = set().union(*expected_ids.values(), *(resolve(r, catalogue) for r in row.acceptable))
        returned_ids = [r.measure_id for r in response.results]
        found = [s for s, ids in expected_ids.items() if ids & set(returned_ids)]
        missing = [s for s in expected_ids if s not in found]
        hits = sum(1 for mid in returned_ids if mid in relevant_ids)
        per.append(
            ProfileEval(
                id=row.id,
                precision=round(hits / len(returned_ids), 4) if returned_ids else 0.0,
                recall=round(len(found) / len(expected_ids), 4),
                returned=[
                    ReturnedMeasure(
                        measure_id=r.measure_id,
                        title=r.title,
                        section=r.section,
                        score=r.score,
                        relevant=r.measure_id in relevant_ids,
                        expected=any(r.measure_id in ids for ids in expected_ids.values()),
                    )
                    for r in response.results
                ],
                expected_found=found,
                expected_missing=missing,
            )
        )
    n = len(per)
    return MatchEvalResult(
        precision_at_5=round(sum(p.precision for p in per) / n, 4),
        recall_at_5=round(sum(p.recall for p in per) / n, 4),
        n_profiles=n,
        k=k,
        seconds=round(time.perf_counter() - started, 2),
        per_profile=per,
    )
