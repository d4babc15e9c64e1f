"""Use cases of the registry. Each runs in one unit of work: the state change and the events it
means are committed together (outbox). Keyword-only arguments throughout."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from governance_service.models import (
    Area,
    AreaIn,
    Household,
    HouseholdIn,
    MoveOut,
    Resident,
    ResidentIn,
    ResidentUpdate,
    mask_name,
)
from governance_service.repository import Doc, GovernanceRepository
from relocation_shared.areas import LEVELS, Level
from relocation_shared.auth import Action, Principal
from relocation_shared.batch import BatchResult, Outcome, parse_rows
from relocation_shared.errors import Conflict, DomainError, InvalidInput, NotFound
from relocation_shared.events.governance import (
    AreaRegistered,
    HouseholdRegistered,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentUpdated,
)
from relocation_shared.ids import new_id
from relocation_shared.logging import get_logger
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.pii import keyed_hash, mask_phone, parse_national_id

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
    def __init__(self, *, uow: UnitOfWork, repo: GovernanceRepository, pii_key: bytes, batch_max: int = 500) -> None:
        self.uow = uow
        self.repo = repo
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
                registered_on = data.registered_on or datetime.now(UTC).date()
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
        if data.moved_out_on > date.today():
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
    """Children's codes extend the parent's: a town's community shares its first 9 digits."""
    code: str = parent["_id"]
    return code[:9] if parent["level"] == Level.TOWN else code


def _check_placement(principal: Principal, areas: dict[str, Doc], data: HouseholdIn) -> Doc:
    community = areas.get(data.community_code)
    if community is None or community["level"] != Level.COMMUNITY:
        raise InvalidInput("安置社区不存在", field="community_code")
    principal.require_area(community["path"], field="community_code")
    grid = areas.get(data.grid_code)
    if grid is None or grid["level"] != Level.GRID or grid["parent"] != data.community_code:
        raise InvalidInput("网格不存在或不属于该社区", field="grid_code")
    building = areas.get(data.building_code)
    if building is None or building["level"] != Level.BUILDING or building["parent"] != data.grid_code:
        raise InvalidInput("楼栋不存在或不属于该网格", field="building_code")
    principal.require_area(building["path"], field="building_code")
    return building
