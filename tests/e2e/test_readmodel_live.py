"""The read model as a process beside the registry and the ledger: an employment change made
through the employment API shows on the SSE stream and in the county and city views within a
second."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Platform, ServiceProcess, sse, view_of
from tests.e2e.test_registry_and_employment import XISHUI, Client, make_community, national_id, wait_roster

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("topics")]


def counter(view: dict[str, Any], key: str) -> int:
    return int(view["counters"].get(key, 0))


async def test_an_employment_change_reaches_the_stream_and_the_views_within_a_second(
    platform: Platform, readmodel: ServiceProcess
) -> None:
    cadre = Client(platform, "county_officer", XISHUI)
    city = platform.headers("city_officer", "520300")
    place = make_community(cadre, XISHUI)
    hid = cadre.gov("POST", "/api/v1/households", {"kind": "registered_poor", **place}).json()["id"]
    rid = cadre.gov(
        "POST",
        "/api/v1/residents",
        {
            "household_id": hid,
            "community_code": place["community_code"],
            "name": "陈实",
            "national_id": national_id(),
            "labour_capacity": True,
        },
    ).json()["id"]
    wait_roster(cadre, rid)

    def view(area: str) -> dict[str, Any]:
        return view_of(readmodel, area, city)

    # the read model has caught up with the registration (the zero-employment alert is there too)
    deadline = time.monotonic() + 30
    while counter(view(place["community_code"]), "labour_force") < 1:
        assert time.monotonic() < deadline, "the read model never saw the household"
        await asyncio.sleep(0.1)
    county_before, city_before = view(XISHUI), view("520300")
    assert counter(view(place["community_code"]), "zero_employment_households") == 1

    updates: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()

    async def listen() -> None:
        async for kind, data in sse(f"{readmodel.url}/api/v1/stream?area={XISHUI}", city):
            if kind == "view":
                await updates.put((time.monotonic(), data))

    listener = asyncio.create_task(listen())
    try:
        _, first = await asyncio.wait_for(updates.get(), timeout=5)  # the current view on connect
        assert first["area"]["code"] == XISHUI
        started = time.monotonic()
        r = await asyncio.to_thread(
            cadre.emp,
            "POST",
            "/api/v1/employments",
            {
                "resident_id": rid,
                "employment_type": "local",
                "organised_export": False,
                "employer": "习水县某食品厂",
                "monthly_wage": 2800,
                "started_on": "2025-05-06",
            },
        )
        assert r.status_code == 201, r.text
        answered = time.monotonic()
        while True:
            at, data = await asyncio.wait_for(updates.get(), timeout=5)
            if counter(data, "employed") == counter(county_before, "employed") + 1:
                break
        pushed_after = at - answered
    finally:
        listener.cancel()
    assert pushed_after < 1.0, f"the stream carried the change {pushed_after:.3f}s after the API answered"
    assert counter(data, "zero_employment_households") == counter(county_before, "zero_employment_households") - 1
    # the county's children include the town of our community
    assert any(c["area"]["code"] == place["community_code"][:9] + "000" for c in data["children"])

    within = time.monotonic() - started
    county, city_view = view(XISHUI), view("520300")
    assert counter(county, "employed") == counter(county_before, "employed") + 1
    assert counter(city_view, "employed") == counter(city_before, "employed") + 1
    assert counter(city_view, "employed:local") == counter(city_before, "employed:local") + 1
    assert within < 5


def test_the_read_model_is_area_scoped(platform: Platform, readmodel: ServiceProcess) -> None:
    renhuai = platform.headers("county_officer", "520382")
    r = httpx.get(f"{readmodel.url}/api/v1/views/{XISHUI}", headers=renhuai)
    assert r.status_code in (403, 404)
    assert "习水" not in r.text
    r = httpx.get(f"{readmodel.url}/api/v1/zero-employment-households", params={"area": XISHUI}, headers=renhuai)
    assert r.status_code in (403, 404)
    r = httpx.get(f"{readmodel.url}/api/v1/stream", params={"area": XISHUI}, headers=renhuai)
    assert r.status_code in (403, 404)
    assert httpx.get(f"{readmodel.url}/api/v1/views/520300").status_code == 401
