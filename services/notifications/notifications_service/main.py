"""App factory and lifespan of the notifications service (the parts are built in wiring.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from notifications_service.config import Settings
from notifications_service.delivery.api import router as delivery_router
from notifications_service.inbox.api import router as inbox_router
from notifications_service.routing.api import router as routing_router
from notifications_service.rules.api import router as rules_router
from notifications_service.wiring import build
from relocation_shared.clock import Clock, system_clock
from relocation_shared.runtime import Runtime, run_service, service_app


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def parts(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        notifications = build(runtime, settings)
        await notifications.start()  # the runtime too
        try:
            yield notifications.app_state()
        finally:
            await notifications.stop()

    return service_app(
        settings,
        clock=clock,
        title="易地搬迁后续扶持 · 消息通知(notifications)",
        description="按规则把事件推送给负责该区域的干部:站内消息(实时推送)、政务消息网关、短信;"
        "投递记录、失败重试与人工重发;紧急通知超时未确认自动升级。所有接口需 Bearer 身份令牌。",
        routers=[inbox_router, delivery_router, rules_router, routing_router],
        parts=parts,
    )


def run() -> None:
    settings = Settings()
    # Open inbox streams would hold a graceful shutdown forever: they get a few seconds to end.
    run_service(create_app, settings, timeout_graceful_shutdown=settings.shutdown_grace_seconds)
