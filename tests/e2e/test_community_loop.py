"""The governance service as a process, over HTTP with tokens: staffing and party organisations,
the whole 四单 loop (submit → dispatch → accept → resolve → rate, reopen and round again), 吹哨 and
报到, a missed deadline escalated by the service's own scheduler, a dispute, a door-to-door
visit and the points supermarket; bad transitions, another grid's worker and overspending
refused; every event seen on Kafka, keyed by its aggregate with the area path it belongs to."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from relocation_shared.auth import mint_token
from relocation_shared.events import CATALOG, Envelope
from relocation_shared.pii import check_digit
from relocation_shared.topics import GOVERNANCE
from tests.e2e.conftest import ARTIFACTS, Platform, ServiceProcess, start_service, view_of, wait_caught_up, wait_view
from tests.integration.kafka_helpers import TopicTap

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("topics")]

COUNTY, OTHER_COUNTY = "520330", "520382"
TOWN, COMMUNITY = "520330977000", "520330977001"
G1, G2 = f"{COMMUNITY}-G01", f"{COMMUNITY}-G02"
B1, B2 = f"{G1}-B01", f"{G2}-B01"
B1_PATH = ["520000", "520300", COUNTY, TOWN, COMMUNITY, G1, B1]


@pytest.fixture(scope="module")
def service(
    stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServiceProcess, str]]:
    run = uuid.uuid4().hex[:8]
    secret = secrets.token_hex(32)
    areas = tmp_path_factory.mktemp("areas") / "areas.json"
    areas.write_text(
        json.dumps(
            [
                {"code": "520000", "name": "贵州省", "level": "province", "parent": None},
                {"code": "520300", "name": "遵义市", "level": "city", "parent": "520000"},
                {"code": COUNTY, "name": "习水县", "level": "county", "parent": "520300"},
                {"code": OTHER_COUNTY, "name": "仁怀市", "level": "county", "parent": "520300"},
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    # emergencies must be dispatched within ~2 s here, so that the service's own scheduler acts
    # during the test; everything else keeps the configured defaults
    deadlines = {"default": {"emergency": {"dispatch": 0.0006}}}
    from governance_service.config import DEFAULT_REQUEST_DEADLINE_HOURS

    table = json.loads(json.dumps(DEFAULT_REQUEST_DEADLINE_HOURS))
    table["default"]["emergency"].update(deadlines["default"]["emergency"])
    proc = start_service(
        "governance",
        {
            **stack_env,
            "JWT_SECRET": secret,
            "PII_HASH_KEY": secrets.token_hex(32),
            "LOG_LEVEL": "INFO",
            "MONGODB_DATABASE": f"e2e_comm_{run}",
            "AREAS_FILE": str(areas),
            "REQUEST_DEADLINE_HOURS": json.dumps(table),
            "DEADLINE_SCAN_SECONDS": "0.3",
        },
        log_dir=ARTIFACTS / "community",
    )
    try:
        proc.wait_ready()
        yield proc, secret
    finally:
        proc.stop()


class As:
    """Calls as one user (token subject, name, role, areas)."""

    def __init__(self, svc: tuple[ServiceProcess, str], sub: str, name: str, role: str, *areas: str) -> None:
        self.url = svc[0].url
        self.sub = sub
        self.headers = {
            "Authorization": f"Bearer {mint_token(secret=svc[1], subject=sub, name=name, roles=[role], areas=list(areas))}"
        }

    def __call__(self, method: str, path: str, body: Any, expect: int) -> Any:
        r = httpx.request(method, self.url + path, json=body, headers=self.headers, timeout=15)
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()


def national_id() -> str:
    first17 = f"{COUNTY}19800101{secrets.randbelow(900) + 100}"
    return first17 + check_digit(first17)


def ours(records: list[Any], ids: set[str]) -> list[tuple[Any, Envelope]]:
    out = []
    for r in records:
        env, _ = CATALOG.parse(r.value)
        if env.aggregate_id in ids:
            out.append((r, env))
    return out


async def test_the_whole_loop_over_http_with_events_on_kafka(
    service: tuple[ServiceProcess, str], bootstrap: str
) -> None:
    tap = await TopicTap(bootstrap, GOVERNANCE).start()
    try:
        await _loop(service, tap)
    finally:
        await tap.stop()


async def _loop(svc: tuple[ServiceProcess, str], tap: TopicTap) -> None:
    county = As(svc, "county-zhang", "张县", "county_officer", COUNTY)
    cadre = As(svc, "cadre-li", "李社区", "community_cadre", COMMUNITY)
    wang = As(svc, "grid-wang", "王网格", "grid_worker", G1)
    zhao = As(svc, "grid-zhao", "赵网格", "grid_worker", G2)
    head = As(svc, "head-liu", "刘楼长", "building_head", B1)
    renhuai = As(svc, "cadre-rh", "仁怀干部", "community_cadre", OTHER_COUNTY)

    for code, level, parent in [
        (TOWN, "town", COUNTY),
        (COMMUNITY, "community", TOWN),
        (G1, "grid", COMMUNITY),
        (G2, "grid", COMMUNITY),
        (B1, "building", G1),
        (B2, "building", G2),
    ]:
        county("POST", "/api/v1/areas", {"code": code, "name": code, "level": level, "parent": parent}, 201)

    # --- staffing: the county staffs the community, the community its grids and buildings
    county(
        "POST",
        "/api/v1/staff",
        {"subject": cadre.sub, "name": "李社区", "role": "community_cadre", "area_code": COMMUNITY},
        201,
    )
    r = cadre(
        "POST", "/api/v1/staff", {"subject": "x", "name": "某", "role": "community_cadre", "area_code": COMMUNITY}, 403
    )
    assert r["field"] == "area_code"
    r = cadre("POST", "/api/v1/staff", {"subject": "x", "name": "某", "role": "grid_worker", "area_code": B1}, 422)
    assert r["field"] == "area_code"
    wang_staff = cadre(
        "POST", "/api/v1/staff", {"subject": wang.sub, "name": "王网格", "role": "grid_worker", "area_code": G1}, 201
    )
    zhao_staff = cadre(
        "POST", "/api/v1/staff", {"subject": zhao.sub, "name": "赵网格", "role": "grid_worker", "area_code": G2}, 201
    )
    cadre(
        "POST", "/api/v1/staff", {"subject": head.sub, "name": "刘楼长", "role": "building_head", "area_code": B1}, 201
    )
    cadre("POST", "/api/v1/staff", {"subject": wang.sub, "name": "王网格", "role": "grid_worker", "area_code": G1}, 409)
    temp = cadre(
        "POST", "/api/v1/staff", {"subject": "grid-temp", "name": "临时", "role": "grid_worker", "area_code": G1}, 201
    )
    cadre("POST", f"/api/v1/staff/{temp['id']}/unassign", None, 200)
    cadre("POST", f"/api/v1/staff/{temp['id']}/unassign", None, 409)
    listed = cadre("GET", f"/api/v1/staff?area={G1}&role=grid_worker", None, 200)
    assert {s["subject"] for s in listed} == {wang.sub}

    # --- party organisations: 党总支 → 党支部 → 楼栋党小组
    general = cadre(
        "POST",
        "/api/v1/party-organisations",
        {"name": "东皇社区党总支", "kind": "general_branch", "community_code": COMMUNITY, "members": 45},
        201,
    )
    branch = cadre(
        "POST",
        "/api/v1/party-organisations",
        {
            "name": "一网格党支部",
            "kind": "branch",
            "community_code": COMMUNITY,
            "area_code": G1,
            "parent_id": general["id"],
        },
        201,
    )
    cadre(
        "POST",
        "/api/v1/party-organisations",
        {"name": "1栋党小组", "kind": "group", "community_code": COMMUNITY, "area_code": B1, "parent_id": branch["id"]},
        201,
    )
    r = cadre(
        "POST", "/api/v1/party-organisations", {"name": "孤立党小组", "kind": "group", "community_code": COMMUNITY}, 422
    )
    assert r["field"] == "parent_id"

    household = county(
        "POST",
        "/api/v1/households",
        {"kind": "registered_poor", "community_code": COMMUNITY, "grid_code": G1, "building_code": B1, "room": "302"},
        201,
    )
    hid = household["id"]

    # --- 群众点单 by the building head
    req = head(
        "POST",
        "/api/v1/requests",
        {
            "category": "housing",
            "description": "卫生间漏水到楼下",
            "building_code": B1,
            "urgency": "urgent",
            "household_id": hid,
        },
        201,
    )
    rid = req["id"]
    assert (req["state"], req["level"], req["step"]) == ("submitted", "building", "dispatch")
    r = head(
        "POST",
        "/api/v1/requests",
        {"category": "housing", "description": "联系电话13912345678", "building_code": B1},
        422,
    )
    assert r["field"] == "description"
    renhuai("GET", f"/api/v1/requests/{rid}", None, 404)  # another county's request does not exist for them

    # illegal transitions name the current state
    r = wang("POST", f"/api/v1/requests/{rid}/accept", None, 409)
    assert r["state"] == "submitted" and "已点单,待派单" in r["message"]
    r = cadre("POST", f"/api/v1/requests/{rid}/rate", {"score": 5}, 409)
    assert r["state"] == "submitted"
    # 社区派单 only to a worker of the request's grid
    r = cadre("POST", f"/api/v1/requests/{rid}/dispatch", {"staff_id": zhao_staff["id"]}, 422)
    assert r["field"] == "staff_id"
    r = cadre("POST", f"/api/v1/requests/{rid}/dispatch", {"staff_id": wang_staff["id"]}, 200)
    assert r["state"] == "dispatched" and r["assignee"]["subject"] == wang.sub
    zhao("POST", f"/api/v1/requests/{rid}/accept", None, 403)  # another grid's worker

    # 网格员接单: the same worker's six concurrent accepts, exactly one wins
    async with httpx.AsyncClient(headers=wang.headers, timeout=15) as client:
        responses = await asyncio.gather(*(client.post(f"{wang.url}/api/v1/requests/{rid}/accept") for _ in range(6)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409, 409, 409, 409], [r.text for r in responses]
    assert all(r.json()["state"] == "accepted" for r in responses if r.status_code == 409)

    zhao("POST", f"/api/v1/requests/{rid}/resolve", {"summary": "x"}, 403)
    r = wang("POST", f"/api/v1/requests/{rid}/resolve", {"summary": "已请物业更换水管"}, 200)
    assert r["resolution_level"] == "building"
    # 党组织评单 on behalf of the community's 党总支
    r = cadre("POST", f"/api/v1/requests/{rid}/rate", {"score": 5, "comment": "处理及时"}, 200)
    assert r["state"] == "closed" and r["rating"]["party_org_id"] == general["id"]
    # the resident disputes the outcome: reopened, and round again
    r = head("POST", f"/api/v1/requests/{rid}/reopen", {"reason": "楼下仍在渗水"}, 200)
    assert (r["state"], r["reopen_count"]) == ("reopened", 1)
    cadre("POST", f"/api/v1/requests/{rid}/dispatch", {"staff_id": wang_staff["id"]}, 200)
    wang("POST", f"/api/v1/requests/{rid}/accept", None, 200)
    wang("POST", f"/api/v1/requests/{rid}/resolve", {"summary": "重做防水层"}, 200)
    r = cadre("POST", f"/api/v1/requests/{rid}/rate", {"score": 4, "party_org_id": branch["id"]}, 200)
    assert r["state"] == "closed" and r["rating"]["score"] == 4
    assert rid in {x["id"] for x in county("GET", f"/api/v1/requests?area={COUNTY}&state=closed", None, 200)}
    renhuai("GET", f"/api/v1/requests?area={COUNTY}", None, 403)

    # --- 镇街吹哨、部门报到
    job = cadre(
        "POST",
        "/api/v1/requests",
        {"category": "employment", "description": "失业需要就业帮扶", "building_code": B1},
        201,
    )
    r = county("POST", f"/api/v1/requests/{job['id']}/report", {"note": "x"}, 409)
    assert r["state"] == "submitted"  # nothing to report to yet
    r = cadre(
        "POST",
        f"/api/v1/requests/{job['id']}/escalate",
        {"department": "human_resources", "reason": "需县人社局推荐岗位"},
        200,
    )
    assert (r["level"], r["department_label"]) == ("county_department", "县人社局") and r["report_due_at"]
    r = county("POST", f"/api/v1/requests/{job['id']}/report", {"note": "已安排专人对接"}, 200)
    assert r["reported_at"]
    county("POST", f"/api/v1/requests/{job['id']}/report", {"note": "again"}, 409)

    # --- a missed deadline: an emergency nobody dispatches is escalated by the service itself
    fire = head(
        "POST",
        "/api/v1/requests",
        {
            "category": "public_security",
            "description": "楼道堆放杂物有火灾隐患",
            "building_code": B1,
            "urgency": "emergency",
        },
        201,
    )

    # --- 矛盾纠纷调解
    raw_id, raw_phone = national_id(), "13987654321"
    dispute = cadre(
        "POST",
        "/api/v1/disputes",
        {
            "kind": "neighbourhood",
            "summary": "楼上漏水引发邻里纠纷",
            "community_code": COMMUNITY,
            "building_code": B1,
            "parties": [
                {"name": "王大明", "national_id": raw_id, "phone": raw_phone, "household_id": hid},
                {"name": "陈小红", "role": "respondent"},
            ],
            "mediator_name": "红帽子调解队",
        },
        201,
    )
    did = dispute["id"]
    assert [p["name_masked"] for p in dispute["parties"]] == ["王**", "陈**"]
    assert raw_id not in json.dumps(dispute) and raw_phone not in json.dumps(dispute)
    cadre("POST", f"/api/v1/disputes/{did}/outcome", {"outcome": "mediated_successfully"}, 409)  # no session yet
    cadre("POST", f"/api/v1/disputes/{did}/sessions", {"note": "双方到社区调解室面谈"}, 200)
    r = cadre(
        "POST", f"/api/v1/disputes/{did}/outcome", {"outcome": "mediated_successfully", "note": "楼上赔偿维修费"}, 200
    )
    assert r["state"] == "concluded" and r["outcome_label"] == "调解成功"
    r = cadre("POST", f"/api/v1/disputes/{did}/sessions", {"note": "回访"}, 409)
    assert r["state"] == "concluded"

    # --- 上门服务 and 积分超市
    visit = wang(
        "POST",
        "/api/v1/visits",
        {
            "household_id": hid,
            "service": "property_registration",
            "description": "上门收件办理不动产登记",
            "visited_on": "2025-06-30",
        },
        201,
    )
    assert visit["visitor_role"] == "grid_worker"
    cadre(
        "POST",
        "/api/v1/points/awards",
        {"household_id": hid, "category": "filial", "points": 50, "reason": "评为孝德之星"},
        201,
    )
    r = cadre("POST", "/api/v1/points/redemptions", {"household_id": hid, "goods": "食用油", "points": 30}, 201)
    assert r["balance_after"] == 20
    r = cadre("POST", "/api/v1/points/redemptions", {"household_id": hid, "goods": "电饭锅", "points": 21}, 409)
    assert r["field"] == "points" and r["balance"] == "20"
    account = cadre("GET", f"/api/v1/households/{hid}/points", None, 200)
    assert account["balance"] == 20 and len(account["entries"]) == 2

    # --- what reached Kafka
    wanted = {rid, job["id"], fire["id"], did, hid, wang_staff["id"], temp["id"]}

    def complete(records: list[Any]) -> bool:
        types = {(env.aggregate_id, env.type) for _, env in ours(records, wanted)}
        return (fire["id"], "governance.request_escalated") in types and (hid, "governance.points_redeemed") in types

    records = await tap.read(until=complete, timeout=30, settle=0.5)
    seen = ours(records, wanted)
    by_aggregate: dict[str, list[Envelope]] = {}
    for rec, env in seen:
        assert rec.key == env.aggregate_id.encode()
        by_aggregate.setdefault(env.aggregate_id, []).append(env)
        assert raw_id not in rec.value.decode() and raw_phone not in rec.value.decode()

    loop = by_aggregate[rid]
    assert [e.type.removeprefix("governance.request_") for e in loop] == [
        "submitted",
        "dispatched",
        "accepted",
        "resolved",
        "rated",
        "reopened",
        "dispatched",
        "accepted",
        "resolved",
        "rated",
    ]
    assert all(list(e.area_path) == B1_PATH for e in loop)
    rated = [e.payload for e in loop if e.type == "governance.request_rated"]
    assert [p["score"] for p in rated] == [5, 4]
    assert all(p["resolution_level"] == "building" and p["resolved_low_level"] for p in rated)
    assert rated[1]["reopen_count"] == 1 and rated[1]["minutes_to_close"] >= rated[0]["minutes_to_close"]
    reopened = next(e.payload for e in loop if e.type == "governance.request_reopened")
    assert reopened["previous_score"] == 5 and reopened["previous_minutes_to_close"] == rated[0]["minutes_to_close"]

    assert [e.type for e in by_aggregate[job["id"]]] == [
        "governance.request_submitted",
        "governance.request_escalated",
        "governance.request_reported",
    ]
    fire_types = [e.type for e in by_aggregate[fire["id"]]]
    assert fire_types[:3] == [
        "governance.request_submitted",
        "governance.request_overdue",
        "governance.request_escalated",
    ]
    escalated = next(e.payload for e in by_aggregate[fire["id"]] if e.type == "governance.request_escalated")
    assert (escalated["from_level"], escalated["to_level"], escalated["manual"]) == ("building", "grid", False)
    assert fire_types.count("governance.request_escalated") == fire_types.count("governance.request_overdue")

    assert [e.type for e in by_aggregate[did]] == ["governance.dispute_registered", "governance.dispute_mediated"]
    assert by_aggregate[did][1].payload["successful"] is True
    assert [e.type for e in by_aggregate[hid]] == [
        "governance.household_registered",
        "governance.visit_recorded",
        "governance.points_awarded",
        "governance.points_redeemed",
    ]
    staff_events = by_aggregate[wang_staff["id"]]
    assert staff_events[0].type == "governance.staff_assigned" and staff_events[0].payload["name_masked"] == "王**"
    assert [e.type for e in by_aggregate[temp["id"]]] == ["governance.staff_assigned", "governance.staff_unassigned"]

    # the service's own view of the escalated emergency
    r = county("GET", f"/api/v1/requests/{fire['id']}", None, 200)
    assert r["overdue_count"] >= 1 and r["level"] != "building"
    overdue = county("GET", f"/api/v1/requests?area={COMMUNITY}&overdue=true", None, 200)
    assert {x["id"] for x in overdue} == {fire["id"]}


def test_a_request_shows_in_the_county_view(
    service: tuple[ServiceProcess, str], platform: Platform, readmodel: ServiceProcess
) -> None:
    """点单 → 派单 → 接单 → 办结 → 评单 over HTTP: the read model's community and county views count
    it (submitted, resolved at building level, closed, its rating); the county's 办结率 follows."""
    cadre = As(service, "cadre-li", "李社区", "community_cadre", COMMUNITY)
    wang = As(service, "grid-wang", "王网格", "grid_worker", G1)
    head = As(service, "head-liu", "刘楼长", "building_head", B1)
    headers = platform.headers("city_officer", "520300")
    (wang_staff,) = cadre("GET", f"/api/v1/staff?area={G1}&role=grid_worker", None, 200)
    wait_caught_up(readmodel)
    before = {a: view_of(readmodel, a, headers)["counters"] for a in (COMMUNITY, COUNTY)}

    rid = head(
        "POST", "/api/v1/requests", {"category": "property", "description": "单元门禁损坏", "building_code": B1}, 201
    )["id"]
    cadre("POST", f"/api/v1/requests/{rid}/dispatch", {"staff_id": wang_staff["id"]}, 200)
    wang("POST", f"/api/v1/requests/{rid}/accept", None, 200)
    wang("POST", f"/api/v1/requests/{rid}/resolve", {"summary": "已更换门禁"}, 200)
    cadre("POST", f"/api/v1/requests/{rid}/rate", {"score": 5}, 200)

    expected = {
        "requests_submitted": 1,
        "requests_resolved": 1,
        "requests_resolved_low": 1,
        "requests_closed": 1,
        "rating_sum": 5,
        "requests_open": 0,
    }
    for area in (COMMUNITY, COUNTY):
        old = before[area]
        view = wait_view(
            readmodel,
            area,
            headers,
            lambda v, old=old: all(v["counters"].get(k, 0) - old.get(k, 0) == n for k, n in expected.items()),
            timeout=30,
        )
        c = view["counters"]
        exact = Decimal(c["requests_resolved"] * 100) / Decimal(c["requests_submitted"])
        rate = float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))  # half up, as officials read it
        assert view["values"]["request_completion_rate"] == rate
        assert view["values"]["requests_submitted"] == c["requests_submitted"]
