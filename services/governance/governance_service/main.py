"""App factory and lifespan of the governance service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from governance_service import community
from governance_service.config import Settings
from governance_service.registry import api as registry_api
from governance_service.wiring import build, ensure_indexes
from relocation_shared.clock import Clock, system_clock
from relocation_shared.runtime import Runtime, run_service, service_app

ROUTERS: list[APIRouter] = [registry_api.router, *community.ROUTERS]


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def parts(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        wiring = build(runtime, settings)
        await runtime.start(indexes=ensure_indexes)
        await wiring.registry.load_areas(path=settings.areas_file)
        # deadlines are data: whatever fell due while no instance ran is handled by the first scan
        wiring.community.scheduler.start()
        try:
            yield {"service": wiring.registry, "community": wiring.community}
        finally:
            await wiring.community.scheduler.stop()

    return service_app(
        settings,
        clock=clock,
        title="易地搬迁后续扶持 · 基础信息与社区治理(governance)",
        description="区域、搬迁户、居民登记;网格力量与党组织;民情实事“四单”(群众点单、社区派单、网格员接单、"
        "党组织评单)及逾期升级、吹哨报到;矛盾纠纷调解;上门服务;积分超市。"
        "所有接口需 Bearer 身份令牌,数据按管辖区域隔离。",
        routers=ROUTERS,
        parts=parts,
    )


def run() -> None:
    run_service(create_app, Settings())
