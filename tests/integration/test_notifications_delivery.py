"""The notifications service's parts on the real broker and MongoDB-protocol server, with a fake
gateway that is a real HTTP server: a redelivered event notifies once, a dispatcher killed
mid-send delivers exactly once after a new one takes over, a gateway that fails three times
gets one delivery, dead letters are replayed, concurrent dispatchers and escalators move each
item once, and the inbox hub pushes a delivery to the cadre's open stream."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from notifications_service.delivery.channels import InboxChannel, SendResult, WebhookChannel
from notifications_service.delivery.dispatcher import Dispatcher
from notifications_service.delivery.domain import Channel
from notifications_service.events import handlers
from notifications_service.inbox.push import InboxHub
from notifications_service.routing.consumer import NotificationsConsumer, WakingUnitOfWork
from notifications_service.wiring import Services, Stores, build_services, ensure_indexes, mongo_stores
from relocation_shared.auth import Principal, Role
from relocation_shared.clock import system_clock
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.events.employment import HouseholdZeroEmploymentCleared, HouseholdZeroEmploymentRaised
from relocation_shared.events.governance import StaffAssigned
from relocation_shared.kafka import make_producer
from relocation_shared.outbox import OUTBOX, UnitOfWork, ensure_outbox_indexes
from relocation_shared.topics import EMPLOYMENT, GOVERNANCE
from tests.context import ctx
from tests.integration.kafka_helpers import start_at_end, wait_for
from tests.integration.notifications_gateway import FakeGateway

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("topics")]

SECRET = "it-webhook-secret"
CITY = Principal(subject="city-op", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))


def place() -> list[str]:
    serial = uuid.uuid4().int % 900 + 100
    community = f"520330{serial:03d}{uuid.uuid4().int % 900 + 100:03d}"
    return ["520000", "520300", "520330", community[:9] + "000", community, f"{community}-G01", f"{community}-G01-B01"]


@pytest.fixture(scope="module")
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway(SECRET) as gw:
        yield gw


@dataclass
class Harness:
    db: Any
    uow: UnitOfWork
    stores: Stores
    service: Services
    gateway: FakeGateway
    path: list[str]

    def dispatcher(self, **kw: Any) -> Dispatcher:
        options: dict[str, Any] = {"backoff_base": 0.02, "backoff_max": 0.1, "max_attempts": 6, "poll_seconds": 0.05}
        options.update(kw)
        secret = options.pop("secret", SECRET)
        return Dispatcher(
            uow=self.uow,
            deliveries=self.stores.deliveries,
            inbox=self.stores.inbox,
            channels={
                Channel.INBOX: InboxChannel(self.db),
                Channel.WEBHOOK: WebhookChannel(url=self.gateway.url(), secret=secret, timeout=2),
            },
            **options,
        )

    def envelope(self, payload: EventPayload, path: list[str] | None = None, aggregate: str = "hh") -> Envelope:
        return CATALOG.envelope(
            payload, producer="it", area_path=path or self.path, aggregate_id=aggregate, occurred_at=system_clock()
        )

    async def handle(self, env: Envelope) -> None:
        payload = CATALOG.payload_of(env)
        await self.uow.run(lambda tx: self.service.routing.on_event(tx, env, payload))

    async def staff(self, subject: str, role: str, depth: int, name: str = "王*") -> StaffAssigned:
        path = self.path[: depth + 1]
        levels = ["province", "city", "county", "town", "community", "grid", "building"]
        p = StaffAssigned(
            staff_id=f"stf-{uuid.uuid4().hex[:12]}",
            subject=subject,
            name_masked=name,
            role=role,
            area_code=path[-1],
            area_level=levels[depth],
        )
        await self.handle(self.envelope(p, path, p.staff_id))
        return p

    async def notes(self, **query: Any) -> list[dict[str, Any]]:
        return await self.db.notifications.find(query).to_list(None)


@pytest.fixture
async def h(mongo_client: Any, gateway: FakeGateway) -> AsyncIterator[Harness]:
    name = f"it_notif_{uuid.uuid4().hex[:10]}"
    db = mongo_client[name]
    await ensure_outbox_indexes(db)
    await ensure_indexes(db)
    uow = UnitOfWork(mongo_client, db, producer="notifications")
    stores = mongo_stores(db)
    service = build_services(
        uow=uow,
        stores=stores,
        available_channels=[Channel.INBOX, Channel.WEBHOOK],
        default_channels=[Channel.INBOX, Channel.WEBHOOK],
    )
    await service.rules.seed_default_rules()
    gateway.fail(0)
    try:
        yield Harness(db=db, uow=uow, stores=stores, service=service, gateway=gateway, path=place())
    finally:
        await mongo_client.drop_database(name)


def raised(hid: str) -> HouseholdZeroEmploymentRaised:
    return HouseholdZeroEmploymentRaised(
        household_id=hid, labour_count=1, since=system_clock(), cause="employment_ended"
    )


def cleared(hid: str) -> HouseholdZeroEmploymentCleared:
    now = system_clock()
    return HouseholdZeroEmploymentCleared(
        household_id=hid, employed_count=1, labour_count=1, zero_since=now, cleared_at=now, cause="worker_employed"
    )


async def publish(producer: AIOKafkaProducer, env: Envelope) -> None:
    await producer.send_and_wait(CATALOG.topic_of(env.type), value=env.to_bytes(), key=env.key)


async def test_a_redelivered_event_notifies_each_cadre_once(h: Harness, bootstrap: str) -> None:
    group = f"it-notif-{uuid.uuid4().hex[:8]}"
    await start_at_end(bootstrap, group, [GOVERNANCE, EMPLOYMENT])
    producer = make_producer(bootstrap, client_id="it-notif")
    await producer.start()
    wake = asyncio.Event()
    consumer = NotificationsConsumer(
        service=h.service.routing,
        group_id=group,
        topics=[GOVERNANCE, EMPLOYMENT],
        bootstrap=bootstrap,
        uow=WakingUnitOfWork(h.uow, wake=wake),
        handlers=handlers(h.service.routing),
        dlq_producer=producer,
    )
    dispatcher = h.dispatcher(wake=wake)
    await consumer.start()
    dispatcher.start()
    try:
        levels = ["province", "city", "county", "town", "community", "grid", "building"]
        for subject, role, depth in [("it-cadre", "community_cadre", 4), ("it-grid", "grid_worker", 5)]:
            p = StaffAssigned(
                staff_id=f"stf-{subject}-{uuid.uuid4().hex[:6]}",
                subject=subject,
                name_masked="王*",
                role=role,
                area_code=h.path[depth],
                area_level=levels[depth],
            )
            await publish(producer, h.envelope(p, h.path[: depth + 1], p.staff_id))
        await wait_for(lambda: _count(h.db.directory, {}, 2), timeout=20)

        hid = uuid.uuid4().hex
        event = h.envelope(raised(hid), aggregate=hid)
        await publish(producer, event)
        await publish(producer, event)  # the relay resent it
        await publish(producer, h.envelope(cleared(hid), aggregate=hid))  # same key: after both
        await wait_for(lambda: _count(h.db.notifications, {"event_type": cleared(hid).event_type}, 2), timeout=20)
        assert len(await h.notes(event_id=event.id)) == 2

        # processed_events lost (say, restored from an older backup): the key still holds
        await h.db.processed_events.delete_one({"_id": event.id})
        await publish(producer, event)
        marker = h.envelope(cleared(hid), aggregate=hid)
        await publish(producer, marker)
        await wait_for(lambda: _count(h.db.notifications, {"event_id": marker.id}, 2), timeout=20)
        assert await h.db.processed_events.find_one({"_id": event.id}) is not None  # it was handled again
        notes = await h.notes(event_id=event.id)
        assert sorted(n["recipient"] for n in notes) == ["it-cadre", "it-grid"]
        assert await h.db.deliveries.count_documents({"notification_id": {"$in": [n["_id"] for n in notes]}}) == 4

        # and each cadre got it once through the gateway and once in the inbox
        await wait_for(lambda: all(h.gateway.deliveries(notification_id=n["_id"]) for n in notes), timeout=10)
        await wait_for(lambda: _count(h.db.notifications, {"event_id": event.id, "inbox_at": {"$ne": None}}, 2))
        for n in notes:
            assert len(h.gateway.hits(n["_id"])) == 1
            body = h.gateway.deliveries(notification_id=n["_id"])[0]
            assert body["recipient"] == n["recipient"] and body["text"].startswith("零就业家庭预警")
    finally:
        await dispatcher.stop()
        await consumer.stop()
        await producer.stop()


async def _count(collection: Any, query: dict[str, Any], n: int) -> bool:
    return bool(await collection.count_documents(query) >= n)


async def one_notification(h: Harness) -> dict[str, Any]:
    await h.staff("u-grid", "grid_worker", 5, "李*")
    hid = uuid.uuid4().hex
    await h.handle(h.envelope(raised(hid), aggregate=hid))
    (note,) = await h.notes(recipient="u-grid")
    return note


async def test_a_dispatcher_killed_mid_send_delivers_exactly_once_after_a_new_one_takes_over(h: Harness) -> None:
    note = await one_notification(h)
    first = h.dispatcher(lease_seconds=30)
    token, claimed = await first.claim()
    assert [d["channel"] for d in claimed] == ["webhook"]  # the inbox was delivered by the routing commit
    await first.send(claimed)  # the gateway accepted it ... and the process died before recording
    assert len(h.gateway.deliveries(notification_id=note["_id"])) == 1
    assert (await h.db.deliveries.find_one({"_id": f"{note['_id']}:webhook"}))["state"] == "sending"

    # a restarted service: its dispatcher finds nothing until the dead one's lease runs out
    later = h.dispatcher(lease_seconds=30)
    assert await later.run_once() == 0
    later.clock = lambda: system_clock() + timedelta(seconds=31)
    assert await later.run_once() == 1

    hits = h.gateway.hits(note["_id"])
    assert [r.status for r in hits] == [200, 200]  # sent twice, with the same idempotency key ...
    assert len(h.gateway.deliveries(notification_id=note["_id"])) == 1  # ... and shown once
    status = await h.service.delivery.status(ctx=ctx(CITY), notification_id=note["_id"])
    webhook = next(d for d in status.deliveries if d.channel is Channel.WEBHOOK)
    assert webhook.state.value == "delivered" and webhook.attempts == 2
    assert [a.outcome for a in webhook.history] == ["interrupted", "delivered"]
    assert webhook.history[0].by == first.owner and webhook.history[1].by == later.owner
    inbox = next(d for d in status.deliveries if d.channel is Channel.INBOX)
    assert inbox.state.value == "delivered" and [a.outcome for a in inbox.history] == ["delivered"]
    # had the first one been slow rather than dead, its late record could not double the
    # delivery: its claim is gone, so it marks nothing and announces nothing
    await first.record(token, claimed, {note["_id"]: note}, [SendResult(ok=True) for _ in claimed])
    assert await h.db[OUTBOX].count_documents({"type": "notifications.delivered"}) == 1  # not two
    assert (await h.db.deliveries.find_one({"_id": f"{note['_id']}:webhook"}))["claimed_by"] == later.owner


async def test_a_gateway_that_fails_three_times_then_succeeds_gets_one_delivery(h: Harness) -> None:
    note = await one_notification(h)
    h.gateway.fail(3)
    dispatcher = h.dispatcher()
    dispatcher.start()
    try:
        await wait_for(lambda: h.gateway.deliveries(notification_id=note["_id"]), timeout=10)
        await wait_for(lambda: _count(h.db.deliveries, {"_id": f"{note['_id']}:webhook", "state": "delivered"}, 1))
    finally:
        await dispatcher.stop()
    assert [r.status for r in h.gateway.hits(note["_id"])] == [503, 503, 503, 200]
    assert len(h.gateway.deliveries(notification_id=note["_id"])) == 1
    attempts = await h.db.attempts.find({"delivery_id": f"{note['_id']}:webhook"}).sort("at", 1).to_list(None)
    assert [(a["attempt"], a["outcome"], a["status"]) for a in attempts] == [
        (1, "failed", 503),
        (2, "failed", 503),
        (3, "failed", 503),
        (4, "delivered", 200),
    ]
    assert all(b["at"] > a["at"] for a, b in itertools.pairwise(attempts))  # backed off
    event = await h.db[OUTBOX].find_one({"type": "notifications.delivered", "value": {"$regex": "webhook"}})
    assert event is not None and '"attempts":4' in event["value"]


async def test_failed_deliveries_land_in_the_dead_letter_list_and_an_operator_replays_them(h: Harness) -> None:
    note = await one_notification(h)
    h.gateway.fail(1000)
    dispatcher = h.dispatcher(max_attempts=3)
    dispatcher.start()
    try:
        await wait_for(lambda: _count(h.db.deliveries, {"state": "dead"}, 1), timeout=10)
        dead = await h.service.delivery.dead_letters(ctx=ctx(CITY), limit=10)
        assert [d.notification_id for d in dead] == [note["_id"]]
        assert dead[0].delivery.attempts == 3 and "503" in (dead[0].delivery.last_error or "")
        assert await h.db[OUTBOX].count_documents({"type": "notifications.dead_lettered"}) == 1
        outsider = Principal(subject="x", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"522700"}))
        assert await h.service.delivery.dead_letters(ctx=ctx(outsider), limit=10) == []

        h.gateway.fail(0)  # the gateway is back
        replayed = await h.service.delivery.replay(ctx=ctx(CITY), delivery_id=dead[0].delivery.id)
        assert replayed.state.value in ("pending", "sending", "delivered")
        await wait_for(lambda: _count(h.db.deliveries, {"_id": dead[0].delivery.id, "state": "delivered"}, 1))
    finally:
        await dispatcher.stop()
    assert len(h.gateway.deliveries(notification_id=note["_id"])) == 1
    outcomes = [
        a["outcome"]
        for a in await h.db.attempts.find({"delivery_id": f"{note['_id']}:webhook"}).sort("at", 1).to_list(None)
    ]
    assert outcomes == ["failed", "failed", "failed", "replayed", "delivered"]
    assert await h.service.delivery.dead_letters(ctx=ctx(CITY), limit=10) == []


async def test_a_wrong_signature_is_not_retried(h: Harness) -> None:
    note = await one_notification(h)
    dispatcher = h.dispatcher(secret="not-the-gateway-secret")
    assert await dispatcher.run_once() == 1
    webhook = await h.db.deliveries.find_one({"_id": f"{note['_id']}:webhook"})
    assert webhook["state"] == "dead" and webhook["attempts"] == 1 and "401" in webhook["last_error"]
    assert h.gateway.deliveries(notification_id=note["_id"]) == []


async def test_concurrent_dispatchers_send_each_delivery_once(h: Harness) -> None:
    await h.staff("u-c1", "community_cadre", 4)
    await h.staff("u-c2", "community_cadre", 4)
    await h.staff("u-g", "grid_worker", 5)
    for _ in range(5):
        hid = uuid.uuid4().hex
        await h.handle(h.envelope(raised(hid), aggregate=hid))
    notes = await h.notes()
    assert len(notes) == 15
    dispatchers = [h.dispatcher() for _ in range(3)]
    await asyncio.gather(*(d.run_once() for d in dispatchers))
    for _ in range(3):
        await asyncio.gather(*(d.run_once() for d in dispatchers))
    for n in notes:
        assert len(h.gateway.hits(n["_id"])) == 1
    assert await h.db.deliveries.count_documents({"state": "delivered"}) == 30
    assert await h.db[OUTBOX].count_documents({"type": "notifications.delivered"}) == 15  # the webhooks


async def test_an_urgent_notification_escalates_once_even_with_two_scanners(h: Harness) -> None:
    note = await one_notification(h)
    await h.staff("u-cadre", "community_cadre", 4, "赵*")
    due = note["ack_due_at"].replace(tzinfo=UTC) + timedelta(seconds=1)
    scanners = [h.service.escalator(clock=lambda: due) for _ in range(2)]
    results = await asyncio.gather(*(s.scan_once() for s in scanners))
    assert sum(results) == 1
    assert (await h.stores.inbox.get_notification(note["_id"]))["escalation"] == "escalated"
    (notice,) = await h.notes(escalated_from=note["_id"])
    assert notice["recipient"] == "u-cadre" and notice["urgency"] == "urgent"
    assert notice["text"].startswith("【升级提醒】网格员李*未在240分钟内确认:零就业家庭预警")
    assert await h.db[OUTBOX].count_documents({"type": "notifications.escalated"}) == 1
    assert sum(await asyncio.gather(*(s.scan_once() for s in scanners))) == 0


async def test_acknowledging_in_time_stops_the_escalation(h: Harness) -> None:
    note = await one_notification(h)
    await h.staff("u-cadre", "community_cadre", 4)
    await h.dispatcher().run_once()
    grid = Principal(subject="u-grid", roles=frozenset({Role.GRID_WORKER}), areas=frozenset({h.path[5]}))
    item = await h.service.inbox.acknowledge(ctx=ctx(grid), notification_id=note["_id"])
    assert item.acked_at is not None and item.read_at is not None
    again = await h.service.inbox.acknowledge(ctx=ctx(grid), notification_id=note["_id"])
    assert again.acked_at == item.acked_at
    due = note["ack_due_at"].replace(tzinfo=UTC) + timedelta(minutes=5)
    assert await h.service.escalator(clock=lambda: due).scan_once() == 0
    assert await h.db[OUTBOX].count_documents({"type": "notifications.acknowledged"}) == 1


async def test_the_inbox_hub_pushes_a_delivery_to_the_recipient_s_stream_only(h: Harness) -> None:
    hub = InboxHub(h.db)
    hub.start()
    try:
        await asyncio.wait_for(hub.ready.wait(), timeout=5)
        mine, theirs = hub.subscribe("u-grid"), hub.subscribe("someone-else")
        note = await one_notification(h)  # the inbox is delivered with the routing commit
        item = await asyncio.wait_for(mine.get(), timeout=5)
        assert item is not None and item.id == note["_id"] and item.text.startswith("零就业家庭预警")
        await asyncio.sleep(0.3)
        assert theirs.empty() and mine.empty()  # pushed once, to its recipient only
    finally:
        await hub.stop()
