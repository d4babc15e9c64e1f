"""App factory and lifespan of the read model, and its rebuild command.

readmodel-service            serve the API, the monitoring page and the live consumer
readmodel-service rebuild    replay every topic into a fresh generation and switch over
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from readmodel_service.config import Settings
from readmodel_service.rebuild.cli import run_rebuild
from readmodel_service.views.api import router
from readmodel_service.wiring import build
from relocation_shared.clock import Clock, system_clock
from relocation_shared.logging import configure_logging
from relocation_shared.runtime import Runtime, base_app, serve

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, clock=clock)
        await runtime.start()
        readmodel = build(runtime, settings)
        await readmodel.consumer.start()
        app.state.runtime = runtime
        app.state.consumer = readmodel.consumer
        app.state.service = readmodel.service
        try:
            yield
        finally:
            await readmodel.consumer.stop()
            await runtime.stop()

    app = base_app(
        settings,
        title="易地搬迁后续扶持 · 实时监测(readmodel)",
        description="各级区域的实时指标、目标差距、趋势、零就业家庭清单与实时推送。",
        lifespan=lifespan,
    )
    app.include_router(router)
    static = Path(settings.static_dir) if settings.static_dir else STATIC
    if static.is_dir():
        app.mount("/monitor", StaticFiles(directory=static, html=True), name="monitor")

        @app.get("/", include_in_schema=False)
        async def home() -> RedirectResponse:
            return RedirectResponse("/monitor/")

    return app


def run() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    if sys.argv[1:2] == ["rebuild"]:
        asyncio.run(run_rebuild(settings))
        return
    serve(create_app(settings), settings)
