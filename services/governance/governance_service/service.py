"""Use cases of the registry. Each runs in one unit of work: the state change and the events it
means are committed together (outbox). Keyword-only arguments throughout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram

from governance_service.models import (
    PARTY_AREA_LEVELS,
    PARTY_PARENT_KINDS,
    STAFF_ROLE_LABELS,
    STAFF_ROLE_LEVEL,
    Actor,
    Area,
    AreaIn,
    Assignee,
    AwardIn,
    Command,
    DeadlinePolicy,
    DispatchIn,
    Dispute,
    DisputeCase,
    DisputeIn,
    DisputePartyIn,
    DisputeState,
    EscalateIn,
    Household,
    HouseholdIn,
    MoveOut,
    OutcomeIn,
    PartyOrg,
    PartyOrgIn,
    PointsAccount,
    PointsEntry,
    RateIn,
    RedeemIn,
    ReopenIn,
    ReportIn,
    RequestCase,
    RequestIn,
    Resident,
    ResidentIn,
    ResidentRequest,
    ResidentUpdate,
    ResolveIn,
    SessionIn,
    Staff,
    StaffIn,
    StaffRole,
    Visit,
    VisitIn,
    mask_name,
    points_entry_id,
    staff_id_for,
)
from governance_service.repository import CommunityRepository, Doc, GovernanceRepository
from relocation_shared.areas import CODE_SHAPE_LABELS, LEVELS, Level, code_fits_level
from relocation_shared.auth import ROLE_ACTIONS, Action, Principal, Role
from relocation_shared.batch import BatchResult, Outcome, parse_rows
from relocation_shared.clock import Clock, business_day, business_today
from relocation_shared.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from relocation_shared.events.community import (
    PARTY_ORG_KIND_LABELS,
    REQUEST_STATE_LABELS,
    PartyOrgKind,
    PartyOrgRegistered,
    PointsAwarded,
    PointsRedeemed,
    RequestState,
    VisitRecorded,
)
from relocation_shared.events.governance import (
    AreaRegistered,
    HouseholdRegistered,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentUpdated,
    StaffAssigned,
    StaffUnassigned,
)
from relocation_shared.ids import new_id
from relocation_shared.logging import get_logger
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.pii import keyed_hash, mask_phone, parse_national_id, scrub
from relocation_shared.tasks import cancel

log = get_logger(__name__)


def area_from_doc(doc: Doc) -> Area:
    return Area(
        code=doc["_id"],
        name=doc["name"],
        level=doc["level"],
        parent=doc.get("parent"),
        path=doc["path"],
        demo=doc.get("demo", False),
    )


class GovernanceService:
    def __init__(
        self, *, uow: UnitOfWork, repo: GovernanceRepository, pii_key: bytes, clock: Clock, batch_max: int = 500
    ) -> None:
        self.uow = uow
        self.repo = repo
        self.clock = clock
        self.pii_key = pii_key
        self.batch_max = batch_max

    # areas ---------------------------------------------------------------
    async def load_areas(self, *, path: Path) -> int:
        """Load the area file (parents before children), computing each area's path. New and
        renamed areas are published, so that every consumer learns their names."""
        rows = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
        paths: dict[str, list[str]] = {}
        docs = []
        for r in rows:
            parent = r.get("parent")
            p = [*paths[parent], r["code"]] if parent else [r["code"]]
            if Level(r["level"]).depth != len(p) - 1:
                raise ValueError(f"area {r['code']} level {r['level']} does not fit its depth")
            paths[r["code"]] = p
            docs.append(
                {"_id": r["code"], "name": r["name"], "level": r["level"], "parent": parent, "path": p}
                | ({"demo": True} if r.get("demo") else {})
            )

        async def work(tx: Tx) -> int:
            known = await self.repo.get_areas([d["_id"] for d in docs], tx.session)
            changed = [d for d in docs if d["_id"] not in known or known[d["_id"]]["name"] != d["name"]]
            await self.repo.upsert_areas(changed, tx.session)
            for d in changed:
                self._record_area(tx, d)
            return len(changed)

        count = await self.uow.run(work)
        log.info("areas loaded", file=path.name, areas=len(docs), changed=count)
        return len(docs)

    @staticmethod
    def _record_area(tx: Tx, doc: Doc) -> None:
        tx.record(
            AreaRegistered(code=doc["_id"], name=doc["name"], level=doc["level"], parent=doc.get("parent")),
            area_path=doc["path"],
            aggregate_id=doc["_id"],
        )

    async def get_area(self, *, principal: Principal, code: str) -> Area:
        doc = await self.repo.get_area(code)
        if doc is None or not self._visible_area(principal, doc["path"]):
            raise NotFound("区域不存在", field="code")
        return area_from_doc(doc)

    async def list_children(self, *, principal: Principal, parent: str) -> list[Area]:
        await self.get_area(principal=principal, code=parent)
        return [area_from_doc(d) for d in await self.repo.children(parent) if self._visible_area(principal, d["path"])]

    @staticmethod
    def _visible_area(principal: Principal, path: list[str]) -> bool:
        return principal.covers(path)

    async def create_area(self, *, principal: Principal, data: AreaIn, correlation_id: str | None = None) -> Area:
        principal.require(Action.REGISTRY_WRITE)
        if data.level in (Level.PROVINCE, Level.CITY, Level.COUNTY):
            raise InvalidInput("省、市、县级区划由国家区划代码文件维护,不能新建", field="level")

        async def work(tx: Tx) -> Area:
            parent = await self.repo.get_area(data.parent, tx.session)
            if parent is None:
                raise InvalidInput("上级区域不存在", field="parent")
            principal.require_area(parent["path"], field="parent")
            expected_parent_level = LEVELS[data.level.depth - 1]
            if parent["level"] != expected_parent_level:
                raise InvalidInput(
                    f"{data.level.label}的上级应为{expected_parent_level.label}", field="parent", parent=parent["level"]
                )
            if not code_fits_level(data.code, data.level):
                raise InvalidInput(
                    f"{data.level.label}代码格式应为{CODE_SHAPE_LABELS[data.level]}", field="code", code=data.code
                )
            if not data.code.startswith(_code_prefix(parent)):
                raise InvalidInput("区域代码应以上级区域代码开头", field="code")
            if await self.repo.get_area(data.code, tx.session) is not None:
                raise Conflict("区域代码已存在", field="code")
            doc = {
                "_id": data.code,
                "name": data.name,
                "level": data.level.value,
                "parent": data.parent,
                "path": [*parent["path"], data.code],
            }
            await self.repo.insert_area(doc, tx.session)
            self._record_area(tx, doc)
            return area_from_doc(doc)

        return await self.uow.run(work, correlation_id=correlation_id)

    # households ----------------------------------------------------------
    async def register_household(
        self, *, principal: Principal, data: HouseholdIn, correlation_id: str | None = None
    ) -> Household:
        outcome = await self._register_households(principal=principal, rows=[(0, data)], correlation_id=correlation_id)
        household = await self.repo.get_household(outcome.single())
        assert household is not None
        return Household.from_doc(household)

    async def register_households_batch(
        self, *, principal: Principal, rows: list[dict[str, Any]], correlation_id: str | None = None
    ) -> BatchResult:
        good, bad = parse_rows(rows, HouseholdIn, max_items=self.batch_max)
        outcome = await self._register_households(principal=principal, rows=good, correlation_id=correlation_id)
        return outcome.result(bad)

    async def _register_households(
        self, *, principal: Principal, rows: list[tuple[int, HouseholdIn]], correlation_id: str | None
    ) -> Outcome:
        principal.require(Action.REGISTRY_WRITE)

        async def work(tx: Tx) -> Outcome:
            outcome = Outcome()
            codes = sorted({c for _, r in rows for c in (r.community_code, r.grid_code, r.building_code)})
            areas = await self.repo.get_areas(codes, tx.session)
            for index, data in rows:
                try:
                    building = _check_placement(principal, areas, data)
                except DomainError as err:
                    outcome.reject(index, err)
                    continue
                hid = new_id()
                registered_on = data.registered_on or business_day(tx.now)
                doc = {
                    "_id": hid,
                    "kind": data.kind.value,
                    "community_code": data.community_code,
                    "grid_code": data.grid_code,
                    "building_code": data.building_code,
                    "room": data.room,
                    "registered_on": registered_on.isoformat(),
                    "area_path": building["path"],
                }
                await self.repo.insert_household(doc, tx.session)
                tx.record(
                    HouseholdRegistered(
                        household_id=hid,
                        kind=data.kind,
                        community_code=data.community_code,
                        grid_code=data.grid_code,
                        building_code=data.building_code,
                        room=data.room,
                        registered_on=registered_on,
                    ),
                    area_path=building["path"],
                    aggregate_id=hid,
                )
                outcome.accept(index, hid)
            return outcome

        return await self.uow.run(work, correlation_id=correlation_id)

    async def get_household(self, *, principal: Principal, household_id: str) -> Household:
        doc = await self.repo.get_household(household_id)
        if doc is None:
            raise NotFound("该户不存在", field="household_id")
        principal.require_visible(doc["area_path"], "该户")
        residents = [Resident.from_doc(r) for r in await self.repo.household_residents(household_id)]
        return Household.from_doc(doc, residents)

    async def list_households(
        self, *, principal: Principal, area: str, after: str | None, limit: int
    ) -> list[Household]:
        area_doc = await self.repo.get_area(area)
        if area_doc is None:
            raise NotFound("区域不存在", field="area")
        principal.require_area(area_doc["path"], field="area")
        docs = await self.repo.list_households(area, after=after, limit=limit)
        return [Household.from_doc(d) for d in docs]

    # residents -----------------------------------------------------------
    async def register_resident(
        self, *, principal: Principal, data: ResidentIn, correlation_id: str | None = None
    ) -> Resident:
        outcome = await self._register_residents(principal=principal, rows=[(0, data)], correlation_id=correlation_id)
        doc = await self.repo.get_resident(outcome.single())
        assert doc is not None
        return Resident.from_doc(doc)

    async def register_residents_batch(
        self, *, principal: Principal, rows: list[dict[str, Any]], correlation_id: str | None = None
    ) -> BatchResult:
        good, bad = parse_rows(rows, ResidentIn, max_items=self.batch_max)
        outcome = await self._register_residents(principal=principal, rows=good, correlation_id=correlation_id)
        return outcome.result(bad)

    async def _register_residents(
        self, *, principal: Principal, rows: list[tuple[int, ResidentIn]], correlation_id: str | None
    ) -> Outcome:
        principal.require(Action.REGISTRY_WRITE)
        hashes = {index: keyed_hash(r.national_id, self.pii_key) for index, r in rows}

        async def work(tx: Tx) -> Outcome:
            outcome = Outcome()
            households = await self.repo.get_households(sorted({r.household_id for _, r in rows}), tx.session)
            taken = await self.repo.existing_id_hashes(list(hashes.values()), tx.session)
            docs: list[Doc] = []
            for index, data in rows:
                try:
                    household = households.get(data.household_id)
                    if household is None:
                        raise NotFound("该户不存在", field="household_id")
                    principal.require_area(household["area_path"], field="household_id")
                    if household["community_code"] != data.community_code:
                        raise InvalidInput(
                            f"该户属于社区 {household['community_code']},不属于 {data.community_code}",
                            field="household_id",
                        )
                    if hashes[index] in taken:
                        raise Conflict("该身份证号码已登记", field="national_id")
                except DomainError as err:
                    outcome.reject(index, err)
                    continue
                taken.add(hashes[index])
                nid = parse_national_id(data.national_id)
                rid = new_id()
                doc = {
                    "_id": rid,
                    "household_id": data.household_id,
                    "name": data.name,
                    "national_id_hash": hashes[index],
                    "national_id_masked": nid.masked,
                    "phone_hash": keyed_hash(data.phone, self.pii_key) if data.phone else None,
                    "phone_masked": mask_phone(data.phone) if data.phone else None,
                    "sex": nid.sex,
                    "birth_date": nid.birth_date.isoformat(),
                    "labour_capacity": data.labour_capacity,
                    "status": "active",
                    "moved_out_on": None,
                    "area_path": household["area_path"],
                }
                docs.append(doc)
                tx.record(
                    ResidentRegistered(
                        resident_id=rid,
                        household_id=data.household_id,
                        household_kind=household["kind"],
                        name_masked=mask_name(data.name),
                        national_id_masked=nid.masked,
                        sex=nid.sex,
                        birth_year=nid.birth_date.year,
                        labour_capacity=data.labour_capacity,
                    ),
                    area_path=household["area_path"],
                    aggregate_id=data.household_id,
                )
                outcome.accept(index, rid)
            if docs:
                await self.repo.insert_residents(docs, tx.session)
            return outcome

        return await self.uow.run(work, correlation_id=correlation_id)

    async def get_resident(self, *, principal: Principal, resident_id: str) -> Resident:
        doc = await self.repo.get_resident(resident_id)
        if doc is None:
            raise NotFound("居民不存在", field="resident_id")
        principal.require_visible(doc["area_path"], "居民")
        return Resident.from_doc(doc)

    async def update_resident(
        self, *, principal: Principal, resident_id: str, data: ResidentUpdate, correlation_id: str | None = None
    ) -> Resident:
        principal.require(Action.REGISTRY_WRITE)

        async def work(tx: Tx) -> None:
            doc = await self._active_resident(principal, resident_id, tx)
            if doc["labour_capacity"] == data.labour_capacity:
                return  # nothing changes, nothing to tell
            await self.repo.update_resident(resident_id, {"labour_capacity": data.labour_capacity}, tx.session)
            tx.record(
                ResidentUpdated(
                    resident_id=resident_id, household_id=doc["household_id"], labour_capacity=data.labour_capacity
                ),
                area_path=doc["area_path"],
                aggregate_id=doc["household_id"],
            )

        await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_resident(principal=principal, resident_id=resident_id)

    async def move_out(
        self, *, principal: Principal, resident_id: str, data: MoveOut, correlation_id: str | None = None
    ) -> Resident:
        principal.require(Action.REGISTRY_WRITE)
        if data.moved_out_on > business_today(self.clock):
            raise InvalidInput("迁出日期不能晚于今天", field="moved_out_on")

        async def work(tx: Tx) -> None:
            doc = await self._active_resident(principal, resident_id, tx)
            household = await self.repo.get_household(doc["household_id"], tx.session)
            assert household is not None
            household_kind = household["kind"]
            await self.repo.update_resident(
                resident_id, {"status": "moved_out", "moved_out_on": data.moved_out_on.isoformat()}, tx.session
            )
            tx.record(
                ResidentMovedOut(
                    resident_id=resident_id,
                    household_id=doc["household_id"],
                    household_kind=household_kind,
                    labour_capacity=doc["labour_capacity"],
                    moved_out_on=data.moved_out_on,
                    reason=data.reason,
                ),
                area_path=doc["area_path"],
                aggregate_id=doc["household_id"],
            )

        await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_resident(principal=principal, resident_id=resident_id)

    async def _active_resident(self, principal: Principal, resident_id: str, tx: Tx) -> Doc:
        doc = await self.repo.get_resident(resident_id, tx.session)
        if doc is None or not principal.covers(doc["area_path"]):
            raise NotFound("居民不存在", field="resident_id")
        if doc["status"] != "active":
            raise Conflict("该居民已迁出", field="resident_id", status=doc["status"])
        return doc


def _code_prefix(parent: Doc) -> str:
    """Children's codes extend the parent's: a town's community shares its first 9 digits, a
    community's grid is `<community>-Gnn`, a grid's building `<grid>-Bnn`."""
    code: str = parent["_id"]
    if parent["level"] == Level.TOWN:
        return code[:9]
    if parent["level"] in (Level.COMMUNITY, Level.GRID):
        return code + "-"
    return code


def _check_placement(principal: Principal, areas: dict[str, Doc], data: HouseholdIn) -> Doc:
    community = areas.get(data.community_code)
    if community is None or community["level"] != Level.COMMUNITY:
        raise InvalidInput("安置社区不存在", field="community_code")
    # a grid worker covers their grid's buildings, not the whole community: their scope is checked
    # on the building's path below; anyone with no part of the community is refused on it here
    if not any(within_subtree(code, community["_id"]) for code in principal.areas):
        principal.require_area(community["path"], field="community_code")
    grid = areas.get(data.grid_code)
    if grid is None or grid["level"] != Level.GRID or grid["parent"] != data.community_code:
        raise InvalidInput("网格不存在或不属于该社区", field="grid_code")
    building = areas.get(data.building_code)
    if building is None or building["level"] != Level.BUILDING or building["parent"] != data.grid_code:
        raise InvalidInput("楼栋不存在或不属于该网格", field="building_code")
    principal.require_area(building["path"], field="building_code")
    return building


def within_subtree(code: str, community: str) -> bool:
    """A grid or building code inside the community (`<community>-Gnn…`)."""
    return code.startswith(community + "-")


# =============================================================================================
# Community work: staffing, party organisations, the 四单 requests and their deadline
# scheduler, disputes, door-to-door services and the points supermarket. One class per part;
# `CommunityServices` holds them all.

SCAN_SECONDS = Histogram(
    "governance_deadline_scan_seconds",
    "Duration of one deadline scan",
    buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30),
)
DEADLINE_EVENTS = Counter("governance_deadline_events_total", "Events recorded by the deadline scheduler", ["type"])

_ROLE_PREFERENCE = (
    Role.GRID_WORKER,
    Role.BUILDING_HEAD,
    Role.COMMUNITY_CADRE,
    Role.PARTY_SECRETARY,
    Role.COUNTY_OFFICER,
    Role.CITY_OFFICER,
    Role.BUREAU_SYSTEM,
    Role.COMMISSION_VIEWER,
)


def actor_of(principal: Principal, action: Action) -> Actor:
    """The principal acting in the most specific of their roles that may do `action`."""
    role = next((r for r in _ROLE_PREFERENCE if r in principal.roles and action in ROLE_ACTIONS[r]), None)
    if role is None:
        role = next(r for r in _ROLE_PREFERENCE if r in principal.roles)
    return Actor(subject=principal.subject, name=principal.name, role=role.value)


class _CommunityPart:
    def __init__(self, *, uow: UnitOfWork, repo: CommunityRepository, clock: Clock) -> None:
        self.uow = uow
        self.repo = repo
        self.clock = clock

    async def _area(self, code: str, tx: Tx, *, level: Level, field: str) -> Doc:
        doc = await self.repo.get_area(code, tx.session)
        if doc is None or doc["level"] != level:
            raise InvalidInput(f"{level.label}不存在", field=field)
        return doc

    async def _household(self, household_id: str, tx: Tx | None = None) -> Doc:
        doc = await self.repo.get_household(household_id, tx.session if tx else None)
        if doc is None:
            raise NotFound("该户不存在", field="household_id")
        return doc


# --- staffing ------------------------------------------------------------------------------------


class StaffService(_CommunityPart):
    """Grid workers to grids, building heads to buildings, community cadres (and the party
    secretary) to communities, county officers to counties. Whoever assigns must be
    responsible for the area above the one assigned to: a community cadre staffs the grids and
    buildings of their community, a county officer the communities of their county."""

    async def assign(self, *, principal: Principal, data: StaffIn, correlation_id: str | None = None) -> Staff:
        principal.require(Action.STAFF_WRITE)
        level = STAFF_ROLE_LEVEL[data.role]

        async def work(tx: Tx) -> Doc:
            area = await self.repo.get_area(data.area_code, tx.session)
            if area is None:
                raise InvalidInput("区域不存在", field="area_code")
            if area["level"] != level:
                raise InvalidInput(
                    f"{STAFF_ROLE_LABELS[data.role]}应分配到{level.label},该区域是{Level(area['level']).label}",
                    field="area_code",
                )
            principal.require_area(area["path"][:-1] or area["path"], field="area_code")
            staff_id = staff_id_for(data.role, data.area_code, data.subject)
            existing = await self.repo.get_staff(staff_id, tx.session)
            if existing is not None and existing["active"]:
                raise Conflict("该人员已分配到该区域", field="subject")
            doc = {
                "_id": staff_id,
                "subject": data.subject,
                "name": data.name,
                "role": data.role.value,
                "area_code": data.area_code,
                "area_level": area["level"],
                "area_path": area["path"],
                "active": True,
                "assigned_at": self.clock(),
                "assigned_by": principal.subject,
                "unassigned_at": None,
            }
            await self.repo.save_staff(doc, tx.session)
            tx.record(
                StaffAssigned(
                    staff_id=staff_id,
                    subject=data.subject,
                    name_masked=mask_name(data.name),
                    role=data.role.value,
                    area_code=data.area_code,
                    area_level=area["level"],
                ),
                area_path=area["path"],
                aggregate_id=staff_id,
            )
            return doc

        return Staff.from_doc(await self.uow.run(work, correlation_id=correlation_id))

    async def unassign(self, *, principal: Principal, staff_id: str, correlation_id: str | None = None) -> Staff:
        principal.require(Action.STAFF_WRITE)

        async def work(tx: Tx) -> Doc:
            doc = await self.repo.get_staff(staff_id, tx.session)
            if doc is None:
                raise NotFound("人员不存在", field="staff_id")
            principal.require_area(doc["area_path"][:-1] or doc["area_path"], field="staff_id")
            if not doc["active"]:
                raise Conflict("该人员已解除分配", field="staff_id")
            doc = {**doc, "active": False, "unassigned_at": self.clock(), "unassigned_by": principal.subject}
            await self.repo.save_staff(doc, tx.session)
            tx.record(
                StaffUnassigned(
                    staff_id=staff_id, subject=doc["subject"], role=doc["role"], area_code=doc["area_code"]
                ),
                area_path=doc["area_path"],
                aggregate_id=staff_id,
            )
            return doc

        return Staff.from_doc(await self.uow.run(work, correlation_id=correlation_id))

    async def get(self, *, principal: Principal, staff_id: str) -> Staff:
        doc = await self.repo.get_staff(staff_id)
        if doc is None:
            raise NotFound("人员不存在", field="staff_id")
        principal.require_visible(doc["area_path"], "人员")
        return Staff.from_doc(doc)

    async def list(
        self, *, principal: Principal, area: str, role: StaffRole | None, active_only: bool, limit: int
    ) -> list[Staff]:
        area_doc = await self.repo.get_area(area)
        if area_doc is None:
            raise NotFound("区域不存在", field="area")
        principal.require_area(area_doc["path"], field="area")
        docs = await self.repo.list_staff(area, role=role.value if role else None, active_only=active_only, limit=limit)
        return [Staff.from_doc(d) for d in docs]


# --- party organisations -------------------------------------------------------------------------


class PartyService(_CommunityPart):
    """Party organisations of a community: 党总支, 党支部 (under it or directly under the
    community, also per grid), 党小组 (under a 党支部, also per building)."""

    async def register(self, *, principal: Principal, data: PartyOrgIn, correlation_id: str | None = None) -> PartyOrg:
        principal.require(Action.PARTY_WRITE)

        async def work(tx: Tx) -> Doc:
            community = await self._area(data.community_code, tx, level=Level.COMMUNITY, field="community_code")
            principal.require_area(community["path"], field="community_code")
            area = community
            if data.area_code and data.area_code != data.community_code:
                found = await self.repo.get_area(data.area_code, tx.session)
                if found is None or data.community_code not in found["path"]:
                    raise InvalidInput("党组织所在区域不存在或不属于该社区", field="area_code")
                area = found
            if Level(area["level"]) not in PARTY_AREA_LEVELS[data.kind]:
                allowed = "、".join(lv.label for lv in sorted(PARTY_AREA_LEVELS[data.kind], key=lambda lv: lv.depth))
                raise InvalidInput(f"{PARTY_ORG_KIND_LABELS[data.kind]}应设在{allowed}", field="area_code")
            parent_kind: PartyOrgKind | None = None
            if data.parent_id:
                parent = await self.repo.get_party_org(data.parent_id, tx.session)
                if parent is None or parent["community_code"] != data.community_code:
                    raise InvalidInput("上级党组织不存在或不属于该社区", field="parent_id")
                parent_kind = PartyOrgKind(parent["kind"])
            if parent_kind not in PARTY_PARENT_KINDS[data.kind]:
                raise InvalidInput(
                    f"{PARTY_ORG_KIND_LABELS[data.kind]}的上级不能是"
                    f"{PARTY_ORG_KIND_LABELS[parent_kind] if parent_kind else '社区(须填写上级党组织)'}",
                    field="parent_id",
                )
            siblings = await self.repo.community_party_orgs(data.community_code, tx.session)
            if any(s["name"] == data.name for s in siblings):
                raise Conflict("该社区已有同名党组织", field="name")
            doc = {
                "_id": new_id(),
                "name": data.name,
                "kind": data.kind.value,
                "community_code": data.community_code,
                "area_code": area["_id"],
                "area_path": area["path"],
                "parent_id": data.parent_id,
                "secretary_name": data.secretary_name,
                "members": data.members,
                "registered_at": self.clock(),
            }
            await self.repo.insert_party_org(doc, tx.session)
            tx.record(
                PartyOrgRegistered(
                    party_org_id=doc["_id"],
                    kind=data.kind,
                    name=data.name,
                    community_code=data.community_code,
                    area_code=area["_id"],
                    parent_id=data.parent_id,
                    members=data.members,
                ),
                area_path=area["path"],
                aggregate_id=doc["_id"],
            )
            return doc

        return PartyOrg.from_doc(await self.uow.run(work, correlation_id=correlation_id))

    async def list(self, *, principal: Principal, community: str) -> list[PartyOrg]:
        area = await self.repo.get_area(community)
        if area is None or area["level"] != Level.COMMUNITY:
            raise NotFound("安置社区不存在", field="community")
        principal.require_area(area["path"], field="community")
        return [PartyOrg.from_doc(d) for d in await self.repo.community_party_orgs(community)]


# --- resident requests (四单) ---------------------------------------------------------------------

Apply = Callable[[Tx, RequestCase, Actor, datetime], Awaitable[None]]


class RequestService(_CommunityPart):
    """群众点单 → 社区派单 → 网格员接单 → 办结 → 党组织评单, with 吹哨/报到 and reopening. Every
    command loads the request in a transaction, lets the aggregate check and apply it, and saves
    it with a compare-and-set on its version together with the events it means: of two
    concurrent accepts exactly one wins, the other gets a 409 naming the state it now has."""

    def __init__(self, *, uow: UnitOfWork, repo: CommunityRepository, policy: DeadlinePolicy, clock: Clock) -> None:
        super().__init__(uow=uow, repo=repo, clock=clock)
        self.policy = policy

    async def submit(
        self, *, principal: Principal, data: RequestIn, correlation_id: str | None = None
    ) -> ResidentRequest:
        principal.require(Action.REQUEST_SUBMIT)
        actor = actor_of(principal, Action.REQUEST_SUBMIT)

        async def work(tx: Tx) -> RequestCase:
            building = await self._area(data.building_code, tx, level=Level.BUILDING, field="building_code")
            principal.require_area(building["path"], field="building_code")
            if data.household_id is not None:
                household = await self._household(data.household_id, tx)
                if household["building_code"] != data.building_code:
                    raise InvalidInput("该户不住在这个楼栋", field="household_id")
            case = RequestCase.submit(
                request_id=new_id(),
                category=data.category,
                urgency=data.urgency,
                source=data.source,
                description=data.description,
                household_id=data.household_id,
                building_path=building["path"],
                by=actor,
                now=self.clock(),
                policy=self.policy,
            )
            await self.repo.insert_request(case.to_doc(), tx.session)
            self._record(tx, case)
            return case

        return ResidentRequest.from_case(await self.uow.run(work, correlation_id=correlation_id))

    @staticmethod
    def _record(tx: Tx, case: RequestCase) -> None:
        for event in case.events:
            tx.record(event, area_path=case.area_path, aggregate_id=case.id)

    async def get(self, *, principal: Principal, request_id: str) -> ResidentRequest:
        doc = await self.repo.get_request(request_id)
        if doc is None:
            raise NotFound("诉求不存在", field="request_id")
        principal.require_visible(doc["area_path"], "诉求")
        return ResidentRequest.from_case(RequestCase.from_doc(doc))

    async def list(
        self,
        *,
        principal: Principal,
        area: str,
        state: RequestState | None,
        overdue: bool | None,
        after: str | None,
        limit: int,
    ) -> list[ResidentRequest]:
        area_doc = await self.repo.get_area(area)
        if area_doc is None:
            raise NotFound("区域不存在", field="area")
        principal.require_area(area_doc["path"], field="area")
        docs = await self.repo.list_requests(
            area, state=state.value if state else None, overdue=overdue, after=after, limit=limit
        )
        return [ResidentRequest.from_case(RequestCase.from_doc(d)) for d in docs]

    async def _command(
        self, *, principal: Principal, request_id: str, action: Action, apply: Apply, correlation_id: str | None
    ) -> ResidentRequest:
        principal.require(action)
        actor = actor_of(principal, action)

        async def work(tx: Tx) -> RequestCase:
            doc = await self.repo.get_request(request_id, tx.session)
            if doc is None:
                raise NotFound("诉求不存在", field="request_id")
            principal.require_area(doc["area_path"], field="request_id")
            case = RequestCase.from_doc(doc)
            await apply(tx, case, actor, self.clock())
            expected, case.version = case.version, case.version + 1
            if not await self.repo.replace_request(case.to_doc(), expected_version=expected, session=tx.session):
                current = await self.repo.get_request(request_id, tx.session)
                state = RequestState(current["state"]) if current else case.state
                raise Conflict(
                    f"该诉求刚被他人更新(当前状态为「{REQUEST_STATE_LABELS[state]}」),请刷新后重试",
                    field="version",
                    state=state.value,
                )
            self._record(tx, case)
            return case

        return ResidentRequest.from_case(await self.uow.run(work, correlation_id=correlation_id))

    async def _require_grid_worker(self, principal: Principal, case: RequestCase, tx: Tx) -> None:
        staff = await self.repo.get_staff(
            staff_id_for(StaffRole.GRID_WORKER, case.grid_code, principal.subject), tx.session
        )
        if staff is None or not staff["active"]:
            raise Forbidden("您不是该诉求所在网格的网格员", field="request_id")

    async def dispatch(
        self, *, principal: Principal, request_id: str, data: DispatchIn, correlation_id: str | None = None
    ) -> ResidentRequest:
        async def apply(tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
            case.check(Command.DISPATCH)
            staff = await self.repo.get_staff(data.staff_id, tx.session)
            if (
                staff is None
                or not staff["active"]
                or staff["role"] != StaffRole.GRID_WORKER
                or staff["area_code"] != case.grid_code
            ):
                raise InvalidInput("只能派给该诉求所在网格的在岗网格员", field="staff_id")
            assignee = Assignee(staff_id=staff["_id"], subject=staff["subject"], name=staff["name"])
            case.dispatch(assignee=assignee, by=actor, now=now, policy=self.policy)

        return await self._command(
            principal=principal,
            request_id=request_id,
            action=Action.REQUEST_DISPATCH,
            apply=apply,
            correlation_id=correlation_id,
        )

    async def accept(
        self, *, principal: Principal, request_id: str, correlation_id: str | None = None
    ) -> ResidentRequest:
        async def apply(tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
            await self._require_grid_worker(principal, case, tx)
            case.accept(by=actor, now=now, policy=self.policy)

        return await self._command(
            principal=principal,
            request_id=request_id,
            action=Action.REQUEST_HANDLE,
            apply=apply,
            correlation_id=correlation_id,
        )

    async def resolve(
        self, *, principal: Principal, request_id: str, data: ResolveIn, correlation_id: str | None = None
    ) -> ResidentRequest:
        async def apply(tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
            await self._require_grid_worker(principal, case, tx)
            case.resolve(summary=data.summary, by=actor, now=now, policy=self.policy)

        return await self._command(
            principal=principal,
            request_id=request_id,
            action=Action.REQUEST_HANDLE,
            apply=apply,
            correlation_id=correlation_id,
        )

    async def rate(
        self, *, principal: Principal, request_id: str, data: RateIn, correlation_id: str | None = None
    ) -> ResidentRequest:
        async def apply(tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
            case.check(Command.RATE)
            org_id = await self._rating_org(case, data.party_org_id, tx)
            case.rate(score=data.score, comment=data.comment, party_org_id=org_id, by=actor, now=now)

        return await self._command(
            principal=principal,
            request_id=request_id,
            action=Action.REQUEST_RATE,
            apply=apply,
            correlation_id=correlation_id,
        )

    async def _rating_org(self, case: RequestCase, party_org_id: str | None, tx: Tx) -> str | None:
        """The party organisation on whose behalf the rating is made: the one named (of the
        request's community), else the community's 党总支, else its top 党支部, else none."""
        if party_org_id is not None:
            org = await self.repo.get_party_org(party_org_id, tx.session)
            if org is None or org["community_code"] != case.community_code:
                raise InvalidInput("党组织不存在或不属于该诉求所在社区", field="party_org_id")
            return party_org_id
        orgs = await self.repo.community_party_orgs(case.community_code, tx.session)
        for kind in (PartyOrgKind.GENERAL_BRANCH, PartyOrgKind.BRANCH):
            for org in orgs:
                if org["kind"] == kind and not org.get("parent_id"):
                    org_id: str = org["_id"]
                    return org_id
        return None

    async def reopen(
        self, *, principal: Principal, request_id: str, data: ReopenIn, correlation_id: str | None = None
    ) -> ResidentRequest:
        async def apply(_tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
            case.reopen(reason=data.reason, by=actor, now=now, policy=self.policy)

        return await self._command(
            principal=principal,
            request_id=request_id,
            action=Action.REQUEST_REOPEN,
            apply=apply,
            correlation_id=correlation_id,
        )

    async def escalate(
        self, *, principal: Principal, request_id: str, data: EscalateIn, correlation_id: str | None = None
    ) -> ResidentRequest:
        async def apply(_tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
            case.escalate(department=data.department, reason=data.reason, by=actor, now=now, policy=self.policy)

        return await self._command(
            principal=principal,
            request_id=request_id,
            action=Action.REQUEST_ESCALATE,
            apply=apply,
            correlation_id=correlation_id,
        )

    async def report(
        self, *, principal: Principal, request_id: str, data: ReportIn, correlation_id: str | None = None
    ) -> ResidentRequest:
        async def apply(_tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
            case.report(note=data.note, by=actor, now=now)

        return await self._command(
            principal=principal,
            request_id=request_id,
            action=Action.REQUEST_REPORT,
            apply=apply,
            correlation_id=correlation_id,
        )


# --- the deadline scheduler ------------------------------------------------------------------------


@dataclass
class ScanResult:
    requests_due: int = 0
    requests_changed: int = 0
    disputes_due: int = 0
    disputes_changed: int = 0
    failed: int = 0
    events: dict[str, int] = field(default_factory=dict)

    def count(self, events: list[str]) -> None:
        for t in events:
            self.events[t] = self.events.get(t, 0) + 1


class DeadlineScheduler:
    """Watches the deadlines that are data on the requests and disputes (`next_deadline_at`).

    A scan reads the due ids from the deadline index, then handles each in its own transaction:
    it re-reads the record, lets the aggregate decide (overdue, escalated), saves it with a
    compare-and-set on its version and records the events in the same transaction. Two
    instances scanning at once, or a scan cancelled half-way and run again after a restart,
    record every overdue and escalation exactly once: a record another scan already moved is no
    longer due (or its version no longer matches) and is left alone. `scan(now=...)` is public so
    that tests can drive it with a fake clock."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        repo: CommunityRepository,
        policy: DeadlinePolicy,
        clock: Clock,
        interval_seconds: float = 15.0,
        batch: int = 500,
        concurrency: int = 8,
    ) -> None:
        self.uow = uow
        self.repo = repo
        self.policy = policy
        self.clock = clock
        self.interval_seconds = interval_seconds
        self.batch = batch
        self.concurrency = concurrency
        self._task: asyncio.Task[None] | None = None

    async def scan(self, *, now: datetime | None = None) -> ScanResult:
        now = now or self.clock()
        result = ScanResult()
        started = time.perf_counter()
        await self._scan_kind(now, result, self.repo.due_request_ids, self._request_due, "requests")
        await self._scan_kind(now, result, self.repo.due_dispute_ids, self._dispute_due, "disputes")
        SCAN_SECONDS.observe(time.perf_counter() - started)
        return result

    async def _scan_kind(
        self,
        now: datetime,
        result: ScanResult,
        due_ids: Callable[..., Awaitable[list[str]]],
        handle: Callable[[str, datetime], Awaitable[list[str]]],
        kind: str,
    ) -> None:
        left_alone: list[str] = []  # failed or unchanged: not asked for again in this scan
        limit = asyncio.Semaphore(self.concurrency)

        async def one(record_id: str) -> list[str] | BaseException:
            async with limit:
                # A cancelled scan (shutdown) finishes the record in hand: a transaction cut off
                # mid-way would stay open on the server and hold the record until it times out.
                inner = asyncio.ensure_future(handle(record_id, now))
                try:
                    return await asyncio.shield(inner)
                except asyncio.CancelledError:
                    if not inner.done():
                        with contextlib.suppress(Exception):
                            await inner
                    raise
                except Exception as exc:  # one bad record must not stop the others
                    log.warning("deadline handling failed", record=record_id, kind=kind, error=str(exc))
                    return exc

        while True:
            ids = await due_ids(now, exclude=left_alone, limit=self.batch)
            if not ids:
                return
            # a task group, unlike gather, waits for every record in hand when the scan is cancelled
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(i)) for i in ids]
            for record_id, outcome in zip(ids, (t.result() for t in tasks), strict=True):
                if kind == "requests":
                    result.requests_due += 1
                else:
                    result.disputes_due += 1
                if isinstance(outcome, BaseException):
                    result.failed += 1
                    left_alone.append(record_id)
                elif not outcome:
                    left_alone.append(record_id)
                else:
                    if kind == "requests":
                        result.requests_changed += 1
                    else:
                        result.disputes_changed += 1
                    result.count(outcome)
                    for t in outcome:
                        DEADLINE_EVENTS.labels(t).inc()

    async def _request_due(self, request_id: str, now: datetime) -> list[str]:
        async def work(tx: Tx) -> list[str]:
            doc = await self.repo.get_request(request_id, tx.session)
            if doc is None:
                return []
            case = RequestCase.from_doc(doc)
            if not case.on_deadline(now=now, policy=self.policy):
                return []
            expected, case.version = case.version, case.version + 1
            if not await self.repo.replace_request(case.to_doc(), expected_version=expected, session=tx.session):
                return []
            for event in case.events:
                tx.record(event, area_path=case.area_path, aggregate_id=case.id)
            return [e.event_type for e in case.events]

        return await self.uow.run(work)

    async def _dispute_due(self, dispute_id: str, now: datetime) -> list[str]:
        async def work(tx: Tx) -> list[str]:
            doc = await self.repo.get_dispute(dispute_id, tx.session)
            if doc is None:
                return []
            case = DisputeCase.from_doc(doc)
            if not case.on_deadline(now=now):
                return []
            expected, case.version = case.version, case.version + 1
            if not await self.repo.replace_dispute(case.to_doc(), expected_version=expected, session=tx.session):
                return []
            for event in case.events:
                tx.record(event, area_path=case.area_path, aggregate_id=case.id)
            return [e.event_type for e in case.events]

        return await self.uow.run(work)

    async def run(self) -> None:
        while True:
            try:
                result = await self.scan()
                if result.requests_changed or result.disputes_changed:
                    log.info("deadlines handled", requests=result.requests_changed, disputes=result.disputes_changed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database trouble: the deadlines stay in the data, try again
                log.warning("deadline scan failed", error=str(exc))
            await asyncio.sleep(self.interval_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="deadline-scheduler")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None


# --- disputes (矛盾纠纷调解) ------------------------------------------------------------------------


class DisputeService(_CommunityPart):
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        repo: CommunityRepository,
        pii_key: bytes,
        deadline_days: int = 30,
        clock: Clock,
    ) -> None:
        super().__init__(uow=uow, repo=repo, clock=clock)
        self.pii_key = pii_key
        self.deadline_days = deadline_days

    async def register(self, *, principal: Principal, data: DisputeIn, correlation_id: str | None = None) -> Dispute:
        principal.require(Action.DISPUTE_WRITE)
        actor = actor_of(principal, Action.DISPUTE_WRITE)

        async def work(tx: Tx) -> DisputeCase:
            community = await self._area(data.community_code, tx, level=Level.COMMUNITY, field="community_code")
            principal.require_area(community["path"], field="community_code")
            path = community["path"]
            if data.building_code is not None:
                building = await self._area(data.building_code, tx, level=Level.BUILDING, field="building_code")
                if data.community_code not in building["path"]:
                    raise InvalidInput("该楼栋不属于这个社区", field="building_code")
                path = building["path"]
            parties = []
            for i, p in enumerate(data.parties):
                if p.household_id is not None:
                    household = await self.repo.get_household(p.household_id, tx.session)
                    if household is None or household["community_code"] != data.community_code:
                        raise InvalidInput("该户不存在或不属于这个社区", field=f"parties.{i}.household_id")
                parties.append(self._party_doc(p))
            now = self.clock()
            case = DisputeCase.register(
                dispute_id=new_id(),
                kind=data.kind,
                summary=data.summary,
                community_code=data.community_code,
                building_code=data.building_code,
                area_path=path,
                parties=parties,
                mediator_name=data.mediator_name,
                mediator_subject=data.mediator_subject,
                by=actor,
                now=now,
                due_at=now + timedelta(days=data.due_in_days or self.deadline_days),
            )
            await self.repo.insert_dispute(case.to_doc(), tx.session)
            for event in case.events:
                tx.record(event, area_path=case.area_path, aggregate_id=case.id)
            return case

        return Dispute.from_case(await self.uow.run(work, correlation_id=correlation_id))

    def _party_doc(self, p: DisputePartyIn) -> Doc:
        """Names masked; ID and phone numbers only as a keyed hash and a masked form."""
        doc: Doc = {"name_masked": mask_name(p.name), "role": p.role, "household_id": p.household_id}
        if p.national_id:
            doc["national_id_hash"] = keyed_hash(p.national_id, self.pii_key)
            doc["national_id_masked"] = parse_national_id(p.national_id).masked
        if p.phone:
            doc["phone_hash"] = keyed_hash(p.phone, self.pii_key)
            doc["phone_masked"] = mask_phone(p.phone)
        return doc

    async def get(self, *, principal: Principal, dispute_id: str) -> Dispute:
        doc = await self.repo.get_dispute(dispute_id)
        if doc is None:
            raise NotFound("纠纷不存在", field="dispute_id")
        principal.require_visible(doc["area_path"], "纠纷")
        return Dispute.from_case(DisputeCase.from_doc(doc))

    async def list(
        self, *, principal: Principal, area: str, state: DisputeState | None, after: str | None, limit: int
    ) -> list[Dispute]:
        area_doc = await self.repo.get_area(area)
        if area_doc is None:
            raise NotFound("区域不存在", field="area")
        principal.require_area(area_doc["path"], field="area")
        docs = await self.repo.list_disputes(area, state=state.value if state else None, after=after, limit=limit)
        return [Dispute.from_case(DisputeCase.from_doc(d)) for d in docs]

    async def _command(
        self,
        *,
        principal: Principal,
        dispute_id: str,
        apply: Callable[[DisputeCase, Actor, datetime], None],
        correlation_id: str | None,
    ) -> Dispute:
        principal.require(Action.DISPUTE_WRITE)
        actor = actor_of(principal, Action.DISPUTE_WRITE)

        async def work(tx: Tx) -> DisputeCase:
            doc = await self.repo.get_dispute(dispute_id, tx.session)
            if doc is None:
                raise NotFound("纠纷不存在", field="dispute_id")
            principal.require_area(doc["area_path"], field="dispute_id")
            case = DisputeCase.from_doc(doc)
            apply(case, actor, self.clock())
            expected, case.version = case.version, case.version + 1
            if not await self.repo.replace_dispute(case.to_doc(), expected_version=expected, session=tx.session):
                raise Conflict("该纠纷刚被他人更新,请刷新后重试", field="version")
            for event in case.events:
                tx.record(event, area_path=case.area_path, aggregate_id=case.id)
            return case

        return Dispute.from_case(await self.uow.run(work, correlation_id=correlation_id))

    async def add_session(
        self, *, principal: Principal, dispute_id: str, data: SessionIn, correlation_id: str | None = None
    ) -> Dispute:
        def apply(case: DisputeCase, actor: Actor, now: datetime) -> None:
            case.add_session(held_at=data.held_at or now, note=data.note, by=actor, now=now)

        return await self._command(
            principal=principal, dispute_id=dispute_id, apply=apply, correlation_id=correlation_id
        )

    async def conclude(
        self, *, principal: Principal, dispute_id: str, data: OutcomeIn, correlation_id: str | None = None
    ) -> Dispute:
        def apply(case: DisputeCase, actor: Actor, now: datetime) -> None:
            case.conclude(outcome=data.outcome, referred_to=data.referred_to, note=data.note, by=actor, now=now)

        return await self._command(
            principal=principal, dispute_id=dispute_id, apply=apply, correlation_id=correlation_id
        )


