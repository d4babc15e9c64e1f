"""The city report's figures (遵义市, section 三), reproduced: a generated dataset of the 604
earmarked-fund projects and the 31 city special-fund projects is loaded through the service
layer (real UnitOfWork, real MongoDB-protocol server), and GET /api/v1/summary?area=520300
shows exactly the report's totals, in fen and in yuan; the counties add up to the city."""

from __future__ import annotations

import secrets
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from projects_service.config import Settings
from projects_service.main import create_app
from projects_service.reports.domain import COUNT_FIGURES, MONEY_FIGURES
from projects_service.wiring import Services, build_services, ensure_indexes, mongo_stores
from relocation_shared.auth import Principal, Role, mint_token
from relocation_shared.clock import system_clock
from relocation_shared.outbox import UnitOfWork, ensure_outbox_indexes
from tests.context import ctx

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import demo_projects as demo

pytestmark = pytest.mark.integration

CITY = Principal(subject="loader", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))


@pytest.fixture(scope="module")
async def loaded(mongo_uri: str) -> Any:
    from relocation_shared.mongo import make_client

    client = make_client(mongo_uri, app_name="tests-seed")
    name = f"it_projects_seed_{uuid.uuid4().hex[:10]}"
    db = client[name]
    await ensure_outbox_indexes(db)
    await ensure_indexes(db)
    service = build_services(
        uow=UnitOfWork(client, db, producer="projects"), stores=mongo_stores(db), clock=system_clock
    )
    dataset = demo.generate(scale=1.0)
    await demo.load_into_service(service, CITY, dataset)
    try:
        yield service, dataset
    finally:
        await client.drop_database(name)
        await client.close()


async def summary_over_http(service: Services, area: str) -> dict[str, Any]:
    secret = secrets.token_hex(16)
    app = create_app(Settings(jwt_secret=secret))
    service.attach(app)  # the routes' dependencies; no Kafka is needed to read
    token = mint_token(secret=secret, subject="commission", roles=["commission_viewer"], areas=["520300"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://projects") as client:
        r = await client.get("/api/v1/summary", params={"area": area}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def money(fen: int, yuan: str, wan: str) -> dict[str, Any]:
    return {"fen": fen, "yuan": yuan, "wan_yuan": wan}


async def test_the_city_summary_reproduces_the_report(loaded: Any) -> None:
    service, dataset = loaded
    s = await summary_over_http(service, "520300")
    by_kind = {f["source_kind"]: f for f in s["by_source_kind"]}

    central = by_kind["central_earmarked"]
    assert central["label"] == "中央财政衔接戴帽资金"
    assert central["projects"] == 604
    assert central["allocated"] == money(68_000_000_000, "680000000.00", "68000.00")  # 6.8亿元
    assert central["industry_projects"] == 193
    assert central["industry_allocated"] == money(24_000_000_000, "240000000.00", "24000.00")  # 2.4亿元
    assert central["dividends_paid"] == money(1_449_170_000, "14491700.00", "1449.17")  # 1449.17万元
    assert central["jobs"] == 5509
    assert central["demonstration_projects"] == 9

    city = by_kind["city_special"]
    assert city["label"] == "市级专项资金"
    assert city["projects"] == 31
    assert city["allocated"] == money(6_400_000_000, "64000000.00", "6400.00")  # 6400万元
    assert city["collective_assets"] == money(6_400_000_000, "64000000.00", "6400.00")
    assert city["collective_income"] == money(149_540_000, "1495400.00", "149.54")  # 149.54万元
    assert city["jobs"] == 555

    # What the report does not give comes out as the dataset made it.
    for kind in ("central_earmarked", "city_special"):
        expected = dataset.expected[kind]
        assert by_kind[kind]["budget"]["fen"] == expected["budget"]
        assert by_kind[kind]["disbursed"]["fen"] == expected["disbursed"]
        assert by_kind[kind]["households_benefiting"] == expected["households_benefiting"]
    assert by_kind["other"]["projects"] == 0 and by_kind["other"]["allocated"]["fen"] == 0

    total = s["total"]
    assert total["projects"] == 635 and total["jobs"] == 5509 + 555
    # The jobs are employment records: open spells linked to the projects.
    spells = service.jobs.jobs.db.spells  # the MongoJobsStore's collection
    assert await spells.count_documents({"open": True, "project_id": {"$ne": None}}) == 5509 + 555
    assert total["allocated"]["fen"] == 68_000_000_000 + 6_400_000_000
    assert total["dividends_paid"]["fen"] == 1_449_170_000
    assert total["collective_income"]["fen"] == 149_540_000
    assert sum(s["projects_by_status"].values()) == 635 and s["projects_by_status"]["approved"] == 0
    assert sum(s["projects_by_chain"].values()) == 635
    assert s["projects_by_chain"]["none"] == 604 - 193


async def test_the_counties_add_up_to_the_city(loaded: Any) -> None:
    service, _ = loaded
    city = await service.reports.summary(ctx=ctx(CITY), area="520300")
    counties = [await service.reports.summary(ctx=ctx(CITY), area=code) for code in demo.COUNTIES]
    for field in MONEY_FIGURES:
        if field != "budget":  # below
            assert sum(getattr(c.total, field).fen for c in counties) == getattr(city.total, field).fen, field
    for field in COUNT_FIGURES:
        assert sum(getattr(c.total, field) for c in counties) == getattr(city.total, field), field
    # The nine demonstration sites are in the nine counties the report names.
    demonstration = {code for code, c in zip(demo.COUNTIES, counties, strict=True) if c.total.demonstration_projects}
    assert demonstration == set(demo.DEMONSTRATION_COUNTIES)
    # Budgets belong to the city that manages the funds, not to the counties.
    assert all(c.total.budget.fen == 0 for c in counties) and city.total.budget.fen == 74_400_000_000
