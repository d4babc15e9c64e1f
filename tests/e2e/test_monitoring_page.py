"""The monitoring page in Debian's Chromium (Playwright for Python driving /usr/bin/chromium; no
browser download): the registry, the ledger and the read model run as processes, the page is
the one `services/readmodel/web` builds, and what it shows is compared with the read model's API.

Screenshots of every step go to test-artifacts/e2e/monitor-*.png."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from readmodel_service.indicators import INDICATORS
from readmodel_service.indicators.employment import EMPLOYMENT
from readmodel_service.indicators.registry import REGISTRY
from relocation_shared.auth import mint_token
from tests.e2e.conftest import ARTIFACTS, ROOT, Platform, ServiceProcess, start_service
from tests.e2e.test_registry_and_employment import national_id

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("topics")]

WEB = ROOT / "services" / "readmodel" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CITY, XISHUI, RENHUAI = "520300", "520330", "520382"
# The city's counties, from the GB/T 2260 area file the registry is seeded with.
AREAS_FILE = ROOT / "services" / "governance" / "governance_service" / "data" / "zunyi_areas.json"
COUNTIES = {a["code"]: a["name"] for a in json.loads(AREAS_FILE.read_text(encoding="utf-8")) if a["level"] == "county"}
# The page's headline cards: the registry's and employment's headline indicators, in the order the
# read model declares them, with their decimals.
HEADLINE = [i.key for g in (REGISTRY, EMPLOYMENT) for i in g.indicators if i.headline]
DECIMALS = {key: INDICATORS[key].decimals for key in HEADLINE}
PAGE_ERRORS: dict[int, list[str]] = {}  # the script errors of each page, for the failure messages


def shot(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"monitor-{name}.png"


def shown(value: float | None, decimals: int = 0) -> str:
    """A number as the page prints it (zh-CN grouping, fixed decimals, an em dash for none)."""
    return "—" if value is None else f"{value:,.{decimals}f}"


# ---------------------------------------------------------------------------------------------
# the platform: the session's services and a read model of its own, the page built into a temporary folder


@dataclass
class Stack:
    governance: ServiceProcess
    employment: ServiceProcess
    readmodel: ServiceProcess
    secret: str

    def token(self, role: str, *areas: str, secret: str | None = None) -> str:
        return mint_token(
            secret=secret or self.secret, subject="e2e-monitor", roles=[role], areas=list(areas), name="测试用户"
        )

    def headers(self, role: str, *areas: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, *areas)}"}

    def call(self, svc: ServiceProcess, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        r = httpx.request(method, svc.url + path, json=body, headers=headers, timeout=10)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def view(self, area: str, headers: dict[str, str]) -> dict[str, Any]:
        r = httpx.get(f"{self.readmodel.url}/api/v1/views/{area}", headers=headers, timeout=10)
        return r.json() if r.status_code == 200 else {"counters": {}, "children": [], "indicators": []}


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page as `npm run build` makes it, built from the working tree into a temporary folder."""
    if not (WEB / "node_modules" / "echarts").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, capture_output=True)
    out = tmp_path_factory.mktemp("monitor-static")
    subprocess.run(["node", "build.mjs", "--out", str(out)], cwd=WEB, check=True, capture_output=True)
    assert (out / "index.html").is_file() and (out / "vendor" / "echarts.esm.min.js").is_file()
    return out


@pytest.fixture(scope="module")
def stack(platform: Platform, stack_env: dict[str, str], static_dir: Path) -> Iterator[Stack]:
    """The session's registry and employment services (one employment service per broker: a
    second one would consume the same registry events and publish its own employment events for
    them, and every figure would count twice), and a read model of its own serving the page."""
    run = uuid.uuid4().hex[:8]
    readmodel = start_service(
        "readmodel",
        {
            **stack_env,
            "JWT_SECRET": platform.secret,
            "LOG_LEVEL": "INFO",
            "MONGODB_DATABASE": f"e2e_mon_rm_{run}",
            "CONSUMER_GROUP": f"e2e-mon-readmodel-{run}",
            "STATIC_DIR": str(static_dir),
        },
        log_dir=ARTIFACTS / "monitor",
    )
    try:
        readmodel.wait_ready()
        yield Stack(platform.governance, platform.employment, readmodel, secret=platform.secret)
    finally:
        readmodel.stop()