# --- door-to-door services (上门服务) ---------------------------------------------------------------


class VisitService(_CommunityPart):
    async def record(self, *, principal: Principal, data: VisitIn, correlation_id: str | None = None) -> Visit:
        principal.require(Action.VISIT_WRITE)
        actor = actor_of(principal, Action.VISIT_WRITE)
        now = self.clock()
        if data.visited_on > business_day(now):
            raise InvalidInput("上门服务日期不能晚于今天", field="visited_on")

        async def work(tx: Tx) -> Doc:
            household = await self._household(data.household_id, tx)
            principal.require_area(household["area_path"], field="household_id")
            doc = {
                "_id": new_id(),
                "household_id": data.household_id,
                "service": data.service.value,
                "description": data.description,
                "visited_on": data.visited_on.isoformat(),
                "visitor": actor.to_doc(),
                "area_path": household["area_path"],
                "recorded_at": now,
            }
            await self.repo.insert_visit(doc, tx.session)
            tx.record(
                VisitRecorded(
                    visit_id=doc["_id"],
                    household_id=data.household_id,
                    service=data.service,
                    visited_on=data.visited_on,
                    visitor_subject=scrub(actor.subject),
                    visitor_role=actor.role,
                    visitor_name_masked=mask_name(actor.name or actor.subject),
                ),
                area_path=household["area_path"],
                aggregate_id=data.household_id,
            )
            return doc

        return Visit.from_doc(await self.uow.run(work, correlation_id=correlation_id))

    async def get(self, *, principal: Principal, visit_id: str) -> Visit:
        doc = await self.repo.get_visit(visit_id)
        if doc is None:
            raise NotFound("上门服务记录不存在", field="visit_id")
        principal.require_visible(doc["area_path"], "上门服务记录")
        return Visit.from_doc(doc)

    async def list(
        self,
        *,
        principal: Principal,
        area: str,
        since: date | None,
        until: date | None,
        after: str | None,
        limit: int,
    ) -> list[Visit]:
        area_doc = await self.repo.get_area(area)
        if area_doc is None:
            raise NotFound("区域不存在", field="area")
        principal.require_area(area_doc["path"], field="area")
        docs = await self.repo.list_visits(
            area,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            after=after,
            limit=limit,
        )
        return [Visit.from_doc(d) for d in docs]


