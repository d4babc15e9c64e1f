"""Use cases of the notifications service.

- Routing (`route_batch`): each consumed event is matched against the rules for its type (held
  in memory, reloaded on change). Each matching rule's recipients get one notification per
  (event id, recipient, rule id): the notification's id is derived from that key and checked
  inside the consuming transaction, so a redelivered event, or one replayed after
  `processed_events` was lost, notifies nobody twice. Each notification gets one delivery per
  channel the cadre uses; the inbox's is made in that same transaction (our own database is the
  inbox) together with the push record the open streams are fed from.
- Delivery to gateways (`Dispatcher`): deliveries are data (state, attempts, next_attempt_at,
  lease). A dispatcher claims due ones with a compare-and-set, sends them, then marks them; a
  crash between sending and marking leaves a claim whose lease runs out, and another dispatcher
  sends again with the same idempotency key, which the gateway recognises. Failures retry with
  exponential backoff and jitter, then land in the dead-letter list an operator can replay.
  Every attempt is a document in `attempts`.
- Acknowledge or escalate (`Escalator`): an urgent notification not acknowledged within its
  window goes to the next level up, exactly once (compare-and-set again), with an injectable clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from prometheus_client import Counter, Histogram
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from notifications_service.channels import NotificationChannel, SendResult, push_record
from notifications_service.models import (
    ROUTED_TOPICS,
    Channel,
    CompiledRule,
    DeadLetter,
    Delivery,
    Doc,
    Escalation,
    EventTypeInfo,
    InboxItem,
    MemoryDirectory,
    NotificationStatus,
    OutgoingMessage,
    Preferences,
    PreferencesIn,
    QuietHours,
    Recipient,
    Rule,
    RuleCache,
    RuleIn,
    RuleUpdate,
    Urgency,
    backoff_delay,
    compile_rule,
    default_rules,
    delivery_id,
    escalation_targets,
    event_type_info,
    notification_id,
    notification_key,
    quiet_until,
    resolve_recipients,
    role_label,
)
from notifications_service.repository import DirectoryWrite, NotificationsRepository, SessionDirectory
from relocation_shared.areas import LEVELS, Level
from relocation_shared.auth import Action, Principal, Role
from relocation_shared.clock import Clock, system_clock
from relocation_shared.consumer import (
    DUPLICATES,
    LAG,
    MAX_ATTEMPTS,
    PERMANENT,
    PROCESSED,
    PROCESSED_EVENTS,
    EventConsumer,
)
from relocation_shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from relocation_shared.events import CATALOG, Envelope, EventPayload, InvalidEvent
from relocation_shared.events.governance import AreaRegistered, StaffAssigned, StaffUnassigned
from relocation_shared.events.notifications import (
    NotificationAcknowledged,
    NotificationDeadLettered,
    NotificationDelivered,
    NotificationEscalated,
)
from relocation_shared.ids import new_id
from relocation_shared.logging import get_logger
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.pii import scrub
from relocation_shared.tasks import cancel

log = get_logger(__name__)
T = TypeVar("T")

NOTIFIED = Counter("notifications_created_total", "Notifications made from events", ["event_type", "urgency"])
UNROUTED = Counter("notifications_unrouted_total", "Matching rules that found nobody to tell", ["event_type"])
DELIVERIES = Counter("notifications_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"])
ESCALATIONS = Counter("notifications_escalations_total", "Urgent notifications escalated", ["outcome"])
EVENT_TO_INBOX = Histogram(
    "notifications_event_to_inbox_seconds",
    "From the event's occurrence to the inbox delivery",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

ESCALATION_PREFIX = "【升级提醒】"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class WakingUnitOfWork(UnitOfWork):
    """The consumer's unit of work: after each commit it wakes the dispatcher, so a new
    notification is delivered at once rather than at the next poll. Events it records go out
    through the same outbox relay as the service's own (`committed` is shared)."""

    def __init__(self, base: UnitOfWork, *, wake: asyncio.Event) -> None:
        super().__init__(base.client, base.db, producer=base.producer)
        self.committed = base.committed
        self.wake = wake

    async def run(self, fn: Callable[[Tx], Awaitable[T]], *, correlation_id: str | None = None) -> T:
        result = await super().run(fn, correlation_id=correlation_id)
        self.wake.set()
        return result


DIRECTORY_TYPES = frozenset({StaffAssigned.event_type, StaffUnassigned.event_type, AreaRegistered.event_type})


