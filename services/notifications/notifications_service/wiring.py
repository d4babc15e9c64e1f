"""The composition root: the stores over the service's database, the use-case services over the
stores, and (from a `Runtime` and the settings) the channels and the background workers the
lifespan starts and stops. Tests build the same services over fake stores."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from notifications_service.config import Settings
from notifications_service.delivery import repository as deliveries
from notifications_service.delivery.channels import InboxChannel, NotificationChannel, SmsChannel, WebhookChannel
from notifications_service.delivery.dispatcher import Dispatcher
from notifications_service.delivery.domain import Channel
from notifications_service.delivery.repository import DeliveryStore, MongoDeliveryStore
from notifications_service.delivery.service import DeliveryService
from notifications_service.escalation.repository import EscalationStore, MongoEscalationStore
from notifications_service.escalation.service import Escalator
from notifications_service.events import CONSUMED_TOPICS, handlers
from notifications_service.inbox import repository as inbox
from notifications_service.inbox.domain import ChannelChoice
from notifications_service.inbox.notify import Notifier
from notifications_service.inbox.push import InboxHub
from notifications_service.inbox.repository import InboxStore, MongoInboxStore
from notifications_service.inbox.service import InboxService
from notifications_service.routing import repository as directory
from notifications_service.routing.consumer import NotificationsConsumer, WakingUnitOfWork
from notifications_service.routing.repository import DirectoryStore, MongoDirectoryStore
from notifications_service.routing.service import RoutingService
from notifications_service.rules import repository as rules
from notifications_service.rules.repository import MongoRulesStore, RulesStore
from notifications_service.rules.service import RulesService
from relocation_shared.clock import Clock, system_clock
from relocation_shared.idempotency import ensure_idempotency_indexes
from relocation_shared.mongo import Doc
from relocation_shared.outbox import UnitOfWork
from relocation_shared.runtime import Runtime


@dataclass(frozen=True)
class Stores:
    rules: RulesStore
    directory: DirectoryStore
    inbox: InboxStore
    deliveries: DeliveryStore
    escalations: EscalationStore


def mongo_stores(db: AsyncDatabase[Doc]) -> Stores:
    return Stores(
        rules=MongoRulesStore(db),
        directory=MongoDirectoryStore(db),
        inbox=MongoInboxStore(db),
        deliveries=MongoDeliveryStore(db),
        escalations=MongoEscalationStore(db),
    )


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    for module in (rules, directory, inbox, deliveries):
        await module.ensure_indexes(db)
    await ensure_idempotency_indexes(db)


@dataclass
class Services:
    """The use cases, sharing one unit of work, one clock and the dispatcher's wake-up."""

    uow: UnitOfWork
    stores: Stores
    clock: Clock
    wake: asyncio.Event
    notifier: Notifier
    routing: RoutingService
    rules: RulesService
    inbox: InboxService
    delivery: DeliveryService

    def escalator(self, **options: Any) -> Escalator:
        """An escalator over these services (options: clock, scan_seconds, batch)."""
        options.setdefault("clock", self.clock)
        return Escalator(
            uow=self.uow,
            store=self.stores.escalations,
            inbox=self.stores.inbox,
            directory=self.stores.directory,
            notifier=self.notifier,
            wake=self.wake,
            **options,
        )


def build_services(
    *,
    uow: UnitOfWork,
    stores: Stores,
    available_channels: list[Channel],
    default_channels: list[Channel],
    quiet_offset_hours: int = 8,
    clock: Clock = system_clock,
    wake: asyncio.Event | None = None,
) -> Services:
    wake = wake or asyncio.Event()
    choice = ChannelChoice.of(available_channels, default_channels)
    notifier = Notifier(
        inbox=stores.inbox, deliveries=stores.deliveries, choice=choice, quiet_offset_hours=quiet_offset_hours
    )
    routing = RoutingService(rules=stores.rules, directory=stores.directory, notifier=notifier, clock=clock)
    return Services(
        uow=uow,
        stores=stores,
        clock=clock,
        wake=wake,
        notifier=notifier,
        routing=routing,
        rules=RulesService(uow=uow, store=stores.rules, clock=clock, reload=routing.in_force.load),
        inbox=InboxService(uow=uow, store=stores.inbox, choice=choice, clock=clock),
        delivery=DeliveryService(uow=uow, deliveries=stores.deliveries, inbox=stores.inbox, clock=clock, wake=wake),
    )


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


@dataclass
class Notifications:
    """Everything the lifespan runs: the services, the channels and the background workers."""

    runtime: Runtime
    settings: Settings
    services: Services
    channels: dict[Channel, NotificationChannel]
    dispatcher: Dispatcher
    escalator: Escalator
    hub: InboxHub

    async def prepare(self, db: AsyncDatabase[Doc]) -> None:
        await ensure_indexes(db)
        if self.settings.seed_default_rules:
            await self.services.rules.seed_default_rules()  # before the consumer sees its first event
        await self.services.routing.in_force.load()

    async def start(self) -> None:
        self.hub.start()
        await self.runtime.start(indexes=self.prepare)
        self.dispatcher.start()
        self.escalator.start()
        self.services.routing.in_force.start()

    async def stop(self) -> None:
        await self.services.routing.in_force.stop()
        await self.escalator.stop()
        await self.dispatcher.stop()
        await self.hub.stop()
        for ch in self.channels.values():
            await ch.close()

    def app_state(self) -> dict[str, Any]:
        """What the routers find on `app.state` (see each domain's api.py)."""
        s = self.services
        return {
            "rules": s.rules,
            "routing": s.routing,
            "inbox": s.inbox,
            "delivery": s.delivery,
            "hub": self.hub,
        }


def build(runtime: Runtime, settings: Settings) -> Notifications:
    wake = asyncio.Event()
    channels = build_channels(settings, runtime.db, runtime.clock)
    services = build_services(
        uow=runtime.uow,
        stores=mongo_stores(runtime.db),
        available_channels=list(channels),
        default_channels=[Channel(c) for c in settings.default_channels],
        quiet_offset_hours=settings.quiet_hours_utc_offset_hours,
        clock=runtime.clock,
        wake=wake,
    )
    dispatcher = Dispatcher(
        uow=runtime.uow,
        deliveries=services.stores.deliveries,
        inbox=services.stores.inbox,
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
    # The consumer's unit of work wakes the dispatcher after each commit.
    runtime.consumers.append(
        NotificationsConsumer(
            service=services.routing,
            group_id=settings.consumer_group,
            topics=CONSUMED_TOPICS,
            bootstrap=settings.kafka_bootstrap_servers,
            uow=WakingUnitOfWork(runtime.uow, wake=wake),
            handlers=handlers(services.routing),
            dlq_producer=runtime.producer,
        )
    )
    return Notifications(
        runtime=runtime,
        settings=settings,
        services=services,
        channels=channels,
        dispatcher=dispatcher,
        escalator=services.escalator(scan_seconds=settings.escalation_scan_seconds),
        hub=InboxHub(runtime.db),
    )