# --- the points supermarket (积分超市) --------------------------------------------------------------


class PointsService(_CommunityPart):
    """A household's points: awarded by a cadre for a civic act, redeemed for goods. The balance
    is taken only by a conditional update that requires it to cover the redemption, so it never
    goes negative and two concurrent redemptions cannot spend the same points; every award and
    redemption is a ledger entry. A `request_key` makes a retried call change nothing."""

    def __init__(self, *, uow: UnitOfWork, repo: CommunityRepository, ledger_page: int = 100, clock: Clock) -> None:
        super().__init__(uow=uow, repo=repo, clock=clock)
        self.ledger_page = ledger_page

    async def _replayed(self, entry_id: str | None, kind: str, tx: Tx) -> Doc | None:
        if entry_id is None:
            return None
        existing = await self.repo.get_points_entry(entry_id, tx.session)
        if existing is not None and existing["kind"] != kind:
            raise Conflict("该幂等键已用于另一类积分记录", field="request_key")
        return existing

    async def award(self, *, principal: Principal, data: AwardIn, correlation_id: str | None = None) -> PointsEntry:
        principal.require(Action.POINTS_WRITE)
        actor = actor_of(principal, Action.POINTS_WRITE)

        async def work(tx: Tx) -> Doc:
            household = await self._household(data.household_id, tx)
            principal.require_area(household["area_path"], field="household_id")
            keyed = points_entry_id(data.household_id, data.request_key)
            replay = await self._replayed(keyed, "award", tx)
            if replay is not None:
                return replay
            now = self.clock()
            account = await self.repo.credit_points(
                data.household_id, data.points, area_path=household["area_path"], session=tx.session
            )
            doc = {
                "_id": keyed or new_id(),
                "household_id": data.household_id,
                "kind": "award",
                "points": data.points,
                "balance_after": account["balance"],
                "category": data.category.value,
                "reason": data.reason,
                "on": business_day(now).isoformat(),
                "by": actor.to_doc(),
                "at": now,
                "area_path": household["area_path"],
            }
            await self.repo.insert_points_entry(doc, tx.session)
            tx.record(
                PointsAwarded(
                    household_id=data.household_id,
                    entry_id=doc["_id"],
                    category=data.category,
                    points=data.points,
                    balance_after=account["balance"],
                    awarded_on=business_day(now),
                ),
                area_path=household["area_path"],
                aggregate_id=data.household_id,
            )
            return doc

        return PointsEntry.from_doc(await self.uow.run(work, correlation_id=correlation_id))

    async def redeem(self, *, principal: Principal, data: RedeemIn, correlation_id: str | None = None) -> PointsEntry:
        principal.require(Action.POINTS_WRITE)
        actor = actor_of(principal, Action.POINTS_WRITE)

        async def work(tx: Tx) -> Doc:
            household = await self._household(data.household_id, tx)
            principal.require_area(household["area_path"], field="household_id")
            keyed = points_entry_id(data.household_id, data.request_key)
            replay = await self._replayed(keyed, "redeem", tx)
            if replay is not None:
                return replay
            account = await self.repo.debit_points(data.household_id, data.points, tx.session)
            if account is None:
                current = await self.repo.get_points_account(data.household_id, tx.session)
                balance = current["balance"] if current else 0
                raise Conflict(
                    f"积分余额不足:当前余额 {balance} 分,本次兑换需 {data.points} 分",
                    field="points",
                    balance=balance,
                )
            now = self.clock()
            doc = {
                "_id": keyed or new_id(),
                "household_id": data.household_id,
                "kind": "redeem",
                "points": -data.points,
                "balance_after": account["balance"],
                "goods": data.goods,
                "quantity": data.quantity,
                "on": business_day(now).isoformat(),
                "by": actor.to_doc(),
                "at": now,
                "area_path": household["area_path"],
            }
            await self.repo.insert_points_entry(doc, tx.session)
            tx.record(
                PointsRedeemed(
                    household_id=data.household_id,
                    entry_id=doc["_id"],
                    goods=data.goods,
                    quantity=data.quantity,
                    points=data.points,
                    balance_after=account["balance"],
                    redeemed_on=business_day(now),
                ),
                area_path=household["area_path"],
                aggregate_id=data.household_id,
            )
            return doc

        return PointsEntry.from_doc(await self.uow.run(work, correlation_id=correlation_id))

    async def account(self, *, principal: Principal, household_id: str) -> PointsAccount:
        household = await self._household(household_id)
        principal.require_visible(household["area_path"], "该户")
        account = await self.repo.get_points_account(household_id) or {}
        entries = await self.repo.points_entries(household_id, limit=self.ledger_page)
        return PointsAccount(
            household_id=household_id,
            balance=account.get("balance", 0),
            awarded_total=account.get("awarded_total", 0),
            redeemed_total=account.get("redeemed_total", 0),
            area_path=household["area_path"],
            entries=[PointsEntry.from_doc(e) for e in entries],
        )


