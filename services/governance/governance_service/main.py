"""App factory and lifespan of the governance service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from governance_service.api import router
from governance_service.config import Settings
from governance_service.models import DeadlinePolicy
from governance_service.repository import CommunityRepository, GovernanceRepository, ensure_indexes
from governance_service.service import CommunityServices, GovernanceService
from relocation_shared.clock import Clock, system_clock
from relocation_shared.logging import configure_logging
from relocation_shared.runtime import Runtime, base_app, serve


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, clock=clock)
        service = GovernanceService(
            uow=runtime.uow,
            repo=GovernanceRepository(runtime.db),
            pii_key=settings.pii_hash_key.get_secret_value().encode(),
            clock=runtime.clock,
            batch_max=settings.batch_max_items,
        )
        community = CommunityServices.build(
            uow=runtime.uow,
            repo=CommunityRepository(runtime.db),
            policy=DeadlinePolicy(settings.request_deadline_hours),
            pii_key=settings.pii_hash_key.get_secret_value().encode(),
            dispute_deadline_days=settings.dispute_deadline_days,
            clock=runtime.clock,
            scan_interval_seconds=settings.deadline_scan_seconds,
            scan_batch=settings.deadline_scan_batch,
            scan_concurrency=settings.deadline_scan_concurrency,
            ledger_page=settings.points_ledger_page,
        )
        await runtime.start(indexes=ensure_indexes)
        await service.load_areas(path=settings.areas_file)
        # deadlines are data: whatever fell due while no instance ran is handled by the first scan
        community.scheduler.start()
        app.state.runtime = runtime
        app.state.service = service
        app.state.community = community
        try:
            yield
        finally:
            await community.scheduler.stop()
            await runtime.stop()

    app = base_app(
        settings,
        title="易地搬迁后续扶持 · 基础信息与社区治理(governance)",
        description="区域、搬迁户、居民登记;网格力量与党组织;民情实事“四单”(群众点单、社区派单、网格员接单、"
        "党组织评单)及逾期升级、吹哨报到;矛盾纠纷调解;上门服务;积分超市。"
        "所有接口需 Bearer 身份令牌,数据按管辖区域隔离。",
        lifespan=lifespan,
    )
    app.include_router(router)
    return app


def run() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    serve(create_app(settings), settings)
