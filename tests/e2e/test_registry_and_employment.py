"""Both services as processes over HTTP with tokens: register, employ, end employment, and see
the zero-employment alert on Kafka through a plain consumer; area scope; bad input."""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

import httpx
import pytest

from relocation_shared.events import CATALOG
from relocation_shared.pii import check_digit
from relocation_shared.topics import EMPLOYMENT, GOVERNANCE
from tests.e2e.conftest import Platform, add_place
from tests.integration.kafka_helpers import TopicTap

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("topics")]

XISHUI, RENHUAI = "520330", "520382"


def national_id(region: str = XISHUI, born: str = "19900101") -> str:
    first17 = f"{region}{born}{random.randint(100, 999)}"
    return first17 + check_digit(first17)


def phone() -> str:
    return f"139{random.randint(10_000_000, 99_999_999)}"


class Client:
    def __init__(self, platform: Platform, role: str, *areas: str) -> None:
        self.p = platform
        self.headers = platform.headers(role, *areas)

    def gov(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self._call(self.p.governance.url, method, path, body, **kw)

    def emp(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self._call(self.p.employment.url, method, path, body, **kw)

    def _call(
        self, base: str, method: str, path: str, body: Any, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return httpx.request(
            method, base + path, json=body, headers={**self.headers, **(headers or {})}, timeout=10, **kw
        )


def make_community(c: Client, county: str) -> dict[str, str]:
    serial = random.randint(900, 999)
    return add_place(c.gov, county, f"{county}{serial}000", f"{county}{serial}001")


def wait_roster(c: Client, resident_id: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if c.emp("GET", f"/api/v1/roster/residents/{resident_id}").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError("the employment roster never saw the resident")


def events_of(records: list[Any], household_id: str) -> list[str]:
    out = []
    for r in records:
        env, _ = CATALOG.parse(r.value)
        if env.aggregate_id == household_id:
            out.append(env.type)
    return out


async def test_register_employ_end_raises_zero_employment_on_the_bus(platform: Platform, bootstrap: str) -> None:
    cadre = Client(platform, "county_officer", XISHUI)
    place = make_community(cadre, XISHUI)
    r = cadre.gov("POST", "/api/v1/households", {"kind": "registered_poor", **place, "room": "302"})
    assert r.status_code == 201, r.text
    hid = r.json()["id"]
    raw_id, raw_phone = national_id(), phone()
    r = cadre.gov(
        "POST",
        "/api/v1/residents",
        {
            "household_id": hid,
            "community_code": place["community_code"],
            "name": "王小明",
            "national_id": raw_id,
            "phone": raw_phone,
            "labour_capacity": True,
        },
    )
    assert r.status_code == 201, r.text
    resident = r.json()
    assert raw_id not in r.text and raw_phone not in r.text
    assert resident["national_id_masked"] == raw_id[:6] + "********" + raw_id[-4:]
    rid = resident["id"]
    wait_roster(cadre, rid)

    # The household has labour force and nobody employed: it is a zero-employment household.
    state = cadre.emp("GET", f"/api/v1/households/{hid}/employment").json()
    assert state["zero_employment"] is True and state["labour_count"] == 1

    tap = await TopicTap(bootstrap, EMPLOYMENT).start()
    try:
        r = cadre.emp(
            "POST",
            "/api/v1/employments",
            {
                "resident_id": rid,
                "employment_type": "assistance_workshop",
                "organised_export": False,
                "employer": "贵州骏华实业有限公司",
                "destination": "习水县",
                "monthly_wage": 3500,
                "started_on": "2025-03-01",
            },
        )
        assert r.status_code == 201, r.text
        spell = r.json()
        assert cadre.emp("GET", f"/api/v1/households/{hid}/employment").json()["zero_employment"] is False

        # A second open spell for the same worker is refused.
        r2 = cadre.emp(
            "POST",
            "/api/v1/employments",
            {
                "resident_id": rid,
                "employment_type": "local",
                "employer": "x",
                "monthly_wage": 1,
                "started_on": "2025-04-01",
            },
        )
        assert r2.status_code == 409 and r2.json()["field"] == "resident_id"

        r = cadre.emp("POST", f"/api/v1/employments/{spell['id']}/end", {"ended_on": "2025-02-01", "reason": "x"})
        assert r.status_code == 422 and r.json()["field"] == "ended_on"

        ended_at = time.monotonic()
        r = cadre.emp(
            "POST", f"/api/v1/employments/{spell['id']}/end", {"ended_on": "2025-10-31", "reason": "车间停产"}
        )
        assert r.status_code == 200, r.text
        records = await tap.read(
            until=lambda rs: "employment.household_zero_employment_raised" in events_of(rs, hid), timeout=5
        )
        latency = time.monotonic() - ended_at
    finally:
        await tap.stop()
    assert events_of(records, hid) == [
        "employment.worker_employed",
        "employment.household_zero_employment_cleared",
        "employment.employment_ended",
        "employment.household_zero_employment_raised",
    ]
    assert latency < 1.0, f"the alert reached the bus {latency:.3f}s after the response"
    for rec in records:
        assert raw_id.encode() not in rec.value and raw_phone.encode() not in rec.value

    listed = cadre.emp("GET", "/api/v1/zero-employment-households", params={"area": XISHUI}).json()
    assert hid in [h["household_id"] for h in listed]


def test_a_county_officer_cannot_read_or_write_another_county(platform: Platform) -> None:
    renhuai = Client(platform, "county_officer", RENHUAI)
    xishui = Client(platform, "county_officer", XISHUI)
    place = make_community(renhuai, RENHUAI)
    hid = renhuai.gov("POST", "/api/v1/households", {"kind": "co_relocated", **place}).json()["id"]
    r = renhuai.gov(
        "POST",
        "/api/v1/residents",
        {
            "household_id": hid,
            "community_code": place["community_code"],
            "name": "李四",
            "national_id": national_id(RENHUAI),
            "labour_capacity": True,
        },
    )
    rid = r.json()["id"]
    wait_roster(renhuai, rid)

    # reads: another county's records do not exist for this officer
    assert xishui.gov("GET", f"/api/v1/households/{hid}").status_code == 404
    assert xishui.gov("GET", f"/api/v1/residents/{rid}").status_code == 404
    assert xishui.gov("GET", f"/api/v1/areas/{place['community_code']}").status_code == 404
    assert xishui.gov("GET", "/api/v1/households", params={"area": RENHUAI}).status_code == 403
    assert xishui.emp("GET", f"/api/v1/households/{hid}/employment").status_code == 404
    assert xishui.emp("GET", f"/api/v1/roster/residents/{rid}").status_code == 404
    assert xishui.emp("GET", "/api/v1/zero-employment-households", params={"area": RENHUAI}).status_code == 403
    # writes: refused, and nothing changes
    r = xishui.gov("POST", "/api/v1/households", {"kind": "co_relocated", **place})
    assert r.status_code == 403 and r.json()["field"] == "community_code"
    r = xishui.gov(
        "POST",
        "/api/v1/residents",
        {
            "household_id": hid,
            "community_code": place["community_code"],
            "name": "赵五",
            "national_id": national_id(RENHUAI),
            "labour_capacity": True,
        },
    )
    assert r.status_code == 403
    r = xishui.emp(
        "POST",
        "/api/v1/employments",
        {
            "resident_id": rid,
            "employment_type": "local",
            "employer": "x",
            "monthly_wage": 2000,
            "started_on": "2025-01-01",
        },
    )
    assert r.status_code == 403 and r.json()["field"] == "resident_id"
    assert xishui.gov("PATCH", f"/api/v1/residents/{rid}", {"labour_capacity": False}).status_code == 404
    household = renhuai.gov("GET", f"/api/v1/households/{hid}").json()
    assert len(household["residents"]) == 1
    assert renhuai.emp("GET", f"/api/v1/households/{hid}/employment").json()["employed_count"] == 0
    # without a token, nothing at all
    assert httpx.get(f"{platform.governance.url}/api/v1/households/{hid}").status_code == 401
    # the commission may look, not write
    viewer = Client(platform, "commission_viewer", "520300")
    assert viewer.gov("GET", f"/api/v1/households/{hid}").status_code == 200
    assert viewer.gov("POST", "/api/v1/households", {"kind": "co_relocated", **place}).status_code == 403


async def test_bad_input_is_refused_naming_the_field_and_nothing_is_published(
    platform: Platform, bootstrap: str
) -> None:
    cadre = Client(platform, "county_officer", XISHUI)
    place = make_community(cadre, XISHUI)
    other = make_community(cadre, XISHUI)
    while other["community_code"] == place["community_code"]:
        other = make_community(cadre, XISHUI)
    hid = cadre.gov("POST", "/api/v1/households", {"kind": "registered_poor", **place}).json()["id"]
    tap = await TopicTap(bootstrap, GOVERNANCE).start()
    marker = uuid.uuid4().hex
    valid_id = national_id()
    bad_id = valid_id[:-1] + ("0" if valid_id.endswith("1") else "1")  # the same ID, its check digit wrong
    good_person = {
        "household_id": hid,
        "community_code": place["community_code"],
        "name": "周六",
        "labour_capacity": True,
    }
    cases = [
        ("POST", "/api/v1/residents", {**good_person, "national_id": "52033019900101123"}, 422, "national_id"),
        ("POST", "/api/v1/residents", {**good_person, "national_id": bad_id}, 422, "national_id"),
        ("POST", "/api/v1/residents", {**good_person, "national_id": national_id(), "phone": "12345"}, 422, "phone"),
        (
            "POST",
            "/api/v1/residents",
            {**good_person, "community_code": other["community_code"], "national_id": national_id()},
            422,
            "household_id",
        ),
        (
            "POST",
            "/api/v1/households",
            {"kind": "registered_poor", **place, "community_code": "520330999999"},
            422,
            "community_code",
        ),
        (
            "POST",
            "/api/v1/households",
            {"kind": "registered_poor", **place, "grid_code": other["grid_code"]},
            422,
            "grid_code",
        ),
        ("POST", "/api/v1/households", {"kind": "registered_poor", **place, "colour": "red"}, 422, "colour"),
        ("POST", "/api/v1/households", {"kind": "rich", **place}, 422, "kind"),
        (
            "POST",
            "/api/v1/areas",
            {"code": "520330777000", "name": "x", "level": "town", "parent": "529999"},
            422,
            "parent",
        ),
    ]
    try:
        for method, path, body, status, field in cases:
            r = cadre.gov(method, path, body, headers={**cadre.headers, "x-request-id": marker})
            assert r.status_code == status, (path, body, r.text)
            assert r.json()["field"] == field, r.text
            assert r.json()["message"]
        r = httpx.post(
            platform.governance.url + "/api/v1/residents",
            content=b'{"household_id": "x", ',
            headers={**cadre.headers, "content-type": "application/json", "x-request-id": marker},
        )
        assert r.status_code == 422 and "JSON" in r.json()["message"]
        r = httpx.post(
            platform.governance.url + "/api/v1/residents/batch",
            content=json.dumps({"items": [good_person] * 20000}).encode(),
            headers={**cadre.headers, "content-type": "application/json", "x-request-id": marker},
        )
        assert r.status_code == 413 and r.json()["field"] == "body"
        records = await tap.read(until=lambda rs: False, timeout=1.5)
    finally:
        await tap.stop()
    assert not [r for r in records if json.loads(r.value).get("correlation_id") == marker]
    assert cadre.gov("GET", f"/api/v1/households/{hid}").json()["residents"] == []


async def test_a_batch_keeps_good_rows_and_reports_each_bad_one(platform: Platform) -> None:
    cadre = Client(platform, "community_cadre", XISHUI)
    place = make_community(cadre, XISHUI)
    hid = cadre.gov("POST", "/api/v1/households", {"kind": "co_relocated", **place}).json()["id"]
    dup = national_id()
    row = {"household_id": hid, "community_code": place["community_code"], "labour_capacity": True}
    r = cadre.gov(
        "POST",
        "/api/v1/residents/batch",
        {
            "items": [
                {**row, "name": "甲", "national_id": national_id()},
                {**row, "name": "乙", "national_id": "123"},
                {**row, "name": "丙", "national_id": dup},
                {**row, "name": "丁", "national_id": dup},
                {**row, "household_id": "nope", "name": "戊", "national_id": national_id()},
            ]
        },
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert [a["index"] for a in result["accepted"]] == [0, 2]
    assert [(x["index"], x["field"], x["error"]) for x in result["rejected"]] == [
        (1, "national_id", "invalid"),
        (3, "national_id", "conflict"),
        (4, "household_id", "not_found"),
    ]
    assert len(cadre.gov("GET", f"/api/v1/households/{hid}").json()["residents"]) == 2


def test_a_household_batch_sent_twice_with_one_idempotency_key_registers_once(platform: Platform) -> None:
    cadre = Client(platform, "county_officer", XISHUI)
    place = make_community(cadre, XISHUI)
    before = len(cadre.gov("GET", f"/api/v1/households?area={place['community_code']}&limit=500").json())
    rows = {"items": [{"kind": "registered_poor", **place, "room": f"9-{i}"} for i in range(3)]}
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
    first = cadre.gov("POST", "/api/v1/households/batch", rows, headers=key)
    again = cadre.gov("POST", "/api/v1/households/batch", rows, headers=key)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json() and len(first.json()["accepted"]) == 3
    listed = cadre.gov("GET", f"/api/v1/households?area={place['community_code']}&limit=500").json()
    assert len(listed) == before + 3

    other = cadre.gov("POST", "/api/v1/households/batch", {"items": rows["items"][:1]}, headers=key)
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key", other.text
    assert other.json()["error"] == "conflict" and "幂等键" in other.json()["message"]
    assert other.headers["x-request-id"]
    bad = cadre.gov("POST", "/api/v1/households/batch", rows, headers={"Idempotency-Key": "short"})
    assert bad.status_code == 422, bad.text


def test_logs_never_hold_a_raw_id_or_phone_number(platform: Platform) -> None:
    import re

    from relocation_shared.pii import contains_pii

    for log in platform.logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        assert text, f"{log} is empty"
        for line in text.splitlines():
            assert not contains_pii(line), f"{log.name}: {line[:200]}"
            if line.startswith("{"):
                assert re.search(r'"(request_id|service)"', line), line


def test_metrics_and_health(platform: Platform) -> None:
    for svc in (platform.governance, platform.employment):
        assert httpx.get(svc.url + "/healthz").json() == {"status": "ok"}
        ready = httpx.get(svc.url + "/readyz").json()
        assert ready["checks"] == {"mongodb": "ok", "kafka": "ok"}
        metrics = httpx.get(svc.url + "/metrics").text
        assert "http_requests_total" in metrics
    assert "outbox_published_total" in httpx.get(platform.governance.url + "/metrics").text
    assert "consumer_events_processed_total" in httpx.get(platform.employment.url + "/metrics").text
