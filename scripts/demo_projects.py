#!/usr/bin/env python3
"""Demo dataset of follow-up projects (后续扶持项目) that reproduces section 三 of the city report
(遵义市五聚焦, ../shared/seeds/): since 2020, 中央财政衔接戴帽资金 6.8亿元 for 604 projects, of
which 2.4亿元 for 193 后续扶持产业项目, 1449.17万元 of dividends, 5509 people employed, 9
provincial demonstration sites; since 2023, 市级专项资金 6400万元 for 31 projects, adding
6400万元 of collective assets and 149.54万元 of collective income to the communities, 555 jobs.

The 31 city projects are a programme of their own beside the 604 (the report counts them
apart), so the dataset holds 635 projects, each funded by one source.

    generate(scale=1.0, seed=20250630)        the dataset (deterministic), with its expected figures
    load_into_service(service, principal, ds)  through the service layer (tests; fabricates the
                                               employment and registry events the projects need)
    load_over_http(url, headers, ds, ...)      through the API of a running projects-service

Run: python scripts/demo_projects.py --url http://127.0.0.1:8003 --token "$TOKEN" [--scale 0.02]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# The report's figures, in fen (分).
CENTRAL_FEN = 680_000_000 * 100  # 6.8亿元
CENTRAL_PROJECTS = 604
INDUSTRY_FEN = 240_000_000 * 100  # 2.4亿元
INDUSTRY_PROJECTS = 193
DIVIDENDS_FEN = 14_491_700 * 100  # 1449.17万元
CENTRAL_JOBS = 5509
CITY_FEN = 64_000_000 * 100  # 6400万元
CITY_PROJECTS = 31
COLLECTIVE_INCOME_FEN = 1_495_400 * 100  # 149.54万元
COLLECTIVE_ASSETS_FEN = CITY_FEN  # 增加安置社区集体资产6400万元
CITY_JOBS = 555

UNIT = 100 * 100  # amounts are whole hundreds of yuan

CITY = "520300"
COUNTIES = {
    "520302": "红花岗区",
    "520303": "汇川区",
    "520304": "播州区",
    "520322": "桐梓县",
    "520323": "绥阳县",
    "520324": "正安县",
    "520325": "道真县",
    "520326": "务川县",
    "520327": "凤冈县",
    "520328": "湄潭县",
    "520329": "余庆县",
    "520330": "习水县",
    "520381": "赤水市",
    "520382": "仁怀市",
}
# 省级示范点: 习水、正安、湄潭、凤冈、桐梓、务川、道真、赤水、余庆.
DEMONSTRATION_COUNTIES = ("520330", "520324", "520328", "520327", "520322", "520326", "520325", "520381", "520329")
COMMUNITIES = 185
CENTRAL_YEARS = {2020: 150, 2021: 130, 2022: 110, 2023: 90, 2024: 70, 2025: 54}
CITY_YEARS = {2023: 10, 2024: 10, 2025: 11}
LAST_DAY = date(2025, 12, 31)

NON_INDUSTRY_KINDS = (
    ("infrastructure", 0.4, "安置点配套基础设施"),
    ("public_service", 0.3, "社区公共服务设施"),
    ("employment", 0.2, "就业帮扶车间"),
    ("other", 0.1, "后续扶持其他项目"),
)
CHAINS = {
    "agriculture": ("食用菌种植基地", "蔬菜保供基地", "茶叶加工", "生态养殖"),
    "light_industry": ("鞋服加工厂房", "电子元件车间", "竹木制品加工", "吉他配件加工"),
    "culture_tourism": ("民族文创街区", "乡村旅游配套", "非遗工坊", "研学基地"),
}


@dataclass
class SourceSpec:
    ref: str
    kind: str
    name: str
    area_code: str
    budgets: dict[int, int]


@dataclass
class DividendSpec:
    recipient: str
    community_code: str
    household_ref: str | None
    amount_fen: int
    year: int
    paid_on: date


@dataclass
class ProjectSpec:
    ref: str
    name: str
    kind: str
    chain: str | None
    community_codes: list[str]
    source_ref: str
    year: int
    amount_fen: int
    approved_on: date
    demonstration: bool
    final_status: str  # under_construction / operating / completed
    disbursements: list[tuple[date, int]] = field(default_factory=list)
    jobs: int = 0
    dividends: list[DividendSpec] = field(default_factory=list)
    incomes: list[tuple[int, date, int]] = field(default_factory=list)  # (year, received_on, fen)
    assets: list[tuple[date, int, str]] = field(default_factory=list)  # (recorded_on, fen, description)

    @property
    def construction_on(self) -> date:
        return self.approved_on + timedelta(days=20)

    @property
    def operating_on(self) -> date:
        return self.approved_on + timedelta(days=150)

    @property
    def completed_on(self) -> date:
        return LAST_DAY if self.kind in ("industry", "collective_economy") else self.approved_on + timedelta(days=300)


@dataclass
class Dataset:
    sources: list[SourceSpec]
    projects: list[ProjectSpec]
    households: list[tuple[str, str]]  # (household ref, community code)
    expected: dict[str, dict[str, int]]


def split(total: int, n: int, rng: random.Random, *, unit: int = UNIT, minimum: int = 1) -> list[int]:
    """`total` in `n` random parts, each a multiple of `unit` and at least `minimum` units, summing
    exactly to `total` (largest remainders)."""
    if n == 0:
        return []
    units, rest = divmod(total, unit)
    if rest or units < n * minimum:
        raise ValueError(f"cannot split {total} into {n} parts of {minimum}×{unit}")
    free = units - n * minimum
    weights = [rng.uniform(0.3, 1.7) for _ in range(n)]
    w = sum(weights)
    shares = [free * x / w for x in weights]
    parts = [int(s) for s in shares]
    left = free - sum(parts)
    for i in sorted(range(n), key=lambda i: shares[i] - parts[i], reverse=True)[:left]:
        parts[i] += 1
    return [(p + minimum) * unit for p in parts]


def communities() -> dict[str, list[str]]:
    """185 resettlement communities spread over the 14 counties, with structured codes."""
    per_county = split(COMMUNITIES, len(COUNTIES), random.Random(185), unit=1, minimum=6)
    out: dict[str, list[str]] = {}
    for (county, _), n in zip(COUNTIES.items(), per_county, strict=True):
        out[county] = [f"{county}{1 + i // 4:03d}{1 + i % 4:03d}" for i in range(n)]
    return out


def _scaled(value: int, scale: float, unit: int = 1) -> int:
    return max(unit, round(value * scale / unit) * unit) if value else 0


def _date_in(year: int, rng: random.Random) -> date:
    return date(year, rng.randint(1, 6), rng.randint(1, 28))


def generate(*, scale: float = 1.0, seed: int = 20250630, by_county: dict[str, list[str]] | None = None) -> Dataset:
    """`by_county`: the communities to serve, by county (e.g. those of the registry's demo data);
    a county missing from it gets the generated ones."""
    rng = random.Random(seed)
    by_county = {**communities(), **(by_county or {})}
    counties = list(COUNTIES)

    n_central = _scaled(CENTRAL_PROJECTS, scale)
    n_industry = min(n_central, _scaled(INDUSTRY_PROJECTS, scale))
    n_city = _scaled(CITY_PROJECTS, scale)
    central_fen, industry_fen = _scaled(CENTRAL_FEN, scale, UNIT), _scaled(INDUSTRY_FEN, scale, UNIT)
    dividends_fen = _scaled(DIVIDENDS_FEN, scale, UNIT)
    city_fen, income_fen = _scaled(CITY_FEN, scale, UNIT), _scaled(COLLECTIVE_INCOME_FEN, scale, UNIT)
    central_jobs, city_jobs = _scaled(CENTRAL_JOBS, scale), _scaled(CITY_JOBS, scale)

    # --- the 604 earmarked-fund projects ----------------------------------------------------
    years = [y for y, n in CENTRAL_YEARS.items() for _ in range(n)]
    years = [years[round(i * len(years) / n_central)] for i in range(n_central)]
    industry_idx = set(rng.sample(range(n_central), n_industry))
    industry_amounts = split(industry_fen, n_industry, rng, minimum=10)
    other_amounts = split(central_fen - industry_fen, n_central - n_industry, rng, minimum=10)
    demo_counties = list(DEMONSTRATION_COUNTIES[: min(len(DEMONSTRATION_COUNTIES), n_industry)])
    projects: list[ProjectSpec] = []
    i_ind = i_oth = 0
    for i in range(n_central):
        year = years[i]
        if i in industry_idx:
            county = demo_counties[i_ind] if i_ind < len(demo_counties) else rng.choice(counties)
            demonstration = i_ind < len(demo_counties)
            chain = rng.choice(list(CHAINS))
            kind, name = "industry", rng.choice(CHAINS[chain])
            amount = industry_amounts[i_ind]
            i_ind += 1
            final = "completed" if rng.random() < 0.15 else "operating"
        else:
            county, demonstration, chain = rng.choice(counties), False, None
            r, acc = rng.random(), 0.0
            kind, name = NON_INDUSTRY_KINDS[-1][0], NON_INDUSTRY_KINDS[-1][2]
            for k, share, label in NON_INDUSTRY_KINDS:
                acc += share
                if r < acc:
                    kind, name = k, label
                    break
            amount = other_amounts[i_oth]
            i_oth += 1
            r = rng.random()
            final = "completed" if r < 0.7 else "operating" if r < 0.85 else "under_construction"
        pool = by_county[county]
        served = rng.sample(pool, min(len(pool), rng.choice((1, 1, 1, 2))))
        projects.append(
            ProjectSpec(
                ref=f"C{i + 1:04d}",
                name=f"{COUNTIES[county]}{name}项目({year})",
                kind=kind,
                chain=chain,
                community_codes=served,
                source_ref="central",
                year=year,
                amount_fen=amount,
                approved_on=_date_in(year, rng),
                demonstration=demonstration,
                final_status=final,
            )
        )

    # --- the 31 city special-fund projects: collective-economy assets of one community each --
    city_years = [y for y, n in CITY_YEARS.items() for _ in range(n)]
    city_years = [city_years[round(i * len(city_years) / n_city)] for i in range(n_city)]
    city_amounts = split(city_fen, n_city, rng, minimum=10)
    all_communities = [c for cs in by_county.values() for c in cs]
    city_communities = rng.sample(all_communities, n_city)
    for i in range(n_city):
        chain = rng.choice(list(CHAINS))
        code = city_communities[i]
        projects.append(
            ProjectSpec(
                ref=f"S{i + 1:03d}",
                name=f"{COUNTIES[code[:6]]}安置社区集体经济{rng.choice(('标准化厂房', '商铺门面', '冷链仓储'))}项目",
                kind="collective_economy",
                chain=chain,
                community_codes=[code],
                source_ref="city",
                year=city_years[i],
                amount_fen=city_amounts[i],
                approved_on=_date_in(city_years[i], rng),
                demonstration=False,
                final_status="operating",
            )
        )

    # --- disbursements: in full once running, half while being built ----------------------
    for p in projects:
        if p.final_status == "under_construction":
            half = (p.amount_fen // 2 // UNIT) * UNIT
            p.disbursements = [(p.approved_on + timedelta(days=30), half)]
        else:
            first = (p.amount_fen * 6 // 10 // UNIT) * UNIT
            p.disbursements = [
                (p.approved_on + timedelta(days=30), first),
                (p.approved_on + timedelta(days=120), p.amount_fen - first),
            ]

    # --- jobs: earmarked jobs over industry and employment projects, city jobs over the 31 --
    central_hiring = [p for p in projects if p.source_ref == "central" and p.kind in ("industry", "employment")]
    for p, n in zip(central_hiring, split(central_jobs, len(central_hiring), rng, unit=1, minimum=0), strict=True):
        p.jobs = n
    city_projects = [p for p in projects if p.source_ref == "city"]
    for p, n in zip(city_projects, split(city_jobs, len(city_projects), rng, unit=1, minimum=0), strict=True):
        p.jobs = n

    # --- dividends from the industry projects: mostly to the collective, some to households --
    households: list[tuple[str, str]] = []
    seen: set[str] = set()
    industry = [p for p in projects if p.kind == "industry"]
    for p, total in zip(industry, split(dividends_fen, len(industry), rng, minimum=5), strict=True):
        years_paid = list(range(p.operating_on.year, 2026))
        payments = split(total, min(len(years_paid), total // UNIT), rng, minimum=1)
        for year, amount in zip(years_paid, payments, strict=False):
            code = p.community_codes[0]
            if rng.random() < 0.12 and amount >= 5 * UNIT:  # 分红到户: five households share it
                shares = split(amount, 5, rng, minimum=1)
                for n, share in enumerate(shares):
                    ref = f"H-{p.ref}-{n}"
                    if ref not in seen:
                        seen.add(ref)
                        households.append((ref, code))
                    p.dividends.append(DividendSpec("household", code, ref, share, year, date(year, 12, 20)))
            else:
                p.dividends.append(DividendSpec("collective", code, None, amount, year, date(year, 12, 20)))

    # --- collective income and assets from the city projects --------------------------------
    for p, total in zip(city_projects, split(income_fen, len(city_projects), rng, minimum=1), strict=True):
        years_paid = list(range(p.operating_on.year, 2026))
        for year, amount in zip(years_paid, split(total, min(len(years_paid), total // UNIT), rng), strict=False):
            p.incomes.append((year, date(year, 12, 25), amount))
        p.assets.append((p.operating_on, p.amount_fen, "标准化厂房及配套设施(市级专项资金形成)"))

    sources = [
        SourceSpec(
            "central", "central_earmarked", "中央财政衔接推进乡村振兴补助资金(易地搬迁后续扶持戴帽资金)", CITY, {}
        ),
        SourceSpec("city", "city_special", "遵义市易地扶贫搬迁后续扶持市级专项资金", CITY, {}),
    ]
    for s in sources:  # each year's budget is what that year's projects were given
        for p in projects:
            if p.source_ref == s.ref:
                s.budgets[p.year] = s.budgets.get(p.year, 0) + p.amount_fen
    return Dataset(sources=sources, projects=projects, households=households, expected=expected_figures(projects))


def expected_figures(projects: list[ProjectSpec]) -> dict[str, dict[str, int]]:
    """What the summary of the whole city must show, per source kind, from the dataset itself."""
    kinds = {"central": "central_earmarked", "city": "city_special"}
    out: dict[str, dict[str, int]] = {}
    for ref, kind in kinds.items():
        ps = [p for p in projects if p.source_ref == ref]
        household_refs = {d.household_ref for p in ps for d in p.dividends if d.household_ref}
        out[kind] = {
            "projects": len(ps),
            "industry_projects": sum(p.kind == "industry" for p in ps),
            "demonstration_projects": sum(p.demonstration for p in ps),
            "allocated": sum(p.amount_fen for p in ps),
            "industry_allocated": sum(p.amount_fen for p in ps if p.kind == "industry"),
            "budget": sum(p.amount_fen for p in ps),
            "disbursed": sum(a for p in ps for _, a in p.disbursements),
            "dividends_paid": sum(d.amount_fen for p in ps for d in p.dividends),
            "collective_income": sum(a for p in ps for _, _, a in p.incomes),
            "collective_assets": sum(a for p in ps for _, a, _ in p.assets),
            "jobs": sum(p.jobs for p in ps),
            "households_benefiting": len(household_refs),
        }
    return out


# --- loading ----------------------------------------------------------------------------------


class LoadError(RuntimeError):
    pass


def _check(result: Any, what: str) -> list[str]:
    rejected = result.rejected if hasattr(result, "rejected") else result["rejected"]
    if rejected:
        first = rejected[0]
        raise LoadError(f"{what}: {len(rejected)} rows refused, first: {first}")
    accepted = result.accepted if hasattr(result, "accepted") else result["accepted"]
    return [a.id if hasattr(a, "id") else a["id"] for a in accepted]


def _batches(rows: list[dict[str, Any]], size: int = 500) -> list[list[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _source_body(s: SourceSpec) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "name": s.name,
        "area_code": s.area_code,
        "budgets": [{"year": y, "amount_fen": a} for y, a in sorted(s.budgets.items())],
    }


def _project_body(p: ProjectSpec, source_ids: dict[str, str]) -> dict[str, Any]:
    return {
        "name": p.name,
        "kind": p.kind,
        "chain": p.chain,
        "community_codes": p.community_codes,
        "allocations": [{"source_id": source_ids[p.source_ref], "year": p.year, "amount_fen": p.amount_fen}],
        "provincial_demonstration": p.demonstration,
        "approved_on": p.approved_on.isoformat(),
    }


def _status_rows(ds: Dataset, ids: dict[str, str], stage: str) -> list[dict[str, Any]]:
    rows = []
    for p in ds.projects:
        if stage == "under_construction":
            rows.append({"project_id": ids[p.ref], "status": stage, "changed_on": p.construction_on.isoformat()})
        elif stage == "operating" and p.final_status in ("operating", "completed"):
            rows.append({"project_id": ids[p.ref], "status": stage, "changed_on": p.operating_on.isoformat()})
        elif stage == "completed" and p.final_status == "completed":
            rows.append({"project_id": ids[p.ref], "status": stage, "changed_on": p.completed_on.isoformat()})
    return rows


def _disbursement_rows(ds: Dataset, ids: dict[str, str], source_ids: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "project_id": ids[p.ref],
            "source_id": source_ids[p.source_ref],
            "year": p.year,
            "amount_fen": amount,
            "disbursed_on": on.isoformat(),
            "memo": f"第{n + 1}笔拨付",
        }
        for p in ds.projects
        for n, (on, amount) in enumerate(p.disbursements)
    ]


def _dividend_rows(ds: Dataset, ids: dict[str, str], households: dict[str, str] | None) -> list[dict[str, Any]]:
    rows = []
    for p in ds.projects:
        for d in p.dividends:
            row: dict[str, Any] = {
                "project_id": ids[p.ref],
                "amount_fen": d.amount_fen,
                "year": d.year,
                "paid_on": d.paid_on.isoformat(),
            }
            if d.household_ref and households is not None and d.household_ref in households:
                row |= {"recipient": "household", "household_id": households[d.household_ref]}
            else:  # without the registry's households, the household share goes to the collective
                row |= {"recipient": "collective", "community_code": d.community_code}
            rows.append(row)
    return rows


def _spell_area(code: str) -> list[str]:
    return [code[:2] + "0000", code[:4] + "00", code[:6], code[:9] + "000", code, f"{code}-G01", f"{code}-G01-B01"]


async def load_into_service(service: Any, principal: Any, ds: Dataset) -> dict[str, str]:
    """Load through the service layer (`service`: the `projects_service.wiring.Services`);
    returns dataset ref → id. The spells and households the projects need are fabricated as the
    employment and registry events this service consumes."""
    from projects_service.ledger.models import CollectiveAssetIn, CollectiveIncomeIn
    from projects_service.sources.models import FundingSourceIn
    from relocation_shared.clock import system_clock
    from relocation_shared.context import Context
    from relocation_shared.events import CATALOG
    from relocation_shared.events.employment import WorkerEmployed
    from relocation_shared.events.governance import HouseholdRegistered
    from relocation_shared.ids import new_id

    context = Context(principal=principal)
    source_ids = {}
    for s in ds.sources:
        source = await service.sources.register_source(ctx=context, data=FundingSourceIn(**_source_body(s)))
        source_ids[s.ref] = source.id
    ids: dict[str, str] = {}
    for part in _batches([{"ref": p.ref, **_project_body(p, source_ids)} for p in ds.projects]):
        accepted = _check(
            await service.projects.approve_batch(
                ctx=context, rows=[{k: v for k, v in r.items() if k != "ref"} for r in part]
            ),
            "approve",
        )
        ids.update(zip([r["ref"] for r in part], accepted, strict=True))
    for part in _batches(_status_rows(ds, ids, "under_construction")):
        _check(await service.projects.change_status_batch(ctx=context, rows=part), "under_construction")
    for part in _batches(_disbursement_rows(ds, ids, source_ids)):
        _check(await service.ledger.disburse_batch(ctx=context, rows=part), "disburse")
    for part in _batches(_status_rows(ds, ids, "operating")):
        _check(await service.projects.change_status_batch(ctx=context, rows=part), "operating")

    households = {ref: new_id() for ref, _ in ds.households}
    registered = []
    for ref, code in ds.households:
        household = HouseholdRegistered(
            household_id=households[ref],
            kind="registered_poor",
            community_code=code,
            grid_code=f"{code}-G01",
            building_code=f"{code}-G01-B01",
            registered_on=date(2019, 12, 1),
        )
        env = CATALOG.envelope(
            household,
            producer="governance",
            area_path=_spell_area(code),
            aggregate_id=households[ref],
            occurred_at=system_clock(),
        )
        registered.append((env, household))
    await service.jobs.import_households(events=registered)
    spells, links = [], []
    for p in ds.projects:
        for k in range(p.jobs):
            code = p.community_codes[k % len(p.community_codes)]
            spell = WorkerEmployed(
                spell_id=new_id(),
                resident_id=new_id(),
                household_id=new_id(),
                employment_type="local" if p.kind != "employment" else "assistance_workshop",
                organised_export=False,
                employer=p.name[:40],
                monthly_wage=3500,
                started_on=p.operating_on if p.final_status != "under_construction" else p.construction_on,
            )
            env = CATALOG.envelope(
                spell,
                producer="employment",
                area_path=_spell_area(code),
                aggregate_id=spell.household_id,
                occurred_at=system_clock(),
            )
            spells.append((env, spell))
            links.append({"project_id": ids[p.ref], "spell_id": spell.spell_id})
    await service.jobs.import_spells(events=spells)
    for part in _batches(links):
        _check(await service.jobs.link_jobs_batch(ctx=context, rows=part), "jobs")
    for part in _batches(_dividend_rows(ds, ids, households)):
        _check(await service.ledger.pay_dividends_batch(ctx=context, rows=part), "dividends")
    for p in ds.projects:
        for year, on, amount in p.incomes:
            await service.collective.record_collective_income(
                ctx=context,
                community_code=p.community_codes[0],
                data=CollectiveIncomeIn(amount_fen=amount, year=year, received_on=on, project_id=ids[p.ref]),
            )
        for on, amount, description in p.assets:
            await service.collective.record_collective_asset(
                ctx=context,
                community_code=p.community_codes[0],
                data=CollectiveAssetIn(
                    amount_fen=amount, recorded_on=on, description=description, project_id=ids[p.ref]
                ),
            )
    for part in _batches(_status_rows(ds, ids, "completed")):
        _check(await service.projects.change_status_batch(ctx=context, rows=part), "completed")
    return ids


def load_over_http(
    url: str,
    headers: dict[str, str],
    ds: Dataset,
    *,
    households: dict[str, str] | None = None,
    open_spells: dict[str, list[str]] | None = None,
) -> dict[str, str]:
    """Load through a running projects-service. `households` maps the dataset's household refs to
    registered household ids (else household dividends go to the community's collective);
    `open_spells` gives open employment spells per community to link as jobs (else no jobs)."""
    import httpx

    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:

        def call(method: str, path: str, body: Any) -> Any:
            r = client.request(method, path, json=body)
            if r.status_code >= 300:
                raise LoadError(f"{method} {path}: {r.status_code} {r.text[:300]}")
            return r.json()

        source_ids = {s.ref: call("POST", "/api/v1/funding-sources", _source_body(s))["id"] for s in ds.sources}
        ids: dict[str, str] = {}
        for part in _batches([{"ref": p.ref, **_project_body(p, source_ids)} for p in ds.projects]):
            body = {"items": [{k: v for k, v in r.items() if k != "ref"} for r in part]}
            ids.update(
                zip(
                    [r["ref"] for r in part],
                    _check(call("POST", "/api/v1/projects/batch", body), "approve"),
                    strict=True,
                )
            )
        for part in _batches(_status_rows(ds, ids, "under_construction")):
            _check(call("POST", "/api/v1/projects/status/batch", {"items": part}), "under_construction")
        for part in _batches(_disbursement_rows(ds, ids, source_ids)):
            _check(call("POST", "/api/v1/disbursements/batch", {"items": part}), "disburse")
        for part in _batches(_status_rows(ds, ids, "operating")):
            _check(call("POST", "/api/v1/projects/status/batch", {"items": part}), "operating")
        if open_spells:
            pools = {code: list(spells) for code, spells in open_spells.items()}
            links = []
            for p in ds.projects:
                for k in range(p.jobs):
                    pool = pools.get(p.community_codes[k % len(p.community_codes)])
                    if pool:
                        links.append({"project_id": ids[p.ref], "spell_id": pool.pop()})
            for part in _batches(links):
                _check(call("POST", "/api/v1/jobs/batch", {"items": part}), "jobs")
        for part in _batches(_dividend_rows(ds, ids, households)):
            _check(call("POST", "/api/v1/dividends/batch", {"items": part}), "dividends")
        for p in ds.projects:
            code = p.community_codes[0]
            for year, on, amount in p.incomes:
                income = {"amount_fen": amount, "year": year, "received_on": on.isoformat(), "project_id": ids[p.ref]}
                call("POST", f"/api/v1/communities/{code}/collective-income", income)
            for on, amount, description in p.assets:
                asset = {
                    "amount_fen": amount,
                    "recorded_on": on.isoformat(),
                    "description": description,
                    "project_id": ids[p.ref],
                }
                call("POST", f"/api/v1/communities/{code}/collective-assets", asset)
        for part in _batches(_status_rows(ds, ids, "completed")):
            _check(call("POST", "/api/v1/projects/status/batch", {"items": part}), "completed")
        return ids


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="projects-service base URL; without it only the expected figures are printed")
    ap.add_argument("--token", help="bearer token of a city officer (520300)")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=20250630)
    args = ap.parse_args(argv)
    ds = generate(scale=args.scale, seed=args.seed)
    print(json.dumps({"projects": len(ds.projects), "expected": ds.expected}, ensure_ascii=False, indent=2))
    if args.url:
        if not args.token:
            sys.exit("demo_projects: give --token")
        ids = load_over_http(args.url, {"Authorization": f"Bearer {args.token}"}, ds)
        print(f"loaded {len(ids)} projects", file=sys.stderr)


if __name__ == "__main__":
    main()
