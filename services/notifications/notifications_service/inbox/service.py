"""Use cases of a cadre's inbox: read it, mark a notification read, acknowledge an urgent one
(the first acknowledgement counts and stops a pending escalation), and choose the channels and
quiet hours they receive with."""

from __future__ import annotations

from notifications_service.delivery.domain import Channel
from notifications_service.inbox import repository
from notifications_service.inbox.domain import ChannelChoice, aware
from notifications_service.inbox.models import InboxItem, Preferences, PreferencesIn, QuietHours
from notifications_service.inbox.repository import InboxStore, Session
from relocation_shared.clock import Clock, system_clock
from relocation_shared.context import Context
from relocation_shared.errors import InvalidInput, NotFound
from relocation_shared.events.notifications import NotificationAcknowledged
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork


class InboxService:
    def __init__(
        self, *, uow: UnitOfWork, store: InboxStore, choice: ChannelChoice, clock: Clock = system_clock
    ) -> None:
        self.uow = uow
        self.store = store
        self.choice = choice
        self.clock = clock

    async def inbox(self, *, ctx: Context, unread_only: bool, unacked_only: bool, limit: int) -> list[InboxItem]:
        docs = await self.store.inbox(
            ctx.principal.subject, unread_only=unread_only, unacked_only=unacked_only, limit=limit
        )
        return [repository.from_doc(d) for d in docs]

    async def unread(self, *, ctx: Context) -> int:
        return await self.store.count_unread(ctx.principal.subject)

    async def _own(self, ctx: Context, nid: str, session: Session = None) -> Doc:
        doc = await self.store.get_notification(nid, session)
        if doc is None or doc["recipient"] != ctx.principal.subject or doc.get("inbox_at") is None:
            raise NotFound("通知不存在", field="notification_id")
        return doc

    async def mark_read(self, *, ctx: Context, notification_id: str) -> InboxItem:
        await self._own(ctx, notification_id)
        await self.store.mark_read(notification_id, self.clock())
        return repository.from_doc(await self._own(ctx, notification_id))

    async def _acknowledge(self, tx: Tx, ctx: Context, notification_id: str) -> None:
        doc = await self._own(ctx, notification_id, tx.session)
        if doc.get("acked_at") is not None:
            return  # acknowledging twice is harmless
        now = self.clock()
        if not await self.store.acknowledge(doc, now, tx.session):
            return
        due = doc.get("ack_due_at")
        created = aware(doc["created_at"])
        tx.record(
            NotificationAcknowledged(
                notification_id=doc["_id"],
                source_event_type=doc["event_type"],
                rule_id=doc["rule_id"],
                recipient_subject=doc["recipient"],
                recipient_role=doc.get("recipient_role") or "",
                urgency=doc["urgency"],
                acknowledged_at=now,
                minutes_to_ack=max(0, int((now - created).total_seconds() // 60)),
                within_window=due is None or now <= aware(due),
            ),
            area_path=doc["area_path"],
            aggregate_id=doc["_id"],
        )

    async def acknowledge(self, *, ctx: Context, notification_id: str) -> InboxItem:
        await self.uow.run(lambda tx: self._acknowledge(tx, ctx, notification_id), correlation_id=ctx.correlation_id)
        return repository.from_doc(await self._own(ctx, notification_id))

    # preferences -------------------------------------------------------------------------------
    def _preferences(self, subject: str, doc: Doc | None) -> Preferences:
        return Preferences(
            subject=subject,
            channels=self.choice.channels_for(doc),
            quiet_hours=QuietHours(**doc["quiet_hours"]) if doc and doc.get("quiet_hours") else None,
            available_channels=self.choice.available,
            default=doc is None,
        )

    async def get_preferences(self, *, ctx: Context) -> Preferences:
        subject = ctx.principal.subject
        docs = await self.store.preferences_of([subject])
        return self._preferences(subject, docs.get(subject))

    async def set_preferences(self, *, ctx: Context, data: PreferencesIn) -> Preferences:
        available = self.choice.available
        for i, ch in enumerate(data.channels):
            if ch not in available:
                raise InvalidInput(f"渠道 {ch.value} 未开通(可选:{'、'.join(available)})", field=f"channels.{i}")
        doc = await self.store.save_preferences(
            ctx.principal.subject,
            channels=sorted({Channel.INBOX.value, *[c.value for c in data.channels]}),
            quiet_hours=data.quiet_hours.model_dump(mode="json") if data.quiet_hours else None,
            at=self.clock(),
        )
        return self._preferences(ctx.principal.subject, doc)