class Routing:
    """The rules in force and which events are worth a transaction: the directory's own, and
    those of event types that have an enabled rule and occurred after the service was
    installed (a new service does not flood cadres with the topics' history; it still learns
    the directory from it). Reloaded after each rule change here and every `refresh_seconds`
    (changes made on another instance take effect within that time)."""

    def __init__(
        self, repo: NotificationsRepository, *, clock: Clock = system_clock, refresh_seconds: float = 5.0
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.since: datetime | None = None
        self.rules: dict[str, list[Doc]] = {}
        self.types: frozenset[str] = frozenset()
        self.on_reload: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> None:
        if self.since is None:
            self.since = await self.repo.installed_at(self.clock())
        rules: dict[str, list[Doc]] = {}
        for doc in await self.repo.all_active_rules():
            rules.setdefault(doc["event_type"], []).append(doc)
        self.rules = rules
        self.types = frozenset(rules)
        for hook in self.on_reload:
            hook()

    def routes(self, env: Envelope) -> bool:
        return self.since is not None and env.occurred_at >= self.since

    def wants(self, env: Envelope) -> bool:
        return env.type in self.types and self.routes(env)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.load()
            except Exception as exc:
                log.warning("rules reload failed", error=str(exc))

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="notifications-routing")

    async def stop(self) -> None:
        await cancel(self._task)


