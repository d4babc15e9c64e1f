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

from readmodel_service.api import router
from readmodel_service.config import Settings
from readmodel_service.events import CONSUMED_TOPICS
from readmodel_service.service import ReadModelService, ViewConsumer, rebuild
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
        consumer = ViewConsumer(
            client=runtime.client,
            db=runtime.db,
            bootstrap=settings.kafka_bootstrap_servers,
            group_id=settings.consumer_group,
            topics=CONSUMED_TOPICS,
            dlq=runtime.producer,
            batch_max=settings.batch_max_records,
            clock=runtime.clock,
        )
        await consumer.start()
        app.state.runtime = runtime
        app.state.consumer = consumer
        app.state.service = ReadModelService(db=runtime.db, targets=settings.targets, clock=runtime.clock)
        try:
            yield
        finally:
            await consumer.stop()
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


async def _rebuild(settings: Settings) -> int:
    from tqdm import tqdm

    from relocation_shared.mongo import make_client

    client = make_client(settings.mongodb_uri, app_name="readmodel-rebuild")
    bar = tqdm(total=0, unit="事件", desc="重建视图", dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        generation = await rebuild(
            client=client,
            db=client[settings.mongodb_database],
            bootstrap=settings.kafka_bootstrap_servers,
            topics=CONSUMED_TOPICS,
            progress=progress,
        )
    finally:
        bar.close()
        await client.close()
    print(f"rebuilt into generation {generation} and switched over")
    return generation


def run() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    if sys.argv[1:2] == ["rebuild"]:
        asyncio.run(_rebuild(settings))
        return
    serve(create_app(settings), settings)
