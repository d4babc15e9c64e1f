"""HTTP routes of the reports: an area's summary, a community's collective economy, the projects
of an area. Tags are per route, as the API documents them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from projects_service.projects.models import Project
from projects_service.reports.models import CommunityCollective, Summary
from projects_service.reports.service import ReportsService
from relocation_shared.deps import CurrentContext, from_state
from relocation_shared.events.projects import IndustryChain, ProjectStatus

Service = Annotated[ReportsService, from_state("reports_service")]
AreaCode = Annotated[str, Query(max_length=30, description="区划代码")]

router = APIRouter(prefix="/api/v1", tags=[])


@router.get("/projects", response_model=list[Project], tags=["项目"], summary="区域内的项目")
async def list_projects(
    ctx: CurrentContext,
    service: Service,
    area: AreaCode,
    status: ProjectStatus | None = None,
    chain: IndustryChain | None = None,
    after: Annotated[str | None, Query(max_length=64, description="上一页最后一个项目的 id")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Project]:
    return await service.list_projects(
        ctx=ctx, area=area, status=status, chain=chain.value if chain else None, after=after, limit=limit
    )


@router.get(
    "/communities/{community_code}/collective",
    response_model=CommunityCollective,
    tags=["集体经济"],
    summary="社区集体经济收入、资产与分红",
)
async def community_collective(community_code: str, ctx: CurrentContext, service: Service) -> CommunityCollective:
    return await service.community_collective(ctx=ctx, community_code=community_code)


@router.get("/summary", response_model=Summary, tags=["汇总"], summary="区域汇总(按资金来源,分与元)")
async def summary(ctx: CurrentContext, service: Service, area: AreaCode) -> Summary:
    return await service.summary(ctx=ctx, area=area)