@dataclass
class Place:
    county: str
    town: str
    town_name: str
    community: str
    community_name: str
    grid: str
    building: str


@dataclass
class Seeded:
    xishui: Place
    renhuai: Place
    waiting_resident: str  # a 习水 worker without a job: employed during the live step
    officer: dict[str, str]  # a 习水 county officer's headers


def make_place(stack: Stack, headers: dict[str, str], county: str, town_name: str, community_name: str) -> Place:
    serial = random.randint(100, 899)
    town, community = f"{county}{serial}000", f"{county}{serial}{random.randint(101, 199)}"
    grid, building = f"{community}-G01", f"{community}-G01-B01"
    for code, level, parent, name in [
        (town, "town", county, town_name),
        (community, "community", town, community_name),
        (grid, "grid", community, "一网格"),
        (building, "building", grid, "1栋"),
    ]:
        stack.call(
            stack.governance,
            "POST",
            "/api/v1/areas",
            headers,
            {"code": code, "name": name, "level": level, "parent": parent},
        )
    return Place(county, town, town_name, community, community_name, grid, building)


def register(stack: Stack, headers: dict[str, str], place: Place, kind: str, people: int) -> list[str]:
    hid = stack.call(
        stack.governance,
        "POST",
        "/api/v1/households",
        headers,
        {
            "kind": kind,
            "community_code": place.community,
            "grid_code": place.grid,
            "building_code": place.building,
        },
    )["id"]
    ids = []
    for i in range(people):
        ids.append(
            stack.call(
                stack.governance,
                "POST",
                "/api/v1/residents",
                headers,
                {
                    "household_id": hid,
                    "community_code": place.community,
                    "name": f"测试{i}",
                    "national_id": national_id(place.county),
                    "labour_capacity": True,
                },
            )["id"]
        )
    return ids


def employ(stack: Stack, headers: dict[str, str], resident: str, kind: str, employer: str) -> None:
    # a new consumer group reads the shared topics from their beginning: on a long-lived broker the
    # first resident can take a while to reach the roster (a fresh CI broker: well under a second)
    deadline = time.monotonic() + 40
    while httpx.get(f"{stack.employment.url}/api/v1/roster/residents/{resident}", headers=headers).status_code != 200:
        assert time.monotonic() < deadline, "the employment roster never saw the resident"
        time.sleep(0.05)
    stack.call(
        stack.employment,
        "POST",
        "/api/v1/employments",
        headers,
        {
            "resident_id": resident,
            "employment_type": kind,
            "organised_export": kind == "out_of_province",
            "employer": employer,
            "monthly_wage": 3200,
            "started_on": "2025-05-06",
        },
    )


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Seeded:
    """习水县: two households (one with a worker out of the province, one with nobody employed, a
    zero-employment household); 仁怀市: one household with a worker employed locally."""
    xishui_officer = stack.headers("county_officer", XISHUI)
    renhuai_officer = stack.headers("county_officer", RENHUAI)
    city = stack.headers("city_officer", CITY)
    xishui = make_place(stack, xishui_officer, XISHUI, "东皇街道", "易迁安置社区")
    renhuai = make_place(stack, renhuai_officer, RENHUAI, "苍龙街道", "盐津河安置社区")
    # the topics are shared with earlier runs: count from what the read model holds now
    before = {p.community: stack.view(p.community, city)["counters"] for p in (xishui, renhuai)}
    working = register(stack, xishui_officer, xishui, "registered_poor", 2)
    waiting = register(stack, xishui_officer, xishui, "co_relocated", 1)
    renhuai_worker = register(stack, renhuai_officer, renhuai, "registered_poor", 1)
    employ(stack, xishui_officer, working[0], "out_of_province", "浙江某电子厂")
    employ(stack, renhuai_officer, renhuai_worker[0], "local", "仁怀某酒业公司")
    expected = {xishui.community: (3, 1, 1), renhuai.community: (1, 1, 0)}

    def caught_up() -> bool:
        for community, (labour, employed, zero) in expected.items():
            c = stack.view(community, city)["counters"]
            old = before[community]
            if (
                c.get("labour_force", 0) - old.get("labour_force", 0) != labour
                or c.get("employed", 0) - old.get("employed", 0) != employed
                or c.get("zero_employment_households", 0) - old.get("zero_employment_households", 0) != zero
            ):
                return False
        return True

    deadline = time.monotonic() + 40
    while not caught_up():
        assert time.monotonic() < deadline, "the read model never caught up with the registrations"
        time.sleep(0.1)
    return Seeded(xishui, renhuai, waiting[0], xishui_officer)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def open_page(browser: Browser, stack: Stack) -> tuple[Page, list[str]]:
    """A fresh browser context on the read model's address, and the page's script errors."""
    context = await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    page = await context.new_page()
    errors = PAGE_ERRORS.setdefault(id(page), [])
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(stack.readmodel.url + "/")  # redirects to /monitor/
    return page, errors


