"""App factory and lifespan of the notifications service (the parts are built in wiring.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from notifications_service.config import Settings
from notifications_service.delivery.api import router as delivery_router
from notifications_service.inbox.api import router as inbox_router
from notifications_service.routing.api import router as routing_router
from notifications_service.rules.api import router as rules_router
from notifications_service.wiring import build
from relocation_shared.clock import Clock, system_clock
from relocation_shared.logging import configure_logging
from relocation_shared.runtime import Runtime, base_app


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts = build(Runtime(settings, clock=clock), settings)
        await parts.start()
        for name, value in parts.app_state().items():
            setattr(app.state, name, value)
        try:
            yield
        finally:
            await parts.stop()

    app = base_app(
        settings,
        title="易地搬迁后续扶持 · 消息通知(notifications)",
        description="按规则把事件推送给负责该区域的干部:站内消息(实时推送)、政务消息网关、短信;"
        "投递记录、失败重试与人工重发;紧急通知超时未确认自动升级。所有接口需 Bearer 身份令牌。",
        lifespan=lifespan,
    )
    for router in (inbox_router, delivery_router, rules_router, routing_router):
        app.include_router(router)
    return app


def run() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    # Open inbox streams would hold a graceful shutdown forever: they get a few seconds to end.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
