"""The dispatcher: deliveries are data (state, attempts, next_attempt_at, lease). A dispatcher
claims due ones with a compare-and-set, sends them, then marks them; a crash between sending
and marking leaves a claim whose lease runs out, and another dispatcher sends again with the
same idempotency key, which the gateway recognises. Failures retry with exponential backoff and
jitter, then land in the dead-letter list an operator can replay. Every attempt is a document
in `attempts`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from datetime import datetime, timedelta

from prometheus_client import Counter

from notifications_service.delivery.backoff import backoff_delay
from notifications_service.delivery.channels import NotificationChannel, SendResult
from notifications_service.delivery.domain import Channel
from notifications_service.delivery.repository import DeliveryStore, attempt_doc, message_from_doc
from notifications_service.inbox.repository import InboxStore
from relocation_shared.clock import Clock, system_clock
from relocation_shared.events.notifications import NotificationDeadLettered, NotificationDelivered
from relocation_shared.ids import new_id
from relocation_shared.logging import get_logger
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.pii import scrub
from relocation_shared.tasks import cancel

log = get_logger(__name__)

DELIVERIES = Counter("notifications_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"])
INTERRUPTED = "发送中断(发送进程未记录结果,租约已过期),将以同一幂等键重发"


class Dispatcher:
    """Claims due deliveries (compare-and-set with a lease), sends them through their channel and
    records the outcome. `claim`, `send` and `record` are public so that tests can stop between
    them, as a crash would."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        deliveries: DeliveryStore,
        inbox: InboxStore,
        channels: dict[Channel, NotificationChannel],
        clock: Clock = system_clock,
        wake: asyncio.Event | None = None,
        batch: int = 200,
        concurrency: int = 16,
        lease_seconds: float = 60.0,
        max_attempts: int = 6,
        backoff_base: float = 2.0,
        backoff_max: float = 600.0,
        poll_seconds: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        self.uow = uow
        self.store = deliveries
        self.inbox = inbox
        self.channels = channels
        self.clock = clock
        self.wake = wake or asyncio.Event()
        self.batch = batch
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.poll_seconds = poll_seconds
        self.rng = rng or random.Random()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._task: asyncio.Task[None] | None = None

    async def claim(self) -> tuple[str, list[Doc]]:
        now = self.clock()
        due = await self.store.due_deliveries(now, limit=self.batch)
        if not due:
            return "", []
        token = new_id()
        lapsed = {d["_id"]: d.get("claimed_by") for d in due if d["state"] == "sending"}
        claimed = await self.store.claim(
            [d["_id"] for d in due], now=now, token=token, owner=self.owner, lease_until=now + self.lease
        )
        interrupted = [d for d in claimed if d["_id"] in lapsed]
        if interrupted:
            # their dispatcher died between claiming and recording: that attempt's outcome is
            # unknown (the gateway may have it; the resend carries the same idempotency key)
            await self.store.count_interrupted([d["_id"] for d in interrupted], token=token)
            await self.store.insert_attempts(
                [
                    attempt_doc(
                        d,
                        attempt=d.get("attempts", 0) + 1,
                        at=now,
                        outcome="interrupted",
                        by=lapsed[d["_id"]],
                        error=INTERRUPTED,
                    )
                    for d in interrupted
                ],
                None,
            )
            for d in interrupted:
                d["attempts"] = d.get("attempts", 0) + 1
        return token, claimed

    async def send(self, claimed: list[Doc]) -> tuple[dict[str, Doc], list[SendResult]]:
        notes = await self.inbox.notifications_by_ids(sorted({d["notification_id"] for d in claimed}))
        results: list[SendResult | None] = [None] * len(claimed)
        by_channel: dict[str, list[int]] = {}
        for i, d in enumerate(claimed):
            if d["notification_id"] not in notes or Channel(d["channel"]) not in self.channels:
                results[i] = SendResult(ok=False, error="渠道未开通或通知不存在", retryable=False)
            else:
                by_channel.setdefault(d["channel"], []).append(i)
        for ch, idx in by_channel.items():
            msgs = [message_from_doc(notes[claimed[i]["notification_id"]]) for i in idx]
            sent = await self.channels[Channel(ch)].send_many(msgs, concurrency=self.concurrency)
            for i, r in zip(idx, sent, strict=True):
                results[i] = r
        return notes, [r for r in results if r is not None]

    async def record(self, token: str, claimed: list[Doc], notes: dict[str, Doc], results: list[SendResult]) -> None:
        now = self.clock()
        pairs = list(zip(claimed, results, strict=True))
        attempts = [
            attempt_doc(
                d,
                attempt=d.get("attempts", 0) + 1,
                at=now,
                outcome="delivered" if r.ok else "failed",
                by=self.owner,
                status=r.status,
                error=scrub(r.error)[:300] if r.error else None,
                ms=round(r.ms, 1),
            )
            for d, r in pairs
        ]

        async def work(tx: Tx) -> None:
            await self.store.insert_attempts(attempts, tx.session)
            await self._delivered(tx, token, [d for d, r in pairs if r.ok], notes, now)
            for d, r in pairs:
                if not r.ok:
                    await self._failed(tx, token, d, r, now)

        await self.uow.run(work)
        for d, r in pairs:
            DELIVERIES.labels(d["channel"], "delivered" if r.ok else "failed").inc()

    async def _delivered(self, tx: Tx, token: str, ok: list[Doc], notes: dict[str, Doc], now: datetime) -> None:
        held = (
            set(await self.store.mark_delivered([d["_id"] for d in ok], token=token, at=now, session=tx.session))
            if ok
            else set()
        )
        for d in ok:
            if d["_id"] not in held or d["channel"] == Channel.INBOX.value:
                continue  # the claim lapsed (another dispatcher took it over); the inbox is ours
            note = notes[d["notification_id"]]
            tx.record(
                NotificationDelivered(
                    notification_id=note["_id"],
                    source_event_id=note["event_id"],
                    source_event_type=note["event_type"],
                    rule_id=note["rule_id"],
                    rule_version=note["rule_version"],
                    recipient_subject=note["recipient"],
                    recipient_role=note.get("recipient_role") or "",
                    channel=d["channel"],
                    urgency=note["urgency"],
                    attempts=d.get("attempts", 0) + 1,
                    delivered_at=now,
                ),
                area_path=note["area_path"],
                aggregate_id=note["_id"],
            )

    async def _failed(self, tx: Tx, token: str, d: Doc, r: SendResult, now: datetime) -> None:
        attempt = d.get("attempts", 0) + 1
        error = scrub(r.error or "发送失败")[:300]
        if r.retryable and attempt < self.max_attempts:
            delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max, rng=self.rng)
            due = now + timedelta(seconds=delay)
            await self.store.mark_retry(d["_id"], token=token, next_attempt_at=due, error=error, session=tx.session)
            return
        if await self.store.mark_dead(d["_id"], token=token, at=now, error=error, session=tx.session):
            tx.record(
                NotificationDeadLettered(
                    notification_id=d["notification_id"],
                    delivery_id=d["_id"],
                    source_event_type=d["event_type"],
                    rule_id=d["rule_id"],
                    channel=d["channel"],
                    attempts=attempt,
                    last_error=error,
                    dead_at=now,
                ),
                area_path=d["area_path"],
                aggregate_id=d["notification_id"],
            )

    async def run_once(self) -> int:
        token, claimed = await self.claim()
        if not claimed:
            return 0
        notes, results = await self.send(claimed)
        await self.record(token, claimed, notes, results)
        return len(claimed)

    async def release(self) -> None:
        """On a clean stop: what this dispatcher claimed and did not finish is due again now."""
        with contextlib.suppress(Exception):
            await self.store.release_claims(owner=self.owner, now=self.clock())

    async def run(self) -> None:
        backoff = 0.1
        pruned = 0.0
        while True:
            try:
                if time.monotonic() - pruned > 3600:
                    pruned = time.monotonic()
                    await self.inbox.prune_pushes(self.clock() - timedelta(days=1))
                self.wake.clear()
                done = await self.run_once()
                backoff = 0.1
                if done < self.batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database trouble: the deliveries stay, try again
                log.warning("dispatcher round failed", error=str(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="notifications-dispatcher")

    async def stop(self) -> None:
        await cancel(self._task)
        await self.release()
