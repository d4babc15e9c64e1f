"""The notifications service as a process beside the registry and the ledger, with a fake
messaging gateway (a real HTTP server in this test process): staff assigned through the
governance API are told about their community; recording the last job loss of a household over
the employment API puts the zero-employment alert on the community cadre's inbox stream within
a second. Also: a cadre reads only their own inbox, rules CRUD for city officers with versions
and refusals naming the field, preferences."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from notifications_service.events import CONSUMED_TOPICS
from tests.e2e.conftest import Platform, ServiceProcess, add_place, running, sse
from tests.e2e.test_registry_and_employment import XISHUI, Client, national_id, wait_roster
from tests.integration.kafka_helpers import start_at_end
from tests.integration.notifications_gateway import FakeGateway

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("topics")]

SECRET = "e2e-webhook-secret"


@pytest.fixture(scope="module")
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway(SECRET) as gw:
        yield gw


@pytest.fixture(scope="module")
def notifications(platform: Platform, stack_env: dict[str, str], gateway: FakeGateway) -> Iterator[ServiceProcess]:
    group = f"e2e-notifications-{platform.run_id}"
    # A shared broker may hold other runs' history (benchmarks publish thousands of staffing
    # events): the service starts at the topics' end, and the test makes what it needs after.
    asyncio.run(start_at_end(stack_env["KAFKA_BOOTSTRAP_SERVERS"], group, list(CONSUMED_TOPICS)))
    env = {
        **stack_env,
        "JWT_SECRET": platform.secret,
        "MONGODB_DATABASE": f"e2e_notif_{platform.run_id}",
        "CONSUMER_GROUP": group,
        "WEBHOOK_URL": gateway.url("/webhook"),
        "WEBHOOK_SECRET": SECRET,
        "DISPATCHER_POLL_SECONDS": "0.2",
    }
    with running("notifications", env) as proc:
        yield proc


class Cadre:
    def __init__(self, platform: Platform, url: str, role: str, area: str, sub: str) -> None:
        self.url = url
        self.sub = sub
        self.headers = {"Authorization": f"Bearer {platform.token(role, area, sub=sub)}"}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.url + path, headers=self.headers, timeout=10, **kw)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers=self.headers, timeout=10)

    def put(self, path: str, body: Any) -> httpx.Response:
        return httpx.put(self.url + path, json=body, headers=self.headers, timeout=10)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.delete(self.url + path, headers=self.headers, timeout=10, **kw)


def make_place(c: Client) -> dict[str, str]:
    """A town, community, grid and building of their own (random codes: few clash with old runs)."""
    rng = random.Random()
    town = f"{XISHUI}{rng.randint(100, 899)}000"
    return add_place(c.gov, XISHUI, town, f"{town[:9]}{rng.randint(100, 999)}")


def wait_until(check: Any, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what}: not met within {timeout}s")


async def test_the_last_job_loss_reaches_the_community_cadre_s_stream_within_a_second(
    platform: Platform, notifications: ServiceProcess, gateway: FakeGateway
) -> None:
    county = Client(platform, "county_officer", XISHUI)
    place = make_place(county)
    community, grid = place["community_code"], place["grid_code"]
    run = uuid.uuid4().hex[:6]
    cadre_sub, grid_sub = f"cadre-{run}", f"grid-{run}"
    for sub, name, role, area in [
        (cadre_sub, "周敏", "community_cadre", community),
        (grid_sub, "吴刚", "grid_worker", grid),
    ]:
        r = county.gov("POST", "/api/v1/staff", {"subject": sub, "name": name, "role": role, "area_code": area})
        assert r.status_code == 201, r.text
    officer = Cadre(platform, notifications.url, "county_officer", XISHUI, "officer")
    directory = wait_until(
        lambda: (lambda r: r.json() if r.status_code == 200 and len(r.json()) == 2 else None)(
            officer.get("/api/v1/staff", params={"area": community})
        ),
        what="the directory learns the staffing",
    )
    assert {(d["subject"], d["role"], d["name_masked"]) for d in directory} == {
        (cadre_sub, "community_cadre", "周*"),
        (grid_sub, "grid_worker", "吴*"),
    }

    cadre = Cadre(platform, notifications.url, "community_cadre", community, cadre_sub)
    grid_worker = Cadre(platform, notifications.url, "grid_worker", grid, grid_sub)
    pushed: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
    ready = asyncio.Event()

    async def listen() -> None:
        async for kind, data in sse(f"{notifications.url}/api/v1/inbox/stream", cadre.headers):
            if kind == "ready":
                ready.set()
            elif kind == "notification":
                await pushed.put((time.monotonic(), data))

    async def next_of(event_type: str, household: str) -> tuple[float, dict[str, Any]]:
        # only this household's: on a shared broker, a ledger replaying the registry's history
        # may raise alerts for other runs' households in a community with the same code
        while True:
            at, data = await asyncio.wait_for(pushed.get(), timeout=15)
            if data["event_type"] == event_type and household in data["text"]:
                return at, data

    listener = asyncio.create_task(listen())
    try:
        await asyncio.wait_for(ready.wait(), timeout=10)
        # a household with one labour-capable resident and no job: the first alert
        hid = county.gov("POST", "/api/v1/households", {"kind": "registered_poor", **place}).json()["id"]
        r = await asyncio.to_thread(
            county.gov,
            "POST",
            "/api/v1/residents",
            {
                "household_id": hid,
                "community_code": community,
                "name": "杨光",
                "national_id": national_id(),
                "labour_capacity": True,
            },
        )
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        _, first = await next_of("employment.household_zero_employment_raised", hid)
        assert hid in first["text"] and first["urgency"] == "urgent"
        await asyncio.to_thread(wait_roster, county, rid)

        r = await asyncio.to_thread(
            county.emp,
            "POST",
            "/api/v1/employments",
            {
                "resident_id": rid,
                "employment_type": "assistance_workshop",
                "employer": "习水县某帮扶车间",
                "monthly_wage": 2600,
                "started_on": "2025-03-01",
            },
        )
        assert r.status_code == 201, r.text
        spell = r.json()["id"]
        _, cleared = await next_of("employment.household_zero_employment_cleared", hid)
        assert cleared["urgency"] == "normal" and "零就业预警解除" in cleared["text"]

        r = await asyncio.to_thread(
            county.emp, "POST", f"/api/v1/employments/{spell}/end", {"ended_on": "2025-10-31", "reason": "车间停产"}
        )
        answered = time.monotonic()
        assert r.status_code == 200, r.text
        at, alert = await next_of("employment.household_zero_employment_raised", hid)
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener  # the stream is closed before anything blocks the loop
    latency = at - answered
    print(f"\nlast job loss → zero-employment alert on the community cadre's stream: {latency * 1000:.0f} ms")
    assert latency < 1.0, f"the alert reached the cadre's stream {latency:.3f}s after the API answered"
    assert alert["text"] == (
        f"零就业家庭预警:测试安置社区一网格1栋一户(户编号{hid})出现零就业,劳动力1人,请及时跟进帮扶"
    )
    assert alert["rule_id"] == "default-zero-employment-raised" and alert["rule_version"] == 1
    assert alert["ack_due_at"] is not None and alert["acked_at"] is None
    assert "杨光" not in json.dumps(alert, ensure_ascii=False)

    # the inbox holds all three; the gateway got the alert once, signed
    inbox = [i for i in cadre.get("/api/v1/inbox").json() if hid in i["text"]]
    assert [i["id"] for i in inbox] == [alert["id"], cleared["id"], first["id"]]  # newest first
    wait_until(lambda: gateway.deliveries(notification_id=alert["id"]), timeout=10, what="webhook delivery")
    assert len(gateway.hits(alert["id"])) == 1
    assert gateway.deliveries(notification_id=alert["id"])[0]["recipient"] == cadre_sub
    status = wait_until(
        lambda: (lambda s: s if all(d["state"] == "delivered" and d["history"] for d in s["deliveries"]) else None)(
            cadre.get(f"/api/v1/notifications/{alert['id']}").json()
        ),
        what="both deliveries recorded",
    )
    assert sorted(d["channel"] for d in status["deliveries"]) == ["inbox", "webhook"]
    assert all(d["history"][-1]["outcome"] == "delivered" for d in status["deliveries"]), status

    # the grid worker got theirs, and cannot see or acknowledge the cadre's
    mine = grid_worker.get("/api/v1/inbox").json()
    assert alert["id"] not in [i["id"] for i in mine]
    assert any(i["event_id"] == alert["event_id"] for i in mine)
    assert grid_worker.post(f"/api/v1/inbox/{alert['id']}/ack").status_code == 404
    assert grid_worker.get(f"/api/v1/notifications/{alert['id']}").status_code == 404
    assert grid_worker.post(f"/api/v1/inbox/{alert['id']}/read").status_code == 404

    r = cadre.post(f"/api/v1/inbox/{alert['id']}/ack")
    assert r.status_code == 200 and r.json()["acked_at"] is not None and r.json()["read_at"] is not None
    assert cadre.get("/api/v1/inbox", params={"unacknowledged": True}).json()[0]["id"] != alert["id"]


def test_rules_are_edited_by_city_officers_in_versions_and_bad_ones_refused(
    platform: Platform, notifications: ServiceProcess
) -> None:
    city = Cadre(platform, notifications.url, "city_officer", "520300", "city-op")
    county = Cadre(platform, notifications.url, "county_officer", XISHUI, "county-op")
    rule = {
        "name": "纠纷登记提醒",
        "event_type": "governance.dispute_registered",
        "conditions": [{"field": "parties_count", "op": "gte", "value": 3}],
        "audience": [{"role": "community_cadre"}],
        "title": "多方纠纷",
        "template": "{community_name}登记一起{kind},当事人{parties_count}方,调解员{mediator_name_masked}",
        "urgency": "urgent",
        "ack_window_minutes": 60,
    }
    assert county.post("/api/v1/rules", rule).status_code == 403
    for bad, field in [
        ({**rule, "event_type": "governance.nothing"}, "event_type"),
        ({**rule, "template": "{mediator_subject}"}, "template"),
        ({**rule, "template": "{no_such_field}"}, "template"),
        ({**rule, "conditions": [{"field": "parties", "op": "gte", "value": 3}]}, "conditions.0.field"),
        ({**rule, "audience": [{"role": "grid_worker", "level": "county"}]}, "audience.0.level"),
        ({**rule, "ack_window_minutes": None}, "ack_window_minutes"),
    ]:
        r = city.post("/api/v1/rules", bad)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    created = city.post("/api/v1/rules", rule)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert created.json()["version"] == 1
    changed = city.put(f"/api/v1/rules/{rid}", {**rule, "title": "多方矛盾纠纷", "expected_version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = city.put(f"/api/v1/rules/{rid}", {**rule, "expected_version": 1})
    assert stale.status_code == 409 and stale.json()["field"] == "expected_version"
    assert city.delete(f"/api/v1/rules/{rid}", params={"expected_version": 2}).json()["deleted"] is True
    versions = city.get(f"/api/v1/rules/{rid}/versions").json()
    assert [(v["version"], v["title"], v["deleted"]) for v in versions] == [
        (1, "多方纠纷", False),
        (2, "多方矛盾纠纷", False),
        (3, "多方矛盾纠纷", True),
    ]
    listed = [r["id"] for r in county.get("/api/v1/rules").json()]
    assert rid not in listed and "default-zero-employment-raised" in listed
    types = {t["event_type"]: t for t in city.get("/api/v1/event-types").json()}
    assert "mediator_subject" not in types["governance.dispute_registered"]["template_fields"]
    assert "mediator_name_masked" in types["governance.dispute_registered"]["template_fields"]


def test_preferences_and_authentication(platform: Platform, notifications: ServiceProcess) -> None:
    me = Cadre(platform, notifications.url, "grid_worker", XISHUI, f"pref-{uuid.uuid4().hex[:6]}")
    first = me.get("/api/v1/preferences").json()
    assert first["default"] is True and first["channels"] == ["inbox", "webhook"]
    assert first["available_channels"] == ["inbox", "webhook"]
    r = me.put("/api/v1/preferences", {"channels": ["sms"]})
    assert r.status_code == 422 and r.json()["field"] == "channels.0"  # no SMS gateway configured here
    r = me.put("/api/v1/preferences", {"channels": ["webhook"], "quiet_hours": {"start": "22:00", "end": "07:00"}})
    assert r.status_code == 200, r.text
    assert r.json()["channels"] == ["inbox", "webhook"] and r.json()["quiet_hours"]["start"] == "22:00:00"
    assert me.get("/api/v1/preferences").json()["default"] is False
    for path in ("/api/v1/inbox", "/api/v1/inbox/stream", "/api/v1/preferences", "/api/v1/rules"):
        assert httpx.get(notifications.url + path, timeout=5).status_code == 401
