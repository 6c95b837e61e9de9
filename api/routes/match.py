"""Enterprise support matching: ``POST /v1/match`` (profile → fitting measures with reasons, condition statuses
and citations) and ``GET /v1/measures`` (the measures catalogue, filterable)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from api.deps import AssistantDep
from api.schemas import error
from assistant.match.catalogue import Measure, get_catalogue, list_measures
from assistant.match.matcher import MAX_TOP_K, MatchResponse, match
from assistant.match.profile import ProfileInput
from assistant.match.taxonomy import load_taxonomy, taxonomy_summary

router = APIRouter(tags=["match"])


class MatchRequest(ProfileInput):
    """Profile fields (all optional, but at least one of description / needs / industry) plus ``top_k``."""

    top_k: int = Field(default=5, ge=1, le=MAX_TOP_K, description="最多返回几条（1–20）")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"description": "我们是一家做工业软件的成长期企业，想申请贷款，也担心海外专利纠纷"},
                {"description": "想从海外引进高层次人才", "needs": ["人才引进"], "location": "长宁区"},
            ]
        }
    }


class MeasureList(BaseModel):
    generation: str
    count: int
    measures: list[Measure]


@router.post("/v1/match", response_model=MatchResponse, summary="按企业画像匹配支持措施")
def match_profile(body: MatchRequest, assistant: AssistantDep) -> MatchResponse:
    profile = ProfileInput.model_validate(body.model_dump(exclude={"top_k"}))
    return match(assistant, profile, top_k=body.top_k)


@router.get("/v1/measures", response_model=MeasureList, summary="支持措施目录（可按类型、文件、关键词筛选）")
def measures(
    assistant: AssistantDep,
    kind: Annotated[
        str | None, Query(max_length=50, description="支持类型，如 知识产权、融资/信贷、融资")
    ] = None,
    source: Annotated[str | None, Query(max_length=300, description="文件（相对语料目录的路径）")] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="标题或正文包含的词（空格分隔，需全部包含）")
    ] = None,
) -> MeasureList:
    found = list_measures(assistant, kind=kind, source=source, q=q)
    return MeasureList(generation=assistant.snapshot().generation, count=len(found), measures=found)


@router.get("/v1/measures/{measure_id}", response_model=Measure, summary="单条支持措施",
            responses={404: error("没有这个编号的支持措施")})
def measure(measure_id: str, assistant: AssistantDep) -> Measure:
    found = get_catalogue(assistant).get(measure_id)
    if found is None:
        raise HTTPException(
            status_code=404, detail=f"没有编号为 {measure_id} 的支持措施，请用 GET /v1/measures 查看目录"
        )
    return found


@router.get("/v1/match/taxonomy", summary="画像表单可选项：支持类型、行业、资质、阶段、人才类型、规模")
def taxonomy(assistant: AssistantDep) -> dict:
    return taxonomy_summary(load_taxonomy(assistant.settings))
