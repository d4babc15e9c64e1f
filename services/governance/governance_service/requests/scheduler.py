"""The deadline scheduler: deadlines are data on the requests and disputes (`next_deadline_at`);
a scan finds those due and lets each aggregate decide (overdue, escalated) in a transaction of
its own, exactly once however many instances scan."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from prometheus_client import Counter, Histogram

from governance_service.disputes.domain import DisputeCase
from governance_service.disputes.repository import DisputesStore
from governance_service.requests.deadlines import DeadlinePolicy
from governance_service.requests.domain import RequestCase
from governance_service.requests.repository import RequestsStore
from governance_service.requests.service import record_events
from relocation_shared.clock import Clock
from relocation_shared.logging import get_logger
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.tasks import cancel

log = get_logger(__name__)

SCAN_SECONDS = Histogram(
    "governance_deadline_scan_seconds",
    "Duration of one deadline scan",
    buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30),
)
DEADLINE_EVENTS = Counter("governance_deadline_events_total", "Events recorded by the deadline scheduler", ["type"])


@dataclass
class ScanResult:
    requests_due: int = 0
    requests_changed: int = 0
    disputes_due: int = 0
    disputes_changed: int = 0
    failed: int = 0
    events: dict[str, int] = field(default_factory=dict)

    def count(self, events: list[str]) -> None:
        for t in events:
            self.events[t] = self.events.get(t, 0) + 1

    def tally(self, kind: str, outcome: list[str] | BaseException) -> bool:
        """Count one handled record; whether it changed (else it is left alone for this scan)."""
        if kind == "requests":
            self.requests_due += 1
        else:
            self.disputes_due += 1
        if isinstance(outcome, BaseException):
            self.failed += 1
            return False
        if not outcome:
            return False
        if kind == "requests":
            self.requests_changed += 1
        else:
            self.disputes_changed += 1
        self.count(outcome)
        for t in outcome:
            DEADLINE_EVENTS.labels(t).inc()
        return True


@dataclass(kw_only=True, eq=False)
class DeadlineScheduler:
    """Watches the deadlines that are data on the requests and disputes (`next_deadline_at`).

    A scan reads the due ids from the deadline index, then handles each in its own transaction:
    it re-reads the record, lets the aggregate decide (overdue, escalated), saves it with a
    compare-and-set on its version and records the events in the same transaction. Two
    instances scanning at once, or a scan cancelled half-way and run again after a restart,
    record every overdue and escalation exactly once: a record another scan already moved is no
    longer due (or its version no longer matches) and is left alone. `scan(now=...)` is public so
    that tests can drive it with a fake clock."""

    uow: UnitOfWork
    requests: RequestsStore
    disputes: DisputesStore
    policy: DeadlinePolicy
    clock: Clock
    interval_seconds: float = 15.0
    batch: int = 500
    concurrency: int = 8
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    async def scan(self, *, now: datetime | None = None) -> ScanResult:
        now = now or self.clock()
        result = ScanResult()
        started = time.perf_counter()
        await self._scan_kind(now, result, self.requests.due_ids, self._request_due, "requests")
        await self._scan_kind(now, result, self.disputes.due_ids, self._dispute_due, "disputes")
        SCAN_SECONDS.observe(time.perf_counter() - started)
        return result

    async def _scan_kind(
        self,
        now: datetime,
        result: ScanResult,
        due_ids: Callable[..., Awaitable[list[str]]],
        handle: Callable[[str, datetime], Awaitable[list[str]]],
        kind: str,
    ) -> None:
        left_alone: list[str] = []  # failed or unchanged: not asked for again in this scan
        limit = asyncio.Semaphore(self.concurrency)

        async def one(record_id: str) -> list[str] | BaseException:
            async with limit:
                # A cancelled scan (shutdown) finishes the record in hand: a transaction cut off
                # mid-way would stay open on the server and hold the record until it times out.
                inner = asyncio.ensure_future(handle(record_id, now))
                try:
                    return await asyncio.shield(inner)
                except asyncio.CancelledError:
                    if not inner.done():
                        with contextlib.suppress(Exception):
                            await inner
                    raise
                except Exception as exc:  # one bad record must not stop the others
                    log.warning("deadline handling failed", record=record_id, kind=kind, error=str(exc))
                    return exc

        while True:
            ids = await due_ids(now, exclude=left_alone, limit=self.batch)
            if not ids:
                return
            # a task group, unlike gather, waits for every record in hand when the scan is cancelled
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(i)) for i in ids]
            for record_id, outcome in zip(ids, (t.result() for t in tasks), strict=True):
                if not result.tally(kind, outcome):
                    left_alone.append(record_id)

    async def _request_due(self, request_id: str, now: datetime) -> list[str]:
        return await self.uow.run(partial(self._request_due_tx, request_id, now))

    async def _request_due_tx(self, request_id: str, now: datetime, tx: Tx) -> list[str]:
        case = await self.requests.get(request_id, tx.session)
        if case is None or not case.on_deadline(now=now, policy=self.policy):
            return []
        expected, case.version = case.version, case.version + 1
        if not await self.requests.save(case, expected_version=expected, session=tx.session):
            return []
        return _recorded(tx, case)

    async def _dispute_due(self, dispute_id: str, now: datetime) -> list[str]:
        return await self.uow.run(partial(self._dispute_due_tx, dispute_id, now))

    async def _dispute_due_tx(self, dispute_id: str, now: datetime, tx: Tx) -> list[str]:
        case = await self.disputes.get(dispute_id, tx.session)
        if case is None or not case.on_deadline(now=now):
            return []
        expected, case.version = case.version, case.version + 1
        if not await self.disputes.save(case, expected_version=expected, session=tx.session):
            return []
        return _recorded(tx, case)

    async def run(self) -> None:
        while True:
            try:
                result = await self.scan()
                if result.requests_changed or result.disputes_changed:
                    log.info("deadlines handled", requests=result.requests_changed, disputes=result.disputes_changed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database trouble: the deadlines stay in the data, try again
                log.warning("deadline scan failed", error=str(exc))
            await asyncio.sleep(self.interval_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="deadline-scheduler")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None


def _recorded(tx: Tx, case: RequestCase | DisputeCase) -> list[str]:
    """Record the events the deadline meant; their types, for the scan's counts."""
    record_events(tx, case)
    return [e.event_type for e in case.events]
