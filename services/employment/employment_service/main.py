"""App factory and lifespan of the employment service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from employment_service.api import router
from employment_service.config import Settings
from employment_service.repository import ensure_indexes
from employment_service.wiring import wire
from relocation_shared.clock import Clock, system_clock
from relocation_shared.runtime import Runtime, run_service, service_app


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def parts(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        wiring = wire(runtime, settings)  # the use cases and the roster consumer
        await runtime.start(indexes=ensure_indexes)
        yield {"service": wiring.service}

    return service_app(
        settings,
        clock=clock,
        title="易地搬迁后续扶持 · 就业台账(employment)",
        description="劳动力就业需求台账:就业登记、结束就业、培训;零就业家庭动态监测。所有接口需 Bearer 身份令牌。",
        routers=[router],
        parts=parts,
    )


def run() -> None:
    run_service(create_app, Settings())