async def log_in(page: Page, token: str) -> None:
    await page.fill("#token", token)
    await page.click("#login-form button[type=submit]")


async def rendered(page: Page, area: str) -> None:
    """The page shows `area` and follows it live (the stream has sent its first view)."""
    try:
        await page.wait_for_selector(f"body[data-area='{area}'][data-rendered][data-streamed]", timeout=10_000)
        await page.wait_for_selector("#live[data-state='live']", timeout=5_000)
    except PlaywrightTimeout:
        await page.screenshot(path=shot(f"failed-{area}"), full_page=True)
        state = await page.evaluate(
            "({data: {...document.body.dataset}, error: document.querySelector('#error').textContent})"
        )
        errors = PAGE_ERRORS.get(id(page))
        raise AssertionError(f"the page never showed {area}: {state}, script errors: {errors}") from None


async def page_figures(page: Page) -> dict[str, Any]:
    """What the page shows: the cards, and the children's table row by row."""
    return await page.evaluate(
        """() => ({
          cards: Object.fromEntries([...document.querySelectorAll('#cards .card')].map(
            c => [c.dataset.indicator, c.querySelector('.num').textContent])),
          rows: Object.fromEntries([...document.querySelectorAll('#children tbody tr')].map(
            r => [r.dataset.code, [r.querySelector('th').textContent.replace('›', '').trim(),
                                   ...[...r.querySelectorAll('td')].map(td => td.textContent)]])),
          crumbs: [...document.querySelectorAll('#crumbs a, #crumbs .here')].map(e => e.textContent),
          rateChart: window.monitor.option('#c-rate'),
        })"""
    )


def api_figures(view: dict[str, Any]) -> dict[str, Any]:
    values = {i["key"]: i["value"] for i in view["indicators"]}
    return {
        "cards": {k: shown(values[k], DECIMALS.get(k, 0)) for k in HEADLINE},
        "rows": {
            c["area"]["code"]: [c["area"]["name"], *(shown(c["values"][k], DECIMALS.get(k, 0)) for k in HEADLINE)]
            for c in view["children"]
        },
    }


async def matches_api(page: Page, stack: Stack, area: str, headers: dict[str, str]) -> dict[str, Any]:
    """The page's cards and table equal the API's view of the area (retried briefly: both follow
    the same stream of events)."""
    deadline = time.monotonic() + 5
    while True:
        expected = api_figures(stack.view(area, headers))
        shown_now = await page_figures(page)
        if {k: shown_now[k] for k in ("cards", "rows")} == expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert shown_now["cards"] == expected["cards"]
    assert shown_now["rows"] == expected["rows"]
    return shown_now


# ---------------------------------------------------------------------------------------------


