"""App factory and lifespan of the projects service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from projects_service.api import router
from projects_service.config import Settings
from projects_service.events import CONSUMED_TOPICS, handlers
from projects_service.repository import ProjectsRepository, ensure_indexes
from projects_service.service import ProjectsService
from relocation_shared.clock import Clock, system_clock
from relocation_shared.logging import configure_logging
from relocation_shared.runtime import Runtime, base_app, serve


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, clock=clock)
        service = ProjectsService(
            uow=runtime.uow,
            repo=ProjectsRepository(runtime.db),
            clock=runtime.clock,
            batch_max=settings.batch_max_items,
        )
        runtime.consume(group_id=settings.consumer_group, topics=CONSUMED_TOPICS, handlers=handlers(service))
        await runtime.start(indexes=ensure_indexes)
        app.state.runtime = runtime
        app.state.service = service
        try:
            yield
        finally:
            await runtime.stop()

    app = base_app(
        settings,
        title="易地搬迁后续扶持 · 产业项目与资金(projects)",
        description="后续扶持项目:资金来源与年度预算、项目批复与状态、资金拨付、带动就业、分红、"
        "社区集体经济收入与资产;所有资金往来记入只增不改的台账,以冲正更正。金额单位为分。"
        "所有接口需 Bearer 身份令牌。",
        lifespan=lifespan,
    )
    app.include_router(router)
    return app


def run() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    serve(create_app(settings), settings)
