"""The projects service as a process beside the registry and the labour-force ledger: a county
approves a project, disburses and pays a dividend, and the events reach Kafka with the area
path and the amounts; jobs are counted from real employment records (a spell recorded in the
employment service, consumed from its topic) and stop counting when the employment ends;
bad input gets a 4xx naming the field and publishes nothing."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from relocation_shared.events import CATALOG, Envelope
from relocation_shared.topics import PROJECTS
from tests.e2e.conftest import Platform, ServiceProcess, running, view_of, wait_caught_up, wait_view
from tests.e2e.test_registry_and_employment import XISHUI, Client, national_id, wait_roster
from tests.integration.kafka_helpers import TopicTap

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("topics")]

RENHUAI = "520382"
WAN = 1_000_000  # fen in 1万元


@pytest.fixture(scope="module")
def projects(platform: Platform, stack_env: dict[str, str]) -> Iterator[ServiceProcess]:
    env = {
        **stack_env,
        "JWT_SECRET": platform.secret,
        "MONGODB_DATABASE": f"e2e_proj_{platform.run_id}",
        "CONSUMER_GROUP": f"e2e-projects-{platform.run_id}",
    }
    with running("projects", env) as service:
        yield service


class Officer(Client):
    def __init__(self, platform: Platform, projects: ServiceProcess, role: str, *areas: str) -> None:
        super().__init__(platform, role, *areas)
        self.projects_url = projects.url

    def proj(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self._call(self.projects_url, method, path, body, **kw)


def places(c: Client, county: str, communities: int = 1) -> list[dict[str, str]]:
    """A town with `communities` communities, each with a grid and a building, in the registry."""
    serial = random.randint(700, 899)
    town = f"{county}{serial}000"
    r = c.gov("POST", "/api/v1/areas", {"code": town, "name": "测试街道", "level": "town", "parent": county})
    assert r.status_code in (201, 409), r.text
    out = []
    for n in range(1, communities + 1):
        community = f"{county}{serial}{n:03d}"
        grid, building = f"{community}-G01", f"{community}-G01-B01"
        for code, level, parent in (
            (community, "community", town),
            (grid, "grid", community),
            (building, "building", grid),
        ):
            r = c.gov("POST", "/api/v1/areas", {"code": code, "name": "测试", "level": level, "parent": parent})
            assert r.status_code in (201, 409), r.text
        out.append({"community_code": community, "grid_code": grid, "building_code": building})
    return out


def source(city: Officer, budget_wan: int) -> str:
    r = city.proj(
        "POST",
        "/api/v1/funding-sources",
        {
            "kind": "central_earmarked",
            "name": "中央财政衔接戴帽资金",
            "area_code": "520300",
            "budgets": [{"year": 2025, "amount_fen": budget_wan * WAN}],
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def approve(county: Officer, source_id: str, community: str, amount_wan: int, **extra: Any) -> dict[str, Any]:
    r = county.proj(
        "POST",
        "/api/v1/projects",
        {
            "name": "习水县食用菌种植基地",
            "kind": "industry",
            "chain": "agriculture",
            "community_codes": [community],
            "allocations": [{"source_id": source_id, "year": 2025, "amount_fen": amount_wan * WAN}],
            "approved_on": "2025-03-01",
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def move(county: Officer, pid: str, status: str, on: str) -> None:
    r = county.proj("POST", f"/api/v1/projects/{pid}/status", {"status": status, "changed_on": on})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == status


def retry_until_known(call: Callable[[], httpx.Response], timeout: float = 20) -> httpx.Response:
    """Repeat a call refused with 404 because this service has not yet consumed the record (a 404
    writes nothing, so repeating it is safe)."""
    deadline = time.monotonic() + timeout
    while True:
        r = call()
        if r.status_code != 404 or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def ours(records: list[Any], pid: str) -> list[Envelope]:
    envs = []
    for rec in records:
        env, _ = CATALOG.parse(rec.value)
        if env.aggregate_id == pid:
            envs.append(env)
    return envs


async def test_approve_disburse_pay_a_dividend_and_see_the_events_on_kafka(
    platform: Platform, projects: ServiceProcess, bootstrap: str
) -> None:
    city = Officer(platform, projects, "city_officer", "520300")
    county = Officer(platform, projects, "county_officer", XISHUI)
    sid = source(city, budget_wan=500)
    community = f"{XISHUI}{random.randint(100, 699)}001"
    town = community[:9] + "000"
    tap = await TopicTap(bootstrap, PROJECTS).start()
    try:
        project = approve(county, sid, community, 100, provincial_demonstration=True)
        pid = project["id"]
        assert project["status"] == "approved" and project["area_path"] == [
            "520000",
            "520300",
            XISHUI,
            town,
            community,
        ]
        move(county, pid, "under_construction", "2025-03-20")
        pay = {"source_id": sid, "year": 2025, "amount_fen": 60 * WAN, "disbursed_on": "2025-04-01"}
        r = county.proj("POST", f"/api/v1/projects/{pid}/disbursements", pay)
        assert r.status_code == 201, r.text
        assert r.json()["amount"] == {"fen": 60 * WAN, "yuan": "600000.00", "wan_yuan": "60.00"}

        # Beyond the allocation, negative, fractional: refused, naming the field.
        for amount, status in ((50 * WAN, 409), (-100, 422), (1.5, 422), ("100", 422)):
            r = county.proj("POST", f"/api/v1/projects/{pid}/disbursements", {**pay, "amount_fen": amount})
            assert r.status_code == status and r.json()["field"] == "amount_fen", r.text
        # No dividend before the project operates; the 409 names the current state.
        dividend = {
            "recipient": "collective",
            "community_code": community,
            "amount_fen": 5 * WAN,
            "year": 2025,
            "paid_on": "2025-10-20",
        }
        r = county.proj("POST", f"/api/v1/projects/{pid}/dividends", dividend)
        assert r.status_code == 409 and r.json()["field"] == "status" and r.json()["current"] == "under_construction"

        move(county, pid, "operating", "2025-09-01")
        r = county.proj("POST", f"/api/v1/projects/{pid}/status", {"status": "under_construction"})
        assert r.status_code == 409 and r.json()["current"] == "operating", r.text
        r = county.proj("POST", f"/api/v1/projects/{pid}/dividends", dividend)
        assert r.status_code == 201, r.text
        r = county.proj("POST", f"/api/v1/projects/{pid}/dividends", {**dividend, "community_code": f"{XISHUI}999999"})
        assert r.status_code == 422 and r.json()["field"] == "community_code"

        # Another county's officer: the project does not exist for them; a query into Xishui is forbidden.
        renhuai = Officer(platform, projects, "county_officer", RENHUAI)
        assert renhuai.proj("GET", f"/api/v1/projects/{pid}").status_code == 404
        assert renhuai.proj("POST", f"/api/v1/projects/{pid}/dividends", dividend).status_code == 404
        assert renhuai.proj("GET", "/api/v1/summary", params={"area": XISHUI}).status_code == 403

        records = await tap.read(until=lambda rs: len(ours(rs, pid)) >= 5, timeout=10, settle=0.5)
    finally:
        await tap.stop()
    envs = ours(records, pid)
    assert [e.type for e in envs] == [
        "projects.project_approved",
        "projects.status_changed",
        "projects.funds_disbursed",
        "projects.status_changed",
        "projects.dividend_paid",
    ]
    assert all(list(e.area_path) == ["520000", "520300", XISHUI, town, community] for e in envs)
    approved, _, disbursed, _, paid = (e.payload for e in envs)
    assert approved["allocated_fen"] == 100 * WAN and approved["source_kinds"] == ["central_earmarked"]
    assert approved["chain"] == "agriculture" and approved["provincial_demonstration"] is True
    assert disbursed["amount_fen"] == 60 * WAN and disbursed["source_kind"] == "central_earmarked"
    assert disbursed["allocation_remaining_fen"] == 40 * WAN
    assert paid["amount_fen"] == 5 * WAN and paid["recipient"] == "collective"

    summary = county.proj("GET", "/api/v1/summary", params={"area": community}).json()
    central = next(f for f in summary["by_source_kind"] if f["source_kind"] == "central_earmarked")
    assert central["projects"] == 1 and central["demonstration_projects"] == 1
    assert central["disbursed"]["fen"] == 60 * WAN and central["dividends_paid"]["wan_yuan"] == "5.00"


async def test_jobs_are_counted_from_employment_records_and_stop_when_employment_ends(
    platform: Platform, projects: ServiceProcess, bootstrap: str
) -> None:
    city = Officer(platform, projects, "city_officer", "520300")
    county = Officer(platform, projects, "county_officer", XISHUI)
    served, elsewhere = places(county, XISHUI, communities=2)
    community = served["community_code"]
    households = []
    for place in (served, elsewhere):
        r = county.gov("POST", "/api/v1/households", {"kind": "registered_poor", **place, "room": "101"})
        assert r.status_code == 201, r.text
        households.append(r.json()["id"])
    r = county.gov(
        "POST",
        "/api/v1/residents",
        {
            "household_id": households[0],
            "community_code": community,
            "name": "王小明",
            "national_id": national_id(),
            "labour_capacity": True,
        },
    )
    assert r.status_code == 201, r.text
    resident = r.json()["id"]
    wait_roster(county, resident)
    r = county.emp(
        "POST",
        "/api/v1/employments",
        {
            "resident_id": resident,
            "employment_type": "local",
            "employer": "贵州骏华实业有限公司",
            "monthly_wage": 3500,
            "started_on": "2025-05-01",
        },
    )
    assert r.status_code == 201, r.text
    spell = r.json()["id"]

    pid = approve(county, source(city, budget_wan=500), community, 100)["id"]
    move(county, pid, "under_construction", "2025-03-20")
    tap = await TopicTap(bootstrap, PROJECTS).start()
    try:
        # The link waits for the spell to arrive from the employment topic.
        r = retry_until_known(lambda: county.proj("POST", f"/api/v1/projects/{pid}/jobs", {"spell_id": spell}))
        assert r.status_code == 201, r.text
        assert county.proj("GET", f"/api/v1/projects/{pid}").json()["jobs"] == 1
        r = county.proj("POST", f"/api/v1/projects/{pid}/jobs", {"spell_id": spell})
        assert r.status_code == 409 and r.json()["field"] == "spell_id"

        # Dividends to households: only to households of the project's communities.
        move(county, pid, "operating", "2025-09-01")
        to_household = {"recipient": "household", "amount_fen": 2000 * 100, "year": 2025, "paid_on": "2025-12-20"}
        r = retry_until_known(
            lambda: county.proj(
                "POST", f"/api/v1/projects/{pid}/dividends", {**to_household, "household_id": households[0]}
            )
        )
        assert r.status_code == 201, r.text
        r = retry_until_known(
            lambda: county.proj(
                "POST", f"/api/v1/projects/{pid}/dividends", {**to_household, "household_id": households[1]}
            )
        )
        assert r.status_code == 422 and r.json()["field"] == "household_id", r.text

        r = county.emp("POST", f"/api/v1/employments/{spell}/end", {"ended_on": "2025-11-30", "reason": "合同到期"})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 15
        while county.proj("GET", f"/api/v1/projects/{pid}").json()["jobs"] != 0:
            assert time.monotonic() < deadline, "the ended employment still counts"
            time.sleep(0.1)
        records = await tap.read(
            until=lambda rs: "projects.job_unlinked" in [e.type for e in ours(rs, pid)], timeout=10
        )
    finally:
        await tap.stop()
    types = [e.type for e in ours(records, pid)]
    assert types == [
        "projects.job_linked",
        "projects.status_changed",
        "projects.dividend_paid",
        "projects.job_unlinked",
    ]
    unlinked = ours(records, pid)[-1]
    assert unlinked.payload["reason"] == "employment_ended" and unlinked.payload["jobs"] == 0
    assert unlinked.area_path[4] == community
    paid = ours(records, pid)[2].payload
    assert paid["household_id"] == households[0] and paid["households_benefiting_delta"] == 1

    summary = county.proj("GET", "/api/v1/summary", params={"area": community}).json()
    assert summary["total"]["jobs"] == 0 and summary["total"]["households_benefiting"] == 1


def test_the_county_and_city_views_follow_the_money(
    platform: Platform, projects: ServiceProcess, readmodel: ServiceProcess
) -> None:
    """Approve, disburse, operate, pay a dividend: the read model's community, county and city views
    move by exactly those amounts (万元 as officials read them) and the project counts by status."""
    city = Officer(platform, projects, "city_officer", "520300")
    county = Officer(platform, projects, "county_officer", XISHUI)
    headers = platform.headers("city_officer", "520300")
    sid = source(city, budget_wan=300)
    community = f"{XISHUI}{random.randint(100, 699)}002"
    wait_caught_up(readmodel)
    before = {a: view_of(readmodel, a, headers)["counters"] for a in (XISHUI, "520300")}

    pid = approve(county, sid, community, 120)["id"]
    move(county, pid, "under_construction", "2025-03-20")
    pay = {"source_id": sid, "year": 2025, "amount_fen": 45 * WAN, "disbursed_on": "2025-04-01"}
    assert county.proj("POST", f"/api/v1/projects/{pid}/disbursements", pay).status_code == 201
    move(county, pid, "operating", "2025-09-01")
    dividend = {
        "recipient": "collective",
        "community_code": community,
        "amount_fen": 3 * WAN,
        "year": 2025,
        "paid_on": "2025-10-20",
    }
    assert county.proj("POST", f"/api/v1/projects/{pid}/dividends", dividend).status_code == 201

    expected = {
        "projects": 1,
        "projects:status:operating": 1,
        "projects:chain:agriculture": 1,
        "allocated_fen": 120 * WAN,
        "allocated_fen:central_earmarked": 120 * WAN,
        "disbursed_fen": 45 * WAN,
        "dividends_fen": 3 * WAN,
        "dividends_fen:collective": 3 * WAN,
    }
    here = wait_view(
        readmodel, community, headers, lambda v: all(v["counters"].get(k, 0) == n for k, n in expected.items())
    )
    assert here["values"]["allocated"] == 120.0 and here["values"]["disbursed"] == 45.0
    assert here["values"]["disbursement_rate"] == 37.5 and here["values"]["dividends"] == 3.0
    assert here["counters"].get("projects:status:approved", 0) == 0
    for area in (XISHUI, "520300"):
        old = before[area]
        wait_view(
            readmodel,
            area,
            headers,
            lambda v, old=old: all(v["counters"].get(k, 0) - old.get(k, 0) == n for k, n in expected.items()),
            timeout=20,
        )