async def test_the_city_overview_drills_down_and_updates_live(browser: Browser, stack: Stack, seeded: Seeded) -> None:
    city = stack.headers("city_officer", CITY)
    page, errors = await open_page(browser, stack)
    assert page.url.endswith("/monitor/")
    await page.wait_for_selector("#login:not([hidden])")
    await page.screenshot(path=shot("01-login"))

    # a token the API does not accept: the page says so, in the API's words, and stays at the login
    await log_in(page, stack.token("city_officer", CITY, secret=secrets.token_hex(32)))
    await page.wait_for_function("document.querySelector('#login-error').textContent.length > 0")
    assert await page.text_content("#login-error") == "身份令牌无效"

    # the city officer starts at the city: every county side by side, as the API has them
    await log_in(page, stack.token("city_officer", CITY))
    await rendered(page, CITY)
    assert await page.evaluate("sessionStorage.length") == 1
    figures = await matches_api(page, stack, CITY, city)
    assert figures["crumbs"] == ["遵义市"]
    assert await page.text_content("#area-name") == "遵义市"
    assert set(COUNTIES) <= set(figures["rows"]), "every county of the city is in the table"
    assert figures["rows"][XISHUI][0] == "习水县" and figures["rows"][RENHUAI][0] == "仁怀市"
    # the chart is a chart of the same figures: one bar per county, in the table's order
    api_city = stack.view(CITY, city)
    children = sorted(api_city["children"], key=lambda c: c["area"]["code"])
    assert figures["rateChart"]["xAxis"][0]["data"] == [c["area"]["name"] for c in children]
    bars = [d["value"] for d in figures["rateChart"]["series"][0]["data"]]
    assert bars == [c["values"]["employment_rate"] for c in children]
    # the zero-employment alert list counts what the API lists; the feed has the latest events
    listed = httpx.get(f"{stack.readmodel.url}/api/v1/zero-employment-households", params={"area": CITY}, headers=city)
    count = len(listed.json())
    await page.wait_for_function(
        f"document.querySelector('#zero-count').textContent === '{'200+' if count >= 200 else count} 户'", timeout=5_000
    )
    assert await page.locator("#zero-list li[data-household]").count() == min(count, 50)
    assert await page.locator("#feed li[data-type='employment.worker_employed']").count() >= 2
    await page.wait_for_timeout(600)  # let the charts finish their entry animation
    await page.screenshot(path=shot("02-city"), full_page=True)

    # 社区治理 and 项目资金: cards with their targets, and per-county charts of the API's figures
    for section, keys in {
        "#cards-community": ["request_completion_rate", "mediation_success_rate", "visits_this_year"],
        "#cards-projects": ["projects", "allocated", "disbursed", "dividends"],
    }.items():
        for key in keys:
            value = next(i["value"] for i in api_city["indicators"] if i["key"] == key)
            shown_value = await page.get_attribute(f"{section} [data-indicator='{key}']", "data-value")
            assert shown_value is not None, key
            if value is None:
                assert shown_value == "", (key, shown_value)
            else:
                assert float(shown_value) == value, (key, shown_value, value)
    assert "目标 ≥ 100" in (
        await page.text_content("#cards-community [data-indicator='request_completion_rate']") or ""
    )
    assert "目标 ≥ 98" in (await page.text_content("#cards-community [data-indicator='mediation_success_rate']") or "")
    names = [c["area"]["name"] for c in children]
    for chart_id, key in (("#c-completion", "request_completion_rate"), ("#c-visits", "visits_this_year")):
        option = await page.evaluate(f"window.monitor.option('{chart_id}')")
        assert option["xAxis"][0]["data"] == names
        assert [d["value"] for d in option["series"][0]["data"]] == [c["values"].get(key) for c in children]
    funds = await page.evaluate("window.monitor.option('#c-funds')")
    assert funds["series"][0]["data"] == [c["values"].get("allocated") or 0 for c in children]
    await page.locator("#projects").scroll_into_view_if_needed()
    await page.screenshot(path=shot("02b-city-community-projects"), full_page=True)

    # drill down: the county, then the town, then back up by the breadcrumb
    await page.click(f"#children tr[data-code='{XISHUI}']")
    await rendered(page, XISHUI)
    figures = await matches_api(page, stack, XISHUI, city)
    assert figures["crumbs"] == ["遵义市", "习水县"]
    assert figures["rows"][seeded.xishui.town][0] == seeded.xishui.town_name
    await page.wait_for_timeout(600)
    await page.screenshot(path=shot("03-county"), full_page=True)

    await page.click(f"#children tr[data-code='{seeded.xishui.town}']")
    await rendered(page, seeded.xishui.town)
    figures = await matches_api(page, stack, seeded.xishui.town, city)
    assert figures["crumbs"] == ["遵义市", "习水县", seeded.xishui.town_name]
    row = figures["rows"][seeded.xishui.community]
    assert row[0] == seeded.xishui.community_name
    # our zero-employment household, placed by its community and building, a few seconds at zero
    alert = page.locator(f"#zero-list li:has-text('{seeded.xishui.community_name} · 1栋')")
    await alert.first.wait_for(timeout=5_000)
    assert await alert.first.locator(".days b").text_content() == "0"
    await page.wait_for_timeout(600)
    await page.screenshot(path=shot("04-town"), full_page=True)

    await page.click(f"#crumbs a[data-code='{CITY}']")
    await rendered(page, CITY)
    await matches_api(page, stack, CITY, city)

    # live: a job recorded through the employment API shows on the page without a reload
    await page.evaluate("window.__sameDocument = true")
    employed_before = await page.get_attribute("#cards [data-indicator='employed']", "data-value")
    zero_before = await page.get_attribute("#cards [data-indicator='zero_employment_households']", "data-value")
    assert employed_before is not None and zero_before is not None
    started = time.monotonic()
    await asyncio.to_thread(
        employ, stack, seeded.officer, seeded.waiting_resident, "assistance_workshop", "习水某帮扶车间"
    )
    await page.wait_for_function(
        f"document.querySelector(\"#cards [data-indicator='employed']\").dataset.value === '{int(employed_before) + 1}'",
        timeout=5_000,
    )
    took = time.monotonic() - started
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    card = page.locator("#cards [data-indicator='employed']")
    assert await card.locator(".num").text_content() == shown(int(employed_before) + 1)
    assert await card.locator(".delta").text_content() == "+1"
    await page.wait_for_function(
        "document.querySelector(\"#cards [data-indicator='zero_employment_households']\").dataset.value"
        f" === '{int(zero_before) - 1}'",
        timeout=5_000,
    )
    await page.wait_for_selector("#feed li:has-text('习水某帮扶车间')", timeout=5_000)
    await page.screenshot(path=shot("05-live"), full_page=True)
    assert took < 5, f"the page showed the job {took:.2f}s after it was recorded"
    await matches_api(page, stack, CITY, city)
    assert errors == []
    await page.context.close()


