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
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from readmodel_service.config import Settings
from readmodel_service.rebuild.cli import run_rebuild
from readmodel_service.views.api import router
from readmodel_service.wiring import build
from relocation_shared.clock import Clock, system_clock
from relocation_shared.logging import configure_logging
from relocation_shared.runtime import Runtime, run_service, service_app

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def parts(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        await runtime.start()
        readmodel = build(runtime, settings)
        await readmodel.consumer.start()
        try:
            yield {"consumer": readmodel.consumer, "service": readmodel.service}
        finally:
            await readmodel.consumer.stop()

    app = service_app(
        settings,
        clock=clock,
        title="易地搬迁后续扶持 · 实时监测(readmodel)",
        description="各级区域的实时指标、目标差距、趋势、零就业家庭清单与实时推送。",
        routers=[router],
        parts=parts,
    )
    static = Path(settings.static_dir) if settings.static_dir else STATIC
    if static.is_dir():
        app.mount("/monitor", StaticFiles(directory=static, html=True), name="monitor")

        @app.get("/", include_in_schema=False)
        async def home() -> RedirectResponse:
            return RedirectResponse("/monitor/")

    return app


def run() -> None:
    settings = Settings()
    if sys.argv[1:2] == ["rebuild"]:
        configure_logging(settings.service_name, settings.log_level)
        asyncio.run(run_rebuild(settings))
        return
    run_service(create_app, settings)
