"""Use cases of delivery: a notification's delivery status (its recipient, or a city or county
officer of its area), the dead-letter list (city officers) and replaying a dead delivery."""

from __future__ import annotations

import asyncio

from notifications_service.delivery import repository
from notifications_service.delivery.models import DeadLetter, Delivery, NotificationStatus
from notifications_service.delivery.repository import DeliveryStore
from notifications_service.inbox import repository as inbox_repository
from notifications_service.inbox.repository import InboxStore
from notifications_service.rules.domain import role_label
from notifications_service.rules.service import require_rule_writer
from relocation_shared.auth import Role
from relocation_shared.clock import Clock, system_clock
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, NotFound
from relocation_shared.outbox import Tx, UnitOfWork


class DeliveryService:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        deliveries: DeliveryStore,
        inbox: InboxStore,
        clock: Clock = system_clock,
        wake: asyncio.Event | None = None,
    ) -> None:
        self.uow = uow
        self.store = deliveries
        self.inbox = inbox
        self.clock = clock
        self.wake = wake or asyncio.Event()

    async def status(self, *, ctx: Context, notification_id: str) -> NotificationStatus:
        principal = ctx.principal
        doc = await self.inbox.get_notification(notification_id)
        if doc is None:
            raise NotFound("通知不存在", field="notification_id")
        if doc["recipient"] != principal.subject:
            if not principal.roles & {Role.CITY_OFFICER, Role.COUNTY_OFFICER}:
                raise NotFound("通知不存在", field="notification_id")
            principal.require_visible(doc["area_path"], "通知")
        attempts = await self.store.attempts_of(notification_id)
        deliveries = [
            repository.from_doc(d, [a for a in attempts if a["delivery_id"] == d["_id"]])
            for d in await self.store.deliveries_of(notification_id)
        ]
        return NotificationStatus(
            notification=inbox_repository.from_doc(doc),
            recipient_subject=doc["recipient"],
            recipient_role=doc.get("recipient_role") or "",
            recipient_role_label=role_label(doc.get("recipient_role") or ""),
            escalation=doc["escalation"],
            deliveries=deliveries,
        )

    async def dead_letters(self, *, ctx: Context, limit: int) -> list[DeadLetter]:
        require_rule_writer(ctx.principal)
        docs = await self.store.dead_letters(sorted(ctx.principal.areas), limit=limit)
        notes = await self.inbox.notifications_by_ids([d["notification_id"] for d in docs])
        return [
            DeadLetter(
                delivery=repository.from_doc(d),
                notification_id=d["notification_id"],
                recipient_subject=d["recipient"],
                event_type=d["event_type"],
                title=notes.get(d["notification_id"], {}).get("title", ""),
                area_path=d["area_path"],
            )
            for d in docs
        ]

    async def _replay(self, tx: Tx, ctx: Context, delivery_id: str) -> None:
        doc = await self.store.get_delivery(delivery_id, tx.session)
        if doc is None:
            raise NotFound("投递记录不存在", field="delivery_id")
        ctx.principal.require_visible(doc["area_path"], "投递记录")
        if doc["state"] != "dead":
            raise Conflict("只有发送失败的投递可以重发", field="delivery_id", state=doc["state"])
        now = self.clock()
        if not await self.store.replay(delivery_id, now=now, session=tx.session):
            raise Conflict("该投递已在重发", field="delivery_id")
        attempt = repository.attempt_doc(
            doc, attempt=doc.get("attempts", 0), at=now, outcome="replayed", by=ctx.principal.subject
        )
        await self.store.insert_attempts([attempt], tx.session)

    async def replay(self, *, ctx: Context, delivery_id: str) -> Delivery:
        require_rule_writer(ctx.principal)
        await self.uow.run(lambda tx: self._replay(tx, ctx, delivery_id), correlation_id=ctx.correlation_id)
        self.wake.set()
        doc = await self.store.get_delivery(delivery_id)
        assert doc is not None
        return repository.from_doc(doc)
