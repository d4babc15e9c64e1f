"""HTTP routes of projects: approval, status, demonstration, funding added. Amounts are in fen.
Tags are per route, as the API documents them (funding added is listed under 资金)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from projects_service.projects.models import AllocationIn, DemonstrationIn, Project, ProjectIn, StatusIn
from projects_service.projects.service import ProjectsService
from relocation_shared.batch import BatchIn, BatchResult
from relocation_shared.deps import CurrentContext, IdempotentContext, from_state

Service = Annotated[ProjectsService, from_state("projects_service")]

router = APIRouter(prefix="/api/v1", tags=[])


@router.post("/projects", response_model=Project, status_code=201, tags=["项目"], summary="批复项目")
async def approve(body: ProjectIn, ctx: IdempotentContext, service: Service) -> Project:
    return await service.approve(ctx=ctx, data=body)


@router.post("/projects/batch", response_model=BatchResult, tags=["项目"], summary="批量批复项目")
async def approve_batch(body: BatchIn, ctx: IdempotentContext, service: Service) -> BatchResult:
    return await service.approve_batch(ctx=ctx, rows=body.items)


@router.post("/projects/status/batch", response_model=BatchResult, tags=["项目"], summary="批量变更项目状态")
async def change_status_batch(body: BatchIn, ctx: CurrentContext, service: Service) -> BatchResult:
    return await service.change_status_batch(ctx=ctx, rows=body.items)


@router.get("/projects/{project_id}", response_model=Project, tags=["项目"], summary="查看项目")
async def get_project(project_id: str, ctx: CurrentContext, service: Service) -> Project:
    return await service.get_project(ctx=ctx, project_id=project_id)


@router.post("/projects/{project_id}/status", response_model=Project, tags=["项目"], summary="变更项目状态")
async def change_status(project_id: str, body: StatusIn, ctx: CurrentContext, service: Service) -> Project:
    return await service.change_status(ctx=ctx, project_id=project_id, data=body)


@router.put("/projects/{project_id}/demonstration", response_model=Project, tags=["项目"], summary="省级示范点标记")
async def set_demonstration(project_id: str, body: DemonstrationIn, ctx: CurrentContext, service: Service) -> Project:
    return await service.set_demonstration(ctx=ctx, project_id=project_id, data=body)


@router.post("/projects/{project_id}/allocations", response_model=Project, tags=["资金"], summary="追加资金安排")
async def allocate(project_id: str, body: AllocationIn, ctx: CurrentContext, service: Service) -> Project:
    return await service.allocate(ctx=ctx, project_id=project_id, data=body)
