"""Making notifications: one per (event, recipient, rule[, escalation level]) unless that key
already exists (checked inside the transaction that writes it, so a redelivered event notifies
nobody twice), and a delivery for each channel the cadre uses. The inbox's delivery is done in
that same transaction (our own database is the inbox), together with the push record the open
streams are fed from; the gateways' wait for the dispatcher (and for quiet hours, unless
urgent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import Counter, Histogram

from notifications_service.delivery import repository as deliveries
from notifications_service.delivery.domain import Channel
from notifications_service.delivery.repository import DeliveryStore
from notifications_service.inbox import repository as notes
from notifications_service.inbox.domain import (
    ChannelChoice,
    Plan,
    aware,
    notification_id,
    notification_key,
    quiet_until,
)
from notifications_service.inbox.models import QuietHours
from notifications_service.inbox.repository import InboxStore
from notifications_service.routing.domain import Recipient
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx

NOTIFIED = Counter("notifications_created_total", "Notifications made from events", ["event_type", "urgency"])
EVENT_TO_INBOX = Histogram(
    "notifications_event_to_inbox_seconds",
    "From the event's occurrence to the inbox delivery",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


@dataclass
class Written:
    """What one `notify` writes, collection by collection."""

    notes: list[Doc] = field(default_factory=list)
    deliveries: list[Doc] = field(default_factory=list)
    attempts: list[Doc] = field(default_factory=list)
    pushes: list[Doc] = field(default_factory=list)


class Notifier:
    def __init__(
        self, *, inbox: InboxStore, deliveries: DeliveryStore, choice: ChannelChoice, quiet_offset_hours: int = 8
    ) -> None:
        self.inbox = inbox
        self.deliveries = deliveries
        self.choice = choice
        self.quiet_offset = quiet_offset_hours

    async def notify(self, tx: Tx, plans: list[Plan], *, now: datetime) -> int:
        """Checked, then written: no failed write aborts the transaction. Returns how many
        notifications are new."""
        wanted: dict[str, tuple[Plan, Recipient, str]] = {}
        for plan in plans:
            for r in plan.recipients:
                key = notification_key(plan.event["id"], r.subject, plan.rule_id, plan.escalation_depth)
                wanted.setdefault(notification_id(key), (plan, r, key))
        if not wanted:
            return 0
        existing = await self.inbox.existing_notifications(list(wanted), tx.session)
        fresh = {nid: v for nid, v in wanted.items() if nid not in existing}
        if not fresh:
            return 0
        prefs = await self.inbox.preferences_of(sorted({r.subject for _, r, _ in fresh.values()}))
        out = Written()
        for nid, (plan, r, key) in fresh.items():
            self._one(out, nid, key, plan, r, prefs.get(r.subject), now)
        await self.inbox.insert_notifications(out.notes, tx.session)
        await self.deliveries.insert_deliveries(out.deliveries, tx.session)
        await self.deliveries.insert_attempts(out.attempts, tx.session)
        await self.inbox.insert_pushes(out.pushes, tx.session)
        for n in out.notes:
            NOTIFIED.labels(n["event_type"], n["urgency"]).inc()
            EVENT_TO_INBOX.observe(max(0.0, (now - aware(n["occurred_at"])).total_seconds()))
        return len(out.notes)

    def _one(
        self, out: Written, nid: str, key: str, plan: Plan, r: Recipient, prefs: Doc | None, now: datetime
    ) -> None:
        channels = self.choice.channels_for(prefs)
        note = notes.to_doc(nid, key, plan, r, channels, now)
        out.notes.append(note)
        quiet = (prefs or {}).get("quiet_hours")
        quiet_end = (
            None
            if plan.urgent or not quiet
            else quiet_until(now, QuietHours(**quiet), utc_offset_hours=self.quiet_offset)
        )
        for ch in channels:
            if ch is Channel.INBOX:
                # Our own database is the inbox: it is delivered by this very commit, and the
                # push record (the notification's id: never twice) feeds the open streams.
                note["inbox_at"] = now
                delivery = deliveries.delivered_doc(note, ch, now=now)
                out.attempts.append(
                    deliveries.attempt_doc(delivery, attempt=1, at=now, outcome="delivered", by="routing")
                )
                out.pushes.append(notes.push_record(note, now))
            else:
                delivery = deliveries.to_doc(note, ch, now=now, due=quiet_end or now)
            out.deliveries.append(delivery)
