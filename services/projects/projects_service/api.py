"""HTTP routes of the projects service: thin, every rule lives in service.py. Amounts are in fen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from projects_service.models import (
    AllocationIn,
    BudgetSet,
    CollectiveAssetIn,
    CollectiveIncomeIn,
    CommunityCollective,
    DemonstrationIn,
    DisbursementIn,
    DividendIn,
    FundingSource,
    FundingSourceIn,
    JobLinkIn,
    LedgerEntry,
    LinkedJob,
    Project,
    ProjectIn,
    ReversalIn,
    StatusIn,
    Summary,
)
from projects_service.service import ProjectsService
from relocation_shared.auth import CurrentPrincipal
from relocation_shared.batch import BatchIn, BatchResult
from relocation_shared.events.projects import IndustryChain, ProjectStatus


def get_service(request: Request) -> ProjectsService:
    service: ProjectsService = request.app.state.service
    return service


def correlation(request: Request) -> str | None:
    return request.headers.get("x-request-id")


Service = Annotated[ProjectsService, Depends(get_service)]
Correlation = Annotated[str | None, Depends(correlation)]
AreaCode = Annotated[str, Query(max_length=30, description="区划代码")]

router = APIRouter(prefix="/api/v1")


# funding sources ------------------------------------------------------------------------------
@router.post(
    "/funding-sources", response_model=FundingSource, status_code=201, tags=["资金来源"], summary="登记资金来源"
)
async def register_source(
    body: FundingSourceIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> FundingSource:
    return await service.register_source(principal=principal, data=body, correlation_id=cid)


@router.get("/funding-sources", response_model=list[FundingSource], tags=["资金来源"], summary="资金来源与年度预算")
async def list_sources(principal: CurrentPrincipal, service: Service) -> list[FundingSource]:
    return await service.list_sources(principal=principal)


@router.get("/funding-sources/{source_id}", response_model=FundingSource, tags=["资金来源"], summary="查看资金来源")
async def get_source(source_id: str, principal: CurrentPrincipal, service: Service) -> FundingSource:
    return await service.get_source(principal=principal, source_id=source_id)


@router.put(
    "/funding-sources/{source_id}/budgets/{year}",
    response_model=FundingSource,
    tags=["资金来源"],
    summary="设置年度预算",
)
async def set_budget(
    source_id: str,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: BudgetSet,
    principal: CurrentPrincipal,
    service: Service,
    cid: Correlation,
) -> FundingSource:
    return await service.set_budget(principal=principal, source_id=source_id, year=year, data=body, correlation_id=cid)


# projects -------------------------------------------------------------------------------------
@router.post("/projects", response_model=Project, status_code=201, tags=["项目"], summary="批复项目")
async def approve(body: ProjectIn, principal: CurrentPrincipal, service: Service, cid: Correlation) -> Project:
    return await service.approve(principal=principal, data=body, correlation_id=cid)


@router.post("/projects/batch", response_model=BatchResult, tags=["项目"], summary="批量批复项目")
async def approve_batch(body: BatchIn, principal: CurrentPrincipal, service: Service, cid: Correlation) -> BatchResult:
    return await service.approve_batch(principal=principal, rows=body.items, correlation_id=cid)


@router.get("/projects", response_model=list[Project], tags=["项目"], summary="区域内的项目")
async def list_projects(
    principal: CurrentPrincipal,
    service: Service,
    area: AreaCode,
    status: ProjectStatus | None = None,
    chain: IndustryChain | None = None,
    after: Annotated[str | None, Query(max_length=64, description="上一页最后一个项目的 id")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Project]:
    return await service.list_projects(
        principal=principal, area=area, status=status, chain=chain.value if chain else None, after=after, limit=limit
    )


@router.post("/projects/status/batch", response_model=BatchResult, tags=["项目"], summary="批量变更项目状态")
async def change_status_batch(
    body: BatchIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> BatchResult:
    return await service.change_status_batch(principal=principal, rows=body.items, correlation_id=cid)


@router.get("/projects/{project_id}", response_model=Project, tags=["项目"], summary="查看项目")
async def get_project(project_id: str, principal: CurrentPrincipal, service: Service) -> Project:
    return await service.get_project(principal=principal, project_id=project_id)


@router.post("/projects/{project_id}/status", response_model=Project, tags=["项目"], summary="变更项目状态")
async def change_status(
    project_id: str, body: StatusIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> Project:
    return await service.change_status(principal=principal, project_id=project_id, data=body, correlation_id=cid)


@router.put("/projects/{project_id}/demonstration", response_model=Project, tags=["项目"], summary="省级示范点标记")
async def set_demonstration(
    project_id: str, body: DemonstrationIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> Project:
    return await service.set_demonstration(principal=principal, project_id=project_id, data=body, correlation_id=cid)


@router.post("/projects/{project_id}/allocations", response_model=Project, tags=["资金"], summary="追加资金安排")
async def allocate(
    project_id: str, body: AllocationIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> Project:
    return await service.allocate(principal=principal, project_id=project_id, data=body, correlation_id=cid)


# money ----------------------------------------------------------------------------------------
@router.post(
    "/projects/{project_id}/disbursements",
    response_model=LedgerEntry,
    status_code=201,
    tags=["资金"],
    summary="拨付资金",
)
async def disburse(
    project_id: str, body: DisbursementIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> LedgerEntry:
    return await service.disburse(principal=principal, project_id=project_id, data=body, correlation_id=cid)


@router.post("/disbursements/batch", response_model=BatchResult, tags=["资金"], summary="批量拨付资金")
async def disburse_batch(body: BatchIn, principal: CurrentPrincipal, service: Service, cid: Correlation) -> BatchResult:
    return await service.disburse_batch(principal=principal, rows=body.items, correlation_id=cid)


@router.post(
    "/projects/{project_id}/dividends", response_model=LedgerEntry, status_code=201, tags=["分红"], summary="项目分红"
)
async def pay_dividend(
    project_id: str, body: DividendIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> LedgerEntry:
    return await service.pay_dividend(principal=principal, project_id=project_id, data=body, correlation_id=cid)


@router.post("/dividends/batch", response_model=BatchResult, tags=["分红"], summary="批量分红")
async def pay_dividends_batch(
    body: BatchIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> BatchResult:
    return await service.pay_dividends_batch(principal=principal, rows=body.items, correlation_id=cid)


@router.post(
    "/communities/{community_code}/collective-income",
    response_model=LedgerEntry,
    status_code=201,
    tags=["集体经济"],
    summary="登记集体经济收入",
)
async def record_collective_income(
    community_code: str, body: CollectiveIncomeIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> LedgerEntry:
    return await service.record_collective_income(
        principal=principal, community_code=community_code, data=body, correlation_id=cid
    )


@router.post(
    "/communities/{community_code}/collective-assets",
    response_model=LedgerEntry,
    status_code=201,
    tags=["集体经济"],
    summary="登记集体资产",
)
async def record_collective_asset(
    community_code: str, body: CollectiveAssetIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> LedgerEntry:
    return await service.record_collective_asset(
        principal=principal, community_code=community_code, data=body, correlation_id=cid
    )


@router.get(
    "/communities/{community_code}/collective",
    response_model=CommunityCollective,
    tags=["集体经济"],
    summary="社区集体经济收入、资产与分红",
)
async def community_collective(
    community_code: str, principal: CurrentPrincipal, service: Service
) -> CommunityCollective:
    return await service.community_collective(principal=principal, community_code=community_code)


@router.get("/ledger", response_model=list[LedgerEntry], tags=["台账"], summary="资金台账(按项目或社区)")
async def list_entries(
    principal: CurrentPrincipal,
    service: Service,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    community_code: Annotated[str | None, Query(max_length=12)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[LedgerEntry]:
    return await service.list_entries(
        principal=principal, project_id=project_id, community_code=community_code, limit=limit
    )


@router.get("/ledger/{entry_id}", response_model=LedgerEntry, tags=["台账"], summary="查看台账记录")
async def get_entry(entry_id: str, principal: CurrentPrincipal, service: Service) -> LedgerEntry:
    return await service.get_entry(principal=principal, entry_id=entry_id)


@router.post(
    "/ledger/{entry_id}/reversal", response_model=LedgerEntry, status_code=201, tags=["台账"], summary="冲正(红字更正)"
)
async def reverse(
    entry_id: str, body: ReversalIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> LedgerEntry:
    return await service.reverse(principal=principal, entry_id=entry_id, data=body, correlation_id=cid)


# jobs -----------------------------------------------------------------------------------------
@router.post(
    "/projects/{project_id}/jobs", response_model=LinkedJob, status_code=201, tags=["带动就业"], summary="关联就业记录"
)
async def link_job(
    project_id: str, body: JobLinkIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> LinkedJob:
    return await service.link_job(principal=principal, project_id=project_id, data=body, correlation_id=cid)


@router.post("/jobs/batch", response_model=BatchResult, tags=["带动就业"], summary="批量关联就业记录")
async def link_jobs_batch(
    body: BatchIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> BatchResult:
    return await service.link_jobs_batch(principal=principal, rows=body.items, correlation_id=cid)


@router.get("/projects/{project_id}/jobs", response_model=list[LinkedJob], tags=["带动就业"], summary="项目带动的就业")
async def project_jobs(
    project_id: str,
    principal: CurrentPrincipal,
    service: Service,
    open_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[LinkedJob]:
    return await service.project_jobs(principal=principal, project_id=project_id, open_only=open_only, limit=limit)


@router.delete("/projects/{project_id}/jobs/{spell_id}", response_model=Project, tags=["带动就业"], summary="取消关联")
async def unlink_job(
    project_id: str, spell_id: str, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> Project:
    return await service.unlink_job(principal=principal, project_id=project_id, spell_id=spell_id, correlation_id=cid)


# summary --------------------------------------------------------------------------------------
@router.get("/summary", response_model=Summary, tags=["汇总"], summary="区域汇总(按资金来源,分与元)")
async def summary(principal: CurrentPrincipal, service: Service, area: AreaCode) -> Summary:
    return await service.summary(principal=principal, area=area)