@dataclass
class CommunityServices:
    staff: StaffService
    party: PartyService
    requests: RequestService
    disputes: DisputeService
    visits: VisitService
    points: PointsService
    scheduler: DeadlineScheduler

    @classmethod
    def build(
        cls,
        *,
        uow: UnitOfWork,
        repo: CommunityRepository,
        policy: DeadlinePolicy,
        pii_key: bytes,
        dispute_deadline_days: int = 30,
        clock: Clock,
        scan_interval_seconds: float = 15.0,
        scan_batch: int = 500,
        scan_concurrency: int = 8,
        ledger_page: int = 100,
    ) -> CommunityServices:
        return cls(
            staff=StaffService(uow=uow, repo=repo, clock=clock),
            party=PartyService(uow=uow, repo=repo, clock=clock),
            requests=RequestService(uow=uow, repo=repo, policy=policy, clock=clock),
            disputes=DisputeService(
                uow=uow, repo=repo, pii_key=pii_key, deadline_days=dispute_deadline_days, clock=clock
            ),
            visits=VisitService(uow=uow, repo=repo, clock=clock),
            points=PointsService(uow=uow, repo=repo, ledger_page=ledger_page, clock=clock),
            scheduler=DeadlineScheduler(
                uow=uow,
                repo=repo,
                policy=policy,
                clock=clock,
                interval_seconds=scan_interval_seconds,
                batch=scan_batch,
                concurrency=scan_concurrency,
            ),
        )
