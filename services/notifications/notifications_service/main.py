"""App factory and lifespan of the notifications service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from notifications_service.api import router
from notifications_service.channels import InboxChannel, NotificationChannel, SmsChannel, WebhookChannel
from notifications_service.config import Settings
from notifications_service.events import CONSUMED_TOPICS, handlers
from notifications_service.models import Channel, Doc
from notifications_service.push import InboxHub
from notifications_service.repository import NotificationsRepository, ensure_indexes
from notifications_service.service import (
    Dispatcher,
    Escalator,
    NotificationsConsumer,
    NotificationsService,
    WakingUnitOfWork,
)
from relocation_shared.clock import Clock, system_clock
from relocation_shared.logging import configure_logging
from relocation_shared.runtime import Runtime, base_app


def build_channels(settings: Settings, db: AsyncDatabase[Doc], clock: Clock) -> dict[Channel, NotificationChannel]:
    channels: dict[Channel, NotificationChannel] = {Channel.INBOX: InboxChannel(db, clock=clock)}
    if settings.webhook_url:
        channels[Channel.WEBHOOK] = WebhookChannel(
            url=settings.webhook_url,
            secret=settings.webhook_secret.get_secret_value(),
            timeout=settings.gateway_timeout_seconds,
        )
    if settings.sms_url:
        channels[Channel.SMS] = SmsChannel(
            url=settings.sms_url,
            secret=settings.sms_secret.get_secret_value(),
            timeout=settings.gateway_timeout_seconds,
        )
    return channels


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, clock=clock)
        wake = asyncio.Event()
        channels = build_channels(settings, runtime.db, runtime.clock)
        repo = NotificationsRepository(runtime.db)
        service = NotificationsService(
            uow=runtime.uow,
            repo=repo,
            available_channels=list(channels),
            default_channels=[Channel(c) for c in settings.default_channels],
            quiet_offset_hours=settings.quiet_hours_utc_offset_hours,
            wake=wake,
            clock=runtime.clock,
        )
        dispatcher = Dispatcher(
            uow=runtime.uow,
            repo=repo,
            channels=channels,
            wake=wake,
            batch=settings.dispatcher_batch,
            concurrency=settings.dispatcher_concurrency,
            lease_seconds=settings.delivery_lease_seconds,
            max_attempts=settings.delivery_max_attempts,
            backoff_base=settings.backoff_base_seconds,
            backoff_max=settings.backoff_max_seconds,
            poll_seconds=settings.dispatcher_poll_seconds,
            clock=runtime.clock,
        )
        escalator = Escalator(service=service, scan_seconds=settings.escalation_scan_seconds, clock=runtime.clock)
        hub = InboxHub(runtime.db)
        # The consumer's unit of work wakes the dispatcher after each commit.
        runtime.consumers.append(
            NotificationsConsumer(
                service=service,
                group_id=settings.consumer_group,
                topics=CONSUMED_TOPICS,
                bootstrap=settings.kafka_bootstrap_servers,
                uow=WakingUnitOfWork(runtime.uow, wake=wake),
                handlers=handlers(service),
                dlq_producer=runtime.producer,
            )
        )

        async def prepare(db: AsyncDatabase[Doc]) -> None:
            await ensure_indexes(db)
            if settings.seed_default_rules:
                await service.seed_default_rules()  # before the consumer sees its first event
            await service.routing.load()

        hub.start()
        await runtime.start(indexes=prepare)
        dispatcher.start()
        escalator.start()
        service.routing.start()
        app.state.runtime = runtime
        app.state.service = service
        app.state.hub = hub
        try:
            yield
        finally:
            await service.routing.stop()
            await escalator.stop()
            await dispatcher.stop()
            await hub.stop()
            for ch in channels.values():
                await ch.close()
            await runtime.stop()

    app = base_app(
        settings,
        title="易地搬迁后续扶持 · 消息通知(notifications)",
        description="按规则把事件推送给负责该区域的干部:站内消息(实时推送)、政务消息网关、短信;"
        "投递记录、失败重试与人工重发;紧急通知超时未确认自动升级。所有接口需 Bearer 身份令牌。",
        lifespan=lifespan,
    )
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
