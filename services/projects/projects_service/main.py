"""App factory and lifespan of the projects service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from projects_service.config import Settings
from projects_service.events import CONSUMED_TOPICS, handlers
from projects_service.jobs.api import router as jobs_router
from projects_service.ledger.api import router as ledger_router
from projects_service.projects.api import router as projects_router
from projects_service.reports.api import router as reports_router
from projects_service.sources.api import router as sources_router
from projects_service.wiring import ensure_indexes, from_runtime
from relocation_shared.clock import Clock, system_clock
from relocation_shared.runtime import Runtime, run_service, service_app


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def parts(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        services = from_runtime(runtime, batch_max=settings.batch_max_items)
        runtime.consume(group_id=settings.consumer_group, topics=CONSUMED_TOPICS, handlers=handlers(services.jobs))
        await runtime.start(indexes=ensure_indexes)
        yield services.app_state()

    return service_app(
        settings,
        clock=clock,
        title="易地搬迁后续扶持 · 产业项目与资金(projects)",
        description="后续扶持项目:资金来源与年度预算、项目批复与状态、资金拨付、带动就业、分红、"
        "社区集体经济收入与资产;所有资金往来记入只增不改的台账,以冲正更正。金额单位为分。"
        "所有接口需 Bearer 身份令牌。",
        routers=[sources_router, projects_router, ledger_router, jobs_router, reports_router],
        parts=parts,
    )


def run() -> None:
    run_service(create_app, Settings())