class NotificationsConsumer(EventConsumer):
    """The consumer base, fetched batch by batch:
    - an event this service has no use for is passed over (most of the topics' traffic);
    - the directory's events are plain idempotent upserts, applied in partition order before
      the batch is routed (so an alert sees the staffing published before it);
    - the events the rules route are handled together in one transaction, with their ids in
      `processed_events` (checked first) and each notification's key checked before it is
      written: a redelivered batch, or one event twice in a batch, notifies nobody twice.
    When the batch's transaction fails for good, its events are handled one by one by the base
    (one transaction each), which sends the culprit to the dead-letter topic."""

    def __init__(self, *, service: NotificationsService, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service
        self.routing = service.routing

    async def _run(self) -> None:
        assert self.consumer is not None
        while True:
            batches = await self.consumer.getmany(timeout_ms=500, max_records=self.max_records)
            # one routing transaction for the whole fetch, whatever partitions it came from
            await self.process_batch([r for records in batches.values() for r in records])
            for tp, records in batches.items():
                self._pending[tp] = records[-1].offset + 1
                highwater = self.consumer.highwater(tp)
                if highwater is not None:
                    LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(
                        max(0, highwater - records[-1].offset - 1)
                    )
            await self.commit_pending()
            if not batches:
                self.caught_up.set()

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        await self.process_batch([record])

    async def process_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        if not records:
            return
        routable: list[tuple[ConsumerRecord[bytes, bytes], Envelope, EventPayload]] = []
        directory: list[tuple[Envelope, EventPayload]] = []
        for record in records:
            try:
                env = Envelope.model_validate_json(record.value or b"")
            except ValidationError:
                await super().process(record)  # malformed: the base sends it to the dead-letter topic
                continue
            staffing = env.type in DIRECTORY_TYPES
            if not staffing and not self.routing.wants(env):
                continue
            try:
                payload = CATALOG.payload_of(env)
            except InvalidEvent as exc:
                await self.dead_letter(record, exc.reason, env)
                continue
            if staffing:
                directory.append((env, payload))
            if self.routing.wants(env):
                routable.append((record, env, payload))
        if directory:
            await self._directory(directory)
        if routable:
            await self._route(routable)

    async def _directory(self, items: list[tuple[Envelope, EventPayload]]) -> None:
        attempt = 0
        while True:
            try:
                await self.service.apply_directory_batch(items)
                return
            except PyMongoError as exc:  # the database is away: wait for it, never skip
                attempt += 1
                log.warning("directory update deferred", error=str(exc), events=len(items))
                await asyncio.sleep(min(0.2 * attempt, 5.0))

    async def _route(self, items: list[tuple[ConsumerRecord[bytes, bytes], Envelope, EventPayload]]) -> None:
        unique = list({env.id: (env, payload) for _, env, payload in items}.values())

        async def work(tx: Tx) -> int:
            ids = [env.id for env, _ in unique]
            seen = {
                d["_id"]
                for d in await self.db[PROCESSED_EVENTS]
                .find({"_id": {"$in": ids}}, {"_id": 1}, session=tx.session)
                .to_list(None)
            }
            fresh = [(env, payload) for env, payload in unique if env.id not in seen]
            if not fresh:
                return 0
            await self.service.route_batch(tx, fresh)
            await self.db[PROCESSED_EVENTS].insert_many(
                [{"_id": env.id, "type": env.type, "at": tx.now} for env, _ in fresh], session=tx.session
            )
            return len(fresh)

        attempt = 0
        while True:
            attempt += 1
            try:
                handled = await self.uow.run(work)
                DUPLICATES.labels(self.group_id).inc(len(items) - handled)
                for _, env, _ in items[:handled]:
                    PROCESSED.labels(self.group_id, env.type).inc()
                return
            except (ConnectionFailure, OperationFailure) as exc:  # the database is away: wait for it
                log.warning("batch routing deferred", error=str(exc), events=len(items))
                await asyncio.sleep(min(0.2 * attempt, 5.0))
            except Exception as exc:
                if not isinstance(exc, PERMANENT) and attempt < MAX_ATTEMPTS:
                    log.warning("batch routing failed, retrying", error=str(exc), events=len(items))
                    await asyncio.sleep(0.2 * attempt)
                    continue
                log.warning("batch routing failed: one event at a time", error=str(exc), events=len(items))
                for record, _, _ in items:
                    await super().process(record)
                return


@dataclass
class Plan:
    """What one rule (or an escalation) says about one event: whom to tell, and what."""

    event: Doc
    rule_id: str
    rule_version: int
    urgency: Urgency
    window: timedelta | None
    recipients: list[Recipient]
    title: str
    text: str
    escalated_from: str | None = None
    escalation_depth: int | None = None


class NotificationsService:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        repo: NotificationsRepository,
        available_channels: list[Channel],
        default_channels: list[Channel],
        quiet_offset_hours: int = 8,
        clock: Clock = system_clock,
        wake: asyncio.Event | None = None,
    ) -> None:
        self.uow = uow
        self.repo = repo
        self.available = [Channel.INBOX, *[c for c in available_channels if c is not Channel.INBOX]]
        self.defaults = [c for c in self.available if c in default_channels or c is Channel.INBOX]
        self.quiet_offset = quiet_offset_hours
        self.clock = clock
        self.wake = wake or asyncio.Event()
        self.rules = RuleCache()
        self.routing = Routing(repo, clock=clock)
        self.names: dict[str, str] = {}  # area names for templates; emptied at each rules reload
        self.routing.on_reload.append(self.names.clear)

    # routing, from the consumed events ---------------------------------------------------------
    async def on_event(self, tx: Tx, env: Envelope, payload: EventPayload) -> None:
        """One event in its own unit of work (the consumer base's path)."""
        await self.apply_directory(env, payload, tx.session)
        if self.routing.routes(env):
            await self.route_batch(tx, [(env, payload)])

    async def apply_directory(self, env: Envelope, payload: EventPayload, session: Any) -> None:
        """The registry's staffing and area names: idempotent upserts (a replay converges)."""
        await self.apply_directory_batch([(env, payload)], session)

    async def apply_directory_batch(self, items: list[tuple[Envelope, EventPayload]], session: Any = None) -> None:
        """Many staffing and area events at once, in their order (one bulk write per collection)."""
        writes: list[DirectoryWrite] = []
        for env, payload in items:
            if isinstance(payload, StaffAssigned):
                doc = {
                    "subject": payload.subject,
                    "name_masked": payload.name_masked,
                    "role": payload.role,
                    "area_code": payload.area_code,
                    "area_level": payload.area_level,
                    "area_path": list(env.area_path),
                    "active": True,
                    "assigned_at": env.occurred_at,
                    "unassigned_at": None,
                }
                writes.append(DirectoryWrite("directory", payload.staff_id, doc, upsert=True))
            elif isinstance(payload, StaffUnassigned):
                fields = {"active": False, "unassigned_at": env.occurred_at}
                writes.append(DirectoryWrite("directory", payload.staff_id, fields, upsert=False))
            elif isinstance(payload, AreaRegistered):
                fields = {"name": payload.name, "level": payload.level, "parent": payload.parent}
                writes.append(DirectoryWrite("areas", payload.code, fields, upsert=True))
                self.names[payload.code] = payload.name
        await self.repo.write_directory(writes, session)

    async def route(self, tx: Tx, env: Envelope, payload: EventPayload) -> int:
        return await self.route_batch(tx, [(env, payload)])

    async def route_batch(self, tx: Tx, items: list[tuple[Envelope, EventPayload]]) -> int:
        """Make the notifications the rules call for; returns how many were new. The rules, the
        directory, the area names and the preferences are read before (outside) the writes; the
        keys are checked and the notifications and deliveries written in the transaction."""
        matches: list[tuple[Envelope, EventPayload, CompiledRule]] = []
        for env, payload in items:
            for doc in self.routing.rules.get(env.type, []):
                try:
                    rule = self.rules.get(doc)
                except InvalidInput as exc:  # the catalog changed under a saved rule: skip it, say so
                    log.warning("rule no longer compiles", rule_id=doc["_id"], reason=exc.message)
                    continue
                if rule.matches(env, payload):
                    matches.append((env, payload, rule))
        if not matches:
            return 0
        directory = await self._prefetch_directory(matches)
        names = await self._area_names({code for env, _, _ in matches for code in env.area_path})
        plans = []
        for env, payload, rule in matches:
            recipients = await resolve_recipients(rule, env, payload, directory)
            if not recipients:
                UNROUTED.labels(env.type).inc()
                log.info("rule matched but nobody to tell", rule_id=rule.id, event_id=env.id)
                continue
            plans.append(
                Plan(
                    event={
                        "id": env.id,
                        "type": env.type,
                        "occurred_at": env.occurred_at,
                        "area_path": list(env.area_path),
                    },
                    rule_id=rule.id,
                    rule_version=rule.version,
                    urgency=rule.urgency,
                    window=rule.ack_window,
                    recipients=recipients,
                    title=rule.title,
                    text=rule.render(env, payload, names),
                )
            )
        return await self.notify(tx, plans, now=self.clock())

    async def _prefetch_directory(self, matches: list[tuple[Envelope, EventPayload, CompiledRule]]) -> MemoryDirectory:
        codes: set[str] = set()
        roles: set[str] = set()
        subjects: set[str] = set()
        for env, payload, rule in matches:
            for a in rule.audience:
                if a.subject_field is not None:
                    subject = getattr(payload, a.subject_field, None)
                    if subject:
                        subjects.add(str(subject))
                elif a.role is not None and a.level is not None and a.level.depth < len(env.area_path):
                    codes.add(env.area_path[a.level.depth])
                    roles.add(a.role)
        return MemoryDirectory(await self.repo.directory_for(sorted(codes), sorted(roles), sorted(subjects)))

    async def _area_names(self, codes: set[str]) -> dict[str, str]:
        missing = [c for c in codes if c not in self.names]
        if missing:
            found = await self.repo.area_names(missing)
            for code in missing:
                self.names[code] = found.get(code, "")
        return {c: self.names[c] for c in codes if self.names.get(c)}

    async def notify(self, tx: Tx, plans: list[Plan], *, now: datetime) -> int:
        """One notification per (event, recipient, rule[, escalation level]) unless that key
        already exists, and a delivery for each channel the cadre uses. Checked, then written:
        no failed write aborts the transaction."""
        wanted: dict[str, tuple[Plan, Recipient, str]] = {}
        for plan in plans:
            for r in plan.recipients:
                key = notification_key(plan.event["id"], r.subject, plan.rule_id, plan.escalation_depth)
                wanted.setdefault(notification_id(key), (plan, r, key))
        if not wanted:
            return 0
        existing = await self.repo.existing_notifications(list(wanted), tx.session)
        fresh = {nid: v for nid, v in wanted.items() if nid not in existing}
        if not fresh:
            return 0
        prefs = await self.repo.preferences_of(sorted({r.subject for _, r, _ in fresh.values()}))
        notes: list[Doc] = []
        deliveries: list[Doc] = []
        attempts: list[Doc] = []
        pushes: list[Doc] = []
        for nid, (plan, r, key) in fresh.items():
            urgent = plan.urgency is Urgency.URGENT and plan.window is not None
            channels = self.channels_for(prefs.get(r.subject))
            note: Doc = {
                "_id": nid,
                "key": key,
                "event_id": plan.event["id"],
                "event_type": plan.event["type"],
                "occurred_at": plan.event["occurred_at"],
                "area_path": plan.event["area_path"],
                "rule_id": plan.rule_id,
                "rule_version": plan.rule_version,
                "recipient": r.subject,
                "recipient_role": r.role,
                "recipient_name_masked": r.name_masked,
                "recipient_staff_id": r.staff_id,
                "recipient_area_code": r.area_code,
                "depth": r.depth,
                "title": plan.title,
                "text": plan.text,
                "urgency": plan.urgency.value,
                "ack_window_minutes": int(plan.window.total_seconds() // 60) if plan.window else None,
                "ack_due_at": now + plan.window if urgent and plan.window else None,
                "escalation": Escalation.PENDING.value if urgent else Escalation.NONE.value,
                "escalated_from": plan.escalated_from,
                "channels": [c.value for c in channels],
                "created_at": now,
                "inbox_at": None,
                "read_at": None,
                "acked_at": None,
            }
            notes.append(note)
            quiet = prefs.get(r.subject, {}).get("quiet_hours")
            quiet_end = (
                None
                if urgent or not quiet
                else quiet_until(now, QuietHours(**quiet), utc_offset_hours=self.quiet_offset)
            )
            for ch in channels:
                delivery: Doc = {
                    "_id": delivery_id(nid, ch),
                    "notification_id": nid,
                    "channel": ch.value,
                    "recipient": r.subject,
                    "event_type": plan.event["type"],
                    "rule_id": plan.rule_id,
                    "area_path": plan.event["area_path"],
                    "state": "pending",
                    "attempts": 0,
                    "replays": 0,
                    "next_attempt_at": quiet_end if quiet_end and ch is not Channel.INBOX else now,
                    "lease_until": None,
                    "claim": None,
                    "created_at": now,
                    "delivered_at": None,
                    "last_error": None,
                }
                if ch is Channel.INBOX:
                    # Our own database is the inbox: it is delivered by this very commit, and the
                    # push record (the notification's id: never twice) feeds the open streams.
                    note["inbox_at"] = now
                    delivery.update(state="delivered", attempts=1, delivered_at=now, next_attempt_at=None)
                    attempts.append(
                        {
                            "_id": new_id(),
                            "delivery_id": delivery["_id"],
                            "notification_id": nid,
                            "channel": ch.value,
                            "attempt": 1,
                            "at": now,
                            "outcome": "delivered",
                            "by": "routing",
                        }
                    )
                    pushes.append(push_record(note, now))
                deliveries.append(delivery)
        await self.repo.insert_notifications(notes, tx.session)
        await self.repo.insert_deliveries(deliveries, tx.session)
        await self.repo.insert_attempts(attempts, tx.session)
        await self.repo.insert_pushes(pushes, tx.session)
        for n in notes:
            NOTIFIED.labels(n["event_type"], n["urgency"]).inc()
            EVENT_TO_INBOX.observe(max(0.0, (now - _aware(n["occurred_at"])).total_seconds()))
        return len(notes)

    def channels_for(self, prefs: Doc | None) -> list[Channel]:
        wanted = [Channel(c) for c in prefs["channels"]] if prefs else self.defaults
        return [c for c in self.available if c in wanted or c is Channel.INBOX]

    # rules ---------------------------------------------------------------------------------------
    @staticmethod
    def _require_rule_writer(principal: Principal) -> None:
        if Role.CITY_OFFICER not in principal.roles:
            raise Forbidden("只有市级后续扶持工作人员可以维护通知规则")

    @staticmethod
    def _require_officer(principal: Principal) -> None:
        if not principal.roles & {Role.CITY_OFFICER, Role.COUNTY_OFFICER}:
            raise Forbidden("只有市、县后续扶持工作人员可以查看通知规则")

    def _rule_doc(self, rule_id: str, version: int, data: RuleIn, *, by: str, default: bool = False) -> Doc:
        return {
            "_id": rule_id,
            "version": version,
            **data.model_dump(mode="json"),
            "deleted": False,
            "default": default,
            "updated_at": self.clock(),
            "updated_by": by,
        }

    @staticmethod
    def _version_doc(doc: Doc, change: str) -> Doc:
        return {**doc, "_id": f"{doc['_id']}@{doc['version']}", "rule_id": doc["_id"], "change": change}

    async def create_rule(self, *, principal: Principal, data: RuleIn) -> Rule:
        self._require_rule_writer(principal)
        compile_rule(data)
        doc = self._rule_doc(new_id(), 1, data, by=principal.subject)

        async def work(tx: Tx) -> None:
            await self.repo.insert_rule(doc, tx.session)
            await self.repo.insert_rule_version(self._version_doc(doc, "created"), tx.session)

        await self.uow.run(work)
        await self.routing.load()
        return Rule.from_doc(doc)

    async def update_rule(self, *, principal: Principal, rule_id: str, data: RuleUpdate) -> Rule:
        self._require_rule_writer(principal)
        rule_in = RuleIn.model_validate(data.model_dump(exclude={"expected_version"}))
        compile_rule(rule_in, rule_id=rule_id)
        return await self._new_version(principal, rule_id, data.expected_version, rule_in, change="updated")

    async def delete_rule(self, *, principal: Principal, rule_id: str, expected_version: int | None) -> Rule:
        self._require_rule_writer(principal)
        return await self._new_version(principal, rule_id, expected_version, None, change="deleted")

    async def _new_version(
        self, principal: Principal, rule_id: str, expected: int | None, data: RuleIn | None, *, change: str
    ) -> Rule:
        async def work(tx: Tx) -> Doc:
            current = await self.repo.get_rule(rule_id, tx.session)
            if current is None or current.get("deleted"):
                raise NotFound("通知规则不存在", field="rule_id")
            if expected is not None and expected != current["version"]:
                raise Conflict(
                    f"规则已被他人修改(当前版本 {current['version']}),请刷新后再改",
                    field="expected_version",
                    version=current["version"],
                )
            base = data or RuleIn.model_validate({k: current[k] for k in RuleIn.model_fields if k in current})
            doc = self._rule_doc(
                rule_id, current["version"] + 1, base, by=principal.subject, default=current["default"]
            )
            if data is None:
                doc["deleted"] = True
                doc["enabled"] = False
            if not await self.repo.replace_rule(doc, expected_version=current["version"], session=tx.session):
                raise Conflict("规则已被他人修改,请刷新后再改", field="expected_version")
            await self.repo.insert_rule_version(self._version_doc(doc, change), tx.session)
            return doc

        saved = await self.uow.run(work)
        await self.routing.load()
        return Rule.from_doc(saved)

    async def get_rule(self, *, principal: Principal, rule_id: str) -> Rule:
        self._require_officer(principal)
        doc = await self.repo.get_rule(rule_id)
        if doc is None:
            raise NotFound("通知规则不存在", field="rule_id")
        return Rule.from_doc(doc)

    async def list_rules(self, *, principal: Principal, include_deleted: bool, event_type: str | None) -> list[Rule]:
        self._require_officer(principal)
        return [
            Rule.from_doc(d) for d in await self.repo.list_rules(include_deleted=include_deleted, event_type=event_type)
        ]

    async def rule_versions(self, *, principal: Principal, rule_id: str) -> list[Rule]:
        self._require_officer(principal)
        docs = await self.repo.rule_versions(rule_id)
        if not docs:
            raise NotFound("通知规则不存在", field="rule_id")
        return [Rule.from_doc(d) for d in docs]

    def event_types(self, *, principal: Principal) -> list[EventTypeInfo]:
        self._require_officer(principal)
        return [event_type_info(t) for t in CATALOG.types if CATALOG.topic_of(t) in ROUTED_TOPICS]

    async def seed_default_rules(self) -> list[str]:
        """The standing rules, each once (an officer's later edit or deletion stays)."""
        seeded = []
        for rule_id, data in default_rules():
            compile_rule(data, rule_id=rule_id)
            doc = self._rule_doc(rule_id, 1, data, by="system", default=True)
            if await self.repo.seed_rule(doc, self._version_doc(doc, "seeded")):
                seeded.append(rule_id)
        if seeded:
            log.info("default rules seeded", rules=seeded)
        await self.routing.load()
        return seeded

    # the inbox -----------------------------------------------------------------------------------
    async def inbox(
        self, *, principal: Principal, unread_only: bool, unacked_only: bool, limit: int
    ) -> list[InboxItem]:
        docs = await self.repo.inbox(principal.subject, unread_only=unread_only, unacked_only=unacked_only, limit=limit)
        return [InboxItem.from_doc(d) for d in docs]

    async def unread(self, *, principal: Principal) -> int:
        return await self.repo.count_unread(principal.subject)

    async def _own(self, principal: Principal, nid: str, session: Any = None) -> Doc:
        doc = await self.repo.get_notification(nid, session)
        if doc is None or doc["recipient"] != principal.subject or doc.get("inbox_at") is None:
            raise NotFound("通知不存在", field="notification_id")
        return doc

    async def mark_read(self, *, principal: Principal, notification_id: str) -> InboxItem:
        await self._own(principal, notification_id)
        await self.repo.mark_read(notification_id, self.clock())
        return InboxItem.from_doc(await self._own(principal, notification_id))

    async def acknowledge(self, *, principal: Principal, notification_id: str) -> InboxItem:
        async def work(tx: Tx) -> None:
            doc = await self._own(principal, notification_id, tx.session)
            if doc.get("acked_at") is not None:
                return  # acknowledging twice is harmless
            now = self.clock()
            if not await self.repo.acknowledge(doc, now, tx.session):
                return
            due = doc.get("ack_due_at")
            created = _aware(doc["created_at"])
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
                    within_window=due is None or now <= _aware(due),
                ),
                area_path=doc["area_path"],
                aggregate_id=doc["_id"],
            )

        await self.uow.run(work)
        return InboxItem.from_doc(await self._own(principal, notification_id))

    # preferences -------------------------------------------------------------------------------
    def _preferences(self, subject: str, doc: Doc | None) -> Preferences:
        return Preferences(
            subject=subject,
            channels=self.channels_for(doc),
            quiet_hours=QuietHours(**doc["quiet_hours"]) if doc and doc.get("quiet_hours") else None,
            available_channels=self.available,
            default=doc is None,
        )

    async def get_preferences(self, *, principal: Principal) -> Preferences:
        docs = await self.repo.preferences_of([principal.subject])
        return self._preferences(principal.subject, docs.get(principal.subject))

    async def set_preferences(self, *, principal: Principal, data: PreferencesIn) -> Preferences:
        for i, ch in enumerate(data.channels):
            if ch not in self.available:
                raise InvalidInput(f"渠道 {ch.value} 未开通(可选:{'、'.join(self.available)})", field=f"channels.{i}")
        doc = {
            "_id": principal.subject,
            "channels": sorted({Channel.INBOX.value, *[c.value for c in data.channels]}),
            "quiet_hours": data.quiet_hours.model_dump(mode="json") if data.quiet_hours else None,
            "updated_at": self.clock(),
        }
        await self.repo.save_preferences(doc)
        return self._preferences(principal.subject, doc)

    # delivery status, dead letters ---------------------------------------------------------------
    async def status(self, *, principal: Principal, notification_id: str) -> NotificationStatus:
        doc = await self.repo.get_notification(notification_id)
        if doc is None:
            raise NotFound("通知不存在", field="notification_id")
        if doc["recipient"] != principal.subject:
            if not principal.roles & {Role.CITY_OFFICER, Role.COUNTY_OFFICER}:
                raise NotFound("通知不存在", field="notification_id")
            principal.require_visible(doc["area_path"], "通知")
        attempts = await self.repo.attempts_of(notification_id)
        deliveries = [
            Delivery.from_doc(d, [a for a in attempts if a["delivery_id"] == d["_id"]])
            for d in await self.repo.deliveries_of(notification_id)
        ]
        return NotificationStatus(
            notification=InboxItem.from_doc(doc),
            recipient_subject=doc["recipient"],
            recipient_role=doc.get("recipient_role") or "",
            recipient_role_label=role_label(doc.get("recipient_role") or ""),
            escalation=doc["escalation"],
            deliveries=deliveries,
        )

    async def dead_letters(self, *, principal: Principal, limit: int) -> list[DeadLetter]:
        self._require_rule_writer(principal)
        docs = await self.repo.dead_letters(sorted(principal.areas), limit=limit)
        notes = await self.repo.notifications_by_ids([d["notification_id"] for d in docs])
        out = []
        for d in docs:
            note = notes.get(d["notification_id"], {})
            out.append(
                DeadLetter(
                    delivery=Delivery.from_doc(d),
                    notification_id=d["notification_id"],
                    recipient_subject=d["recipient"],
                    event_type=d["event_type"],
                    title=note.get("title", ""),
                    area_path=d["area_path"],
                )
            )
        return out

    async def replay(self, *, principal: Principal, delivery_id: str) -> Delivery:
        self._require_rule_writer(principal)

        async def work(tx: Tx) -> None:
            doc = await self.repo.get_delivery(delivery_id, tx.session)
            if doc is None:
                raise NotFound("投递记录不存在", field="delivery_id")
            principal.require_visible(doc["area_path"], "投递记录")
            if doc["state"] != "dead":
                raise Conflict("只有发送失败的投递可以重发", field="delivery_id", state=doc["state"])
            now = self.clock()
            if not await self.repo.replay(delivery_id, now=now, session=tx.session):
                raise Conflict("该投递已在重发", field="delivery_id")
            await self.repo.insert_attempts(
                [
                    {
                        "_id": new_id(),
                        "delivery_id": delivery_id,
                        "notification_id": doc["notification_id"],
                        "channel": doc["channel"],
                        "attempt": doc.get("attempts", 0),
                        "at": now,
                        "outcome": "replayed",
                        "by": principal.subject,
                    }
                ],
                tx.session,
            )

        await self.uow.run(work)
        self.wake.set()
        doc = await self.repo.get_delivery(delivery_id)
        assert doc is not None
        return Delivery.from_doc(doc)

    async def staff(self, *, principal: Principal, area: str, limit: int) -> list[Doc]:
        principal.require(Action.READ)
        docs = await self.repo.staff_in(area, limit=limit)
        return [d for d in docs if principal.covers(d.get("area_path", []))]