async def test_a_county_officer_sees_only_their_county(browser: Browser, stack: Stack, seeded: Seeded) -> None:
    renhuai = stack.headers("county_officer", RENHUAI)
    page, errors = await open_page(browser, stack)
    await log_in(page, stack.token("county_officer", RENHUAI))
    await rendered(page, RENHUAI)
    figures = await matches_api(page, stack, RENHUAI, renhuai)
    assert figures["crumbs"] == ["仁怀市"], "nothing above the officer's county"
    assert figures["rows"][seeded.renhuai.town][0] == seeded.renhuai.town_name
    await page.wait_for_timeout(600)
    await page.screenshot(path=shot("06-county-officer"), full_page=True)
    text = await page.inner_text("body")
    assert "习水" not in text and "遵义市" not in text

    # asking for 习水县 by its address: the API's refusal, and none of its figures
    refusal = httpx.get(f"{stack.readmodel.url}/api/v1/views/{XISHUI}", headers=renhuai)
    assert refusal.status_code in (403, 404)
    await page.evaluate(f"location.hash = '#{XISHUI}'")
    await page.wait_for_selector("#error:not([hidden])", timeout=5_000)
    assert await page.text_content("#error") == refusal.json()["message"]
    assert await page.is_hidden("#content")
    assert "习水县" not in await page.inner_text("body")
    await page.screenshot(path=shot("07-refused"), full_page=True)
    assert errors == []
    await page.context.close()
