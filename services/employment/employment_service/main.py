"""App factory and lifespan of the employment service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from employment_service.api import router
from employment_service.config import Settings
from employment_service.repository import ensure_indexes
from employment_service.wiring import wire
from relocation_shared.clock import Clock, system_clock
from relocation_shared.logging import configure_logging
from relocation_shared.runtime import Runtime, base_app, serve


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, clock=clock)
        wiring = wire(runtime, settings)
        await runtime.start(indexes=ensure_indexes)
        app.state.runtime = runtime
        app.state.service = wiring.service
        try:
            yield
        finally:
            await runtime.stop()

    app = base_app(
        settings,
        title="易地搬迁后续扶持 · 就业台账(employment)",
        description="劳动力就业需求台账:就业登记、结束就业、培训;零就业家庭动态监测。所有接口需 Bearer 身份令牌。",
        lifespan=lifespan,
    )
    app.include_router(router)
    return app


def run() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    serve(create_app(settings), settings)
