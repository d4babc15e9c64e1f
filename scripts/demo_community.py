"""Demo community work (社区治理) for `make run`, through the governance service's own API.

For every demo community: its staff (a 社区干部, a 网格员 per grid, a 楼栋长 per grid's first
building) so that notifications have someone to reach, its 党总支 (who rates requests), the 四单
requests of its residents at every stage of their life (群众点单 → 社区派单 → 网格员接单 → 办结 →
党组织评单; some still open), a few disputes mediated, door-to-door services this year and the
points supermarket (积分超市). Each call is made by the role that does it in real life, with a
token of that person (subject `demo-<role>-<area>`, as the tokens `make run` prints).
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from tqdm import tqdm

from relocation_shared.auth import mint_token
from relocation_shared.clock import business_today, system_clock

CONCURRENCY = 8  # communities loaded at once

REQUESTS = [
    ("housing", "卫生间漏水到楼下,需要维修"),
    ("property", "单元门禁损坏,外来人员随意进出"),
    ("employment", "希望推荐家门口的帮扶车间岗位"),
    ("education", "孩子转学手续不清楚,需要帮助办理"),
    ("medical", "老人慢性病门诊报销需要帮代办"),
    ("social_security", "养老保险缴费档次咨询"),
    ("environment", "楼道堆放杂物,影响通行"),
    ("certificates", "不动产权证办理进度查询"),
    ("public_security", "小区路灯不亮,夜间出行不便"),
]
DISPUTES = [("neighbourhood", "楼上漏水引发邻里纠纷"), ("family", "赡养老人分担问题"), ("property", "车位占用纠纷")]
VISITS = [
    ("policy", "宣讲后续扶持就业政策"),
    ("care", "走访慰问独居老人"),
    ("health", "慢病患者健康随访"),
    ("agency", "帮代办医保参保手续"),
    ("employment", "上门登记就业意愿"),
]
AWARDS = [("volunteer", "参加社区志愿服务"), ("hygiene", "庭院环境卫生评比优秀"), ("civility", "文明家庭创建")]
GOODS = [("洗衣粉", 20), ("食用油", 50), ("大米", 60)]


@dataclass
class CommunityReport:
    staff: int = 0
    requests: int = 0
    closed: int = 0
    disputes: int = 0
    visits: int = 0
    awards: int = 0
    redemptions: int = 0
    errors: list[str] = field(default_factory=list)


class _Calls:
    """One client per person, by the token of that person."""

    def __init__(self, url: str, secret: str, report: CommunityReport) -> None:
        self.url = url
        self.secret = secret
        self.report = report
        self.clients: dict[tuple[str, str], httpx.AsyncClient] = {}

    def of(self, role: str, area: str, name: str) -> httpx.AsyncClient:
        key = (role, area)
        if key not in self.clients:
            token = mint_token(secret=self.secret, subject=f"demo-{role}-{area}", roles=[role], areas=[area], name=name)
            # no keep-alive: a connection idle past the server's keep-alive timeout may be closed
            # just as a request goes out on it, and a POST cannot simply be sent again
            self.clients[key] = httpx.AsyncClient(
                base_url=self.url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return self.clients[key]

    async def call(self, client: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Any:
        try:
            r = await client.request(method, path, json=body)
        except httpx.TransportError as exc:
            self.report.errors.append(f"{method} {path}: {type(exc).__name__} {exc}")
            return None
        if r.status_code >= 300:
            self.report.errors.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
            return None
        return r.json()

    async def close(self) -> None:
        for c in self.clients.values():
            await c.aclose()


async def load_community(
    url: str,
    secret: str,
    *,
    communities: list[dict[str, Any]],
    grids: list[dict[str, Any]],
    buildings: list[dict[str, Any]],
    households: list[dict[str, Any]],
    household_ids: dict[str, str],
    seed: int = 7,
) -> CommunityReport:
    """Load the community work of every community that has households; one progress step each."""
    report = CommunityReport()
    calls = _Calls(url, secret, report)
    grids_of: dict[str, list[str]] = defaultdict(list)
    for g in grids:
        grids_of[g["parent"]].append(g["code"])
    first_building: dict[str, str] = {}
    for b in buildings:
        first_building.setdefault(b["parent"], b["code"])
    homes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for h in households:
        if h["key"] in household_ids:
            homes[h["community_code"]].append({**h, "id": household_ids[h["key"]]})
    todo = [c for c in communities if homes.get(c["code"])]
    slots = asyncio.Semaphore(CONCURRENCY)
    city = calls.of("city_officer", "520300", "遵义市后续扶持办")
    with tqdm(total=len(todo), desc="社区治理", unit="个社区", dynamic_ncols=True, leave=True) as bar:

        async def one(c: dict[str, Any]) -> None:
            async with slots:
                await _community(calls, city, c, grids_of[c["code"]], first_building, homes[c["code"]], seed)
            bar.update(1)

        try:
            async with asyncio.TaskGroup() as tasks:
                for c in todo:
                    tasks.create_task(one(c))
        finally:
            await calls.close()
    return report


async def _community(
    calls: _Calls,
    city: httpx.AsyncClient,
    c: dict[str, Any],
    grids: list[str],
    first_building: dict[str, str],
    homes: list[dict[str, Any]],
    seed: int,
) -> None:
    rng = random.Random(f"{seed}:{c['code']}:community")
    report = calls.report
    code, name = c["code"], c["name"]
    cadre = calls.of("community_cadre", code, f"{name}社区干部")

    # staff, by the city office: who the notifications reach, and whom a request is dispatched to
    staff_ids: dict[str, str] = {}
    for role, area, who in [
        ("community_cadre", code, f"{name}社区干部"),
        *(("grid_worker", g, f"{name}第{i + 1}网格员") for i, g in enumerate(grids)),
        *(("building_head", first_building[g], f"{name}楼栋长") for g in grids if g in first_building),
    ]:
        body = {"subject": f"demo-{role}-{area}", "name": who, "role": role, "area_code": area}
        staff = await calls.call(city, "POST", "/api/v1/staff", body)
        if staff:
            report.staff += 1
            staff_ids[area] = staff["id"]
    await calls.call(
        cadre,
        "POST",
        "/api/v1/party-organisations",
        {"name": f"{name}党总支", "kind": "general_branch", "community_code": code, "members": rng.randint(20, 60)},
    )

    # 四单: most requests closed and rated, some resolved awaiting rating, some still being handled
    n_requests = min(12, max(3, len(homes) // 4))
    for _ in range(n_requests):
        home = rng.choice(homes)
        category, text = rng.choice(REQUESTS)
        body = {"category": category, "description": text, "building_code": home["building_code"]}
        req = await calls.call(cadre, "POST", "/api/v1/requests", body | {"household_id": home["id"]})
        if not req:
            continue
        report.requests += 1
        fate = rng.random()
        if fate < 0.1:
            continue  # 已点单,待派单
        grid = home["grid_code"]
        if grid not in staff_ids:
            continue
        rid = req["id"]
        worker = calls.of("grid_worker", grid, f"{name}网格员")
        if not await calls.call(cadre, "POST", f"/api/v1/requests/{rid}/dispatch", {"staff_id": staff_ids[grid]}):
            continue
        if not await calls.call(worker, "POST", f"/api/v1/requests/{rid}/accept"):
            continue
        if fate < 0.25:
            continue  # 已接单,办理中
        resolution = {"summary": "已上门处理,群众认可"}
        if not await calls.call(worker, "POST", f"/api/v1/requests/{rid}/resolve", resolution):
            continue
        if fate < 0.35:
            continue  # 已办结,待评单
        score = rng.choices([5, 4, 3], weights=[7, 2, 1])[0]
        if await calls.call(cadre, "POST", f"/api/v1/requests/{rid}/rate", {"score": score}):
            report.closed += 1

    # 矛盾纠纷调解: almost all mediated successfully (调解成功率 ≥ 98 % is the target)
    for _ in range(rng.randint(1, 2)):
        kind, summary = rng.choice(DISPUTES)
        home = rng.choice(homes)
        dispute = await calls.call(
            cadre,
            "POST",
            "/api/v1/disputes",
            {
                "kind": kind,
                "summary": summary,
                "community_code": code,
                "building_code": home["building_code"],
                "parties": [{"name": "申请人", "household_id": home["id"]}, {"name": "被申请人", "role": "respondent"}],
                "mediator_name": "社区人民调解委员会",
            },
        )
        if not dispute:
            continue
        report.disputes += 1
        did = dispute["id"]
        await calls.call(cadre, "POST", f"/api/v1/disputes/{did}/sessions", {"note": "双方到社区调解室面谈"})
        outcome = "mediated_successfully" if rng.random() < 0.95 else "failed"
        await calls.call(cadre, "POST", f"/api/v1/disputes/{did}/outcome", {"outcome": outcome})

    # 上门服务 this year, by each household's grid worker
    today = business_today(system_clock)
    start = date(today.year, 1, 1)
    for home in rng.sample(homes, min(len(homes), 20)):
        grid = home["grid_code"]
        worker = calls.of("grid_worker", grid, f"{name}网格员")
        service, text = rng.choice(VISITS)
        on = start + timedelta(days=rng.randint(0, (today - start).days))
        body = {"household_id": home["id"], "service": service, "description": text, "visited_on": on.isoformat()}
        if await calls.call(worker, "POST", "/api/v1/visits", body):
            report.visits += 1

    # 积分超市: points for good deeds, some spent
    for k, home in enumerate(rng.sample(homes, min(len(homes), 8))):
        category, reason = rng.choice(AWARDS)
        points = rng.choice([20, 30, 50, 80])
        award = {
            "household_id": home["id"],
            "category": category,
            "points": points,
            "reason": reason,
            "request_key": f"demo-award-{k}",
        }
        if not await calls.call(cadre, "POST", "/api/v1/points/awards", award):
            continue
        report.awards += 1
        goods, price = rng.choice(GOODS)
        if price <= points and rng.random() < 0.6:
            redeem = {"household_id": home["id"], "goods": goods, "points": price, "request_key": f"demo-redeem-{k}"}
            if await calls.call(cadre, "POST", "/api/v1/points/redemptions", redeem):
                report.redemptions += 1
