"""HTTP routes of the jobs a project creates (带动就业)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from projects_service.jobs.models import JobLinkIn, LinkedJob
from projects_service.jobs.service import JobsService
from projects_service.projects.models import Project
from relocation_shared.batch import BatchIn, BatchResult
from relocation_shared.deps import CurrentContext, IdempotentContext, from_state

Service = Annotated[JobsService, from_state("jobs_service")]

router = APIRouter(prefix="/api/v1", tags=["带动就业"])


@router.post("/projects/{project_id}/jobs", response_model=LinkedJob, status_code=201, summary="关联就业记录")
async def link_job(project_id: str, body: JobLinkIn, ctx: IdempotentContext, service: Service) -> LinkedJob:
    return await service.link_job(ctx=ctx, project_id=project_id, data=body)


@router.post("/jobs/batch", response_model=BatchResult, summary="批量关联就业记录")
async def link_jobs_batch(body: BatchIn, ctx: IdempotentContext, service: Service) -> BatchResult:
    return await service.link_jobs_batch(ctx=ctx, rows=body.items)


@router.get("/projects/{project_id}/jobs", response_model=list[LinkedJob], summary="项目带动的就业")
async def project_jobs(
    project_id: str,
    ctx: CurrentContext,
    service: Service,
    open_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[LinkedJob]:
    return await service.project_jobs(ctx=ctx, project_id=project_id, open_only=open_only, limit=limit)


@router.delete("/projects/{project_id}/jobs/{spell_id}", response_model=Project, summary="取消关联")
async def unlink_job(project_id: str, spell_id: str, ctx: CurrentContext, service: Service) -> Project:
    return await service.unlink_job(ctx=ctx, project_id=project_id, spell_id=spell_id)
