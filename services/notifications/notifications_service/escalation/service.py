"""The escalator: finds urgent notifications past their acknowledgement window and tells the
next level up. Each notification moves on exactly once: the move is a compare-and-set in the
transaction that makes the escalation notices."""

from __future__ import annotations

import asyncio
from datetime import datetime

from prometheus_client import Counter

from notifications_service.escalation.domain import Escalation, escalation_plan, escalation_targets, level_of_depth
from notifications_service.escalation.repository import EscalationStore
from notifications_service.inbox.notify import Notifier
from notifications_service.inbox.repository import InboxStore
from notifications_service.routing.repository import DirectoryStore, SessionDirectory
from relocation_shared.clock import Clock, system_clock
from relocation_shared.events.notifications import NotificationEscalated
from relocation_shared.logging import get_logger
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.tasks import cancel

log = get_logger(__name__)

ESCALATIONS = Counter("notifications_escalations_total", "Urgent notifications escalated", ["outcome"])


class Escalator:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        store: EscalationStore,
        inbox: InboxStore,
        directory: DirectoryStore,
        notifier: Notifier,
        clock: Clock = system_clock,
        wake: asyncio.Event | None = None,
        scan_seconds: float = 15.0,
        batch: int = 200,
    ) -> None:
        self.uow = uow
        self.store = store
        self.inbox = inbox
        self.directory = directory
        self.notifier = notifier
        self.clock = clock
        self.wake = wake or asyncio.Event()
        self.scan_seconds = scan_seconds
        self.batch = batch
        self._task: asyncio.Task[None] | None = None

    async def scan_once(self) -> int:
        now = self.clock()
        due = await self.store.due_escalations(now, limit=self.batch)
        moved = 0
        for doc in due:
            if await self.escalate(doc["_id"], now=now):
                moved += 1
        if moved:
            self.wake.set()
        return moved

    async def _escalate(self, tx: Tx, nid: str, now: datetime) -> bool:
        doc = await self.inbox.get_notification(nid, tx.session)
        if doc is None or doc.get("escalation") != Escalation.PENDING.value or doc.get("acked_at") is not None:
            return False
        directory = SessionDirectory(self.directory, tx.session)
        level, recipients = await escalation_targets(doc["area_path"], doc["depth"], directory)
        outcome = Escalation.ESCALATED if recipients else Escalation.EXHAUSTED
        if not await self.store.settle_escalation(nid, outcome, now, tx.session):
            return False
        if level is not None:
            await self.notifier.notify(tx, [escalation_plan(doc, level, recipients)], now=now)
        tx.record(
            NotificationEscalated(
                notification_id=nid,
                source_event_id=doc["event_id"],
                source_event_type=doc["event_type"],
                rule_id=doc["rule_id"],
                rule_version=doc["rule_version"],
                from_level=level_of_depth(doc["depth"]).value,
                to_level=level.value if level else None,
                recipients=len(recipients),
                ack_due_at=doc["ack_due_at"],
                escalated_at=now,
            ),
            area_path=doc["area_path"],
            aggregate_id=nid,
        )
        return True

    async def escalate(self, nid: str, *, now: datetime) -> bool:
        done = await self.uow.run(lambda tx: self._escalate(tx, nid, now))
        ESCALATIONS.labels("escalated" if done else "skipped").inc()
        return done

    async def run(self) -> None:
        while True:
            try:
                await self.scan_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("escalation scan failed", error=str(exc))
            await asyncio.sleep(self.scan_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="notifications-escalator")

    async def stop(self) -> None:
        await cancel(self._task)
