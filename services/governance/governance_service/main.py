"""App factory and lifespan of the governance service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from governance_service.api import router
from governance_service.config import Settings
from governance_service.repository import GovernanceRepository, ensure_indexes
from governance_service.service import GovernanceService
from relocation_shared.logging import configure_logging
from relocation_shared.runtime import Runtime, base_app, serve


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings)
        service = GovernanceService(
            uow=runtime.uow,
            repo=GovernanceRepository(runtime.db),
            pii_key=settings.pii_hash_key.get_secret_value().encode(),
            batch_max=settings.batch_max_items,
        )
        await runtime.start(indexes=ensure_indexes)
        await service.load_areas(path=settings.areas_file)
        app.state.runtime = runtime
        app.state.service = service
        try:
            yield
        finally:
            await runtime.stop()

    app = base_app(
        settings,
        title="易地搬迁后续扶持 · 基础信息(governance)",
        description="区域、搬迁户、居民登记。所有接口需 Bearer 身份令牌,数据按管辖区域隔离。",
        lifespan=lifespan,
    )
    app.include_router(router)
    return app


def run() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    serve(create_app(settings), settings)