# --- the dispatcher ------------------------------------------------------------------------------


class Dispatcher:
    """Claims due deliveries (compare-and-set with a lease), sends them through their channel and
    records the outcome. `claim`, `send` and `record` are public so that tests can stop between
    them, as a crash would."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        repo: NotificationsRepository,
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
        self.repo = repo
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
        due = await self.repo.due_deliveries(now, limit=self.batch)
        if not due:
            return "", []
        token = new_id()
        lapsed = {d["_id"]: d.get("claimed_by") for d in due if d["state"] == "sending"}
        claimed = await self.repo.claim(
            [d["_id"] for d in due], now=now, token=token, owner=self.owner, lease_until=now + self.lease
        )
        interrupted = [d for d in claimed if d["_id"] in lapsed]
        if interrupted:
            # their dispatcher died between claiming and recording: that attempt's outcome is
            # unknown (the gateway may have it; the resend carries the same idempotency key)
            await self.repo.count_interrupted([d["_id"] for d in interrupted], token=token)
            await self.repo.insert_attempts(
                [
                    {
                        "_id": new_id(),
                        "delivery_id": d["_id"],
                        "notification_id": d["notification_id"],
                        "channel": d["channel"],
                        "attempt": d.get("attempts", 0) + 1,
                        "at": now,
                        "outcome": "interrupted",
                        "error": "发送中断(发送进程未记录结果,租约已过期),将以同一幂等键重发",
                        "by": lapsed[d["_id"]],
                    }
                    for d in interrupted
                ],
                None,
            )
            for d in interrupted:
                d["attempts"] = d.get("attempts", 0) + 1
        return token, claimed

    async def send(self, claimed: list[Doc]) -> tuple[dict[str, Doc], list[SendResult]]:
        notes = await self.repo.notifications_by_ids(sorted({d["notification_id"] for d in claimed}))
        results: list[SendResult | None] = [None] * len(claimed)
        by_channel: dict[str, list[int]] = {}
        for i, d in enumerate(claimed):
            if d["notification_id"] not in notes or Channel(d["channel"]) not in self.channels:
                results[i] = SendResult(ok=False, error="渠道未开通或通知不存在", retryable=False)
            else:
                by_channel.setdefault(d["channel"], []).append(i)
        for ch, idx in by_channel.items():
            msgs = [OutgoingMessage.from_doc(notes[claimed[i]["notification_id"]]) for i in idx]
            sent = await self.channels[Channel(ch)].send_many(msgs, concurrency=self.concurrency)
            for i, r in zip(idx, sent, strict=True):
                results[i] = r
        return notes, [r for r in results if r is not None]

    async def record(self, token: str, claimed: list[Doc], notes: dict[str, Doc], results: list[SendResult]) -> None:
        now = self.clock()
        attempts = [
            {
                "_id": new_id(),
                "delivery_id": d["_id"],
                "notification_id": d["notification_id"],
                "channel": d["channel"],
                "attempt": d.get("attempts", 0) + 1,
                "at": now,
                "outcome": "delivered" if r.ok else "failed",
                "status": r.status,
                "error": scrub(r.error)[:300] if r.error else None,
                "ms": round(r.ms, 1),
                "by": self.owner,
            }
            for d, r in zip(claimed, results, strict=True)
        ]
        ok = [d for d, r in zip(claimed, results, strict=True) if r.ok]
        failed = [(d, r) for d, r in zip(claimed, results, strict=True) if not r.ok]

        async def work(tx: Tx) -> None:
            await self.repo.insert_attempts(attempts, tx.session)
            held = (
                set(await self.repo.mark_delivered([d["_id"] for d in ok], token=token, at=now, session=tx.session))
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
            for d, r in failed:
                attempt = d.get("attempts", 0) + 1
                error = scrub(r.error or "发送失败")[:300]
                dead = not r.retryable or attempt >= self.max_attempts
                if dead:
                    fields: Doc = {"state": "dead", "dead_at": now, "last_error": error, "claim": None}
                else:
                    delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max, rng=self.rng)
                    fields = {
                        "state": "pending",
                        "next_attempt_at": now + timedelta(seconds=delay),
                        "last_error": error,
                        "claim": None,
                    }
                if await self.repo.mark_failed(d["_id"], token=token, fields=fields, session=tx.session) and dead:
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

        await self.uow.run(work)
        for d, r in zip(claimed, results, strict=True):
            DELIVERIES.labels(d["channel"], "delivered" if r.ok else "failed").inc()

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
            await self.repo.release_claims(owner=self.owner, now=self.clock())

    async def run(self) -> None:
        backoff = 0.1
        pruned = 0.0
        while True:
            try:
                if time.monotonic() - pruned > 3600:
                    pruned = time.monotonic()
                    await self.repo.prune_pushes(self.clock() - timedelta(days=1))
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


# --- acknowledge or escalate ---------------------------------------------------------------------


class Escalator:
    """Finds urgent notifications past their acknowledgement window and tells the next level up
    (grid worker → community cadres → county officers; a level without staff is passed over).
    Each notification moves on exactly once: the move is a compare-and-set in the transaction
    that makes the escalation notices."""

    def __init__(
        self,
        *,
        service: NotificationsService,
        clock: Clock = system_clock,
        scan_seconds: float = 15.0,
        batch: int = 200,
    ) -> None:
        self.service = service
        self.repo = service.repo
        self.uow = service.uow
        self.clock = clock
        self.scan_seconds = scan_seconds
        self.batch = batch
        self._task: asyncio.Task[None] | None = None

    async def scan_once(self) -> int:
        now = self.clock()
        due = await self.repo.due_escalations(now, limit=self.batch)
        moved = 0
        for doc in due:
            if await self.escalate(doc["_id"], now=now):
                moved += 1
        if moved:
            self.service.wake.set()
        return moved

    async def escalate(self, nid: str, *, now: datetime) -> bool:
        async def work(tx: Tx) -> bool:
            doc = await self.repo.get_notification(nid, tx.session)
            if doc is None or doc.get("escalation") != Escalation.PENDING.value or doc.get("acked_at") is not None:
                return False
            directory = SessionDirectory(self.repo, tx.session)
            level, recipients = await escalation_targets(doc["area_path"], doc["depth"], directory)
            outcome = Escalation.ESCALATED if recipients else Escalation.EXHAUSTED
            if not await self.repo.settle_escalation(nid, outcome, now, tx.session):
                return False
            if level is not None:
                who = role_label(doc.get("recipient_role") or "")
                name = doc.get("recipient_name_masked") or ""
                minutes = doc.get("ack_window_minutes") or 0
                text = f"{ESCALATION_PREFIX}{who}{name}未在{minutes}分钟内确认:{doc['text']}"
                window_minutes = doc.get("ack_window_minutes")
                plan = Plan(
                    event={
                        "id": doc["event_id"],
                        "type": doc["event_type"],
                        "occurred_at": doc["occurred_at"],
                        "area_path": doc["area_path"],
                    },
                    rule_id=doc["rule_id"],
                    rule_version=doc["rule_version"],
                    urgency=Urgency(doc["urgency"]),
                    window=timedelta(minutes=window_minutes) if window_minutes else None,
                    recipients=recipients,
                    title=f"{ESCALATION_PREFIX}{doc['title']}",
                    text=text,
                    escalated_from=nid,
                    escalation_depth=level.depth,
                )
                await self.service.notify(tx, [plan], now=now)
            from_level = LEVELS[doc["depth"]] if 0 <= doc["depth"] < len(LEVELS) else Level.BUILDING
            tx.record(
                NotificationEscalated(
                    notification_id=nid,
                    source_event_id=doc["event_id"],
                    source_event_type=doc["event_type"],
                    rule_id=doc["rule_id"],
                    rule_version=doc["rule_version"],
                    from_level=from_level.value,
                    to_level=level.value if level else None,
                    recipients=len(recipients),
                    ack_due_at=doc["ack_due_at"],
                    escalated_at=now,
                ),
                area_path=doc["area_path"],
                aggregate_id=nid,
            )
            return True

        done = await self.uow.run(work)
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


__all__ = ["Dispatcher", "Escalator", "NotificationsConsumer", "NotificationsService", "Routing", "WakingUnitOfWork"]
