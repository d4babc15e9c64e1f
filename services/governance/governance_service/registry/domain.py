"""The registry's records and rules, free of I/O: an area's place in the hierarchy, where a
household may be placed, and what a resident's registration, change and move out mean."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from relocation_shared.areas import CODE_SHAPE_LABELS, LEVELS, Level, code_fits_level
from relocation_shared.auth import Principal
from relocation_shared.dates import plausible_day
from relocation_shared.errors import Conflict, InvalidInput, NotFound
from relocation_shared.events.governance import (
    AreaRegistered,
    HouseholdRegistered,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentUpdated,
)
from relocation_shared.events.vocab import HouseholdKind
from relocation_shared.pii import NationalId, keyed_hash, mask_name, mask_phone

# --- areas ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaRecord:
    """An area and its path, the codes from the province down to it."""

    code: str
    name: str
    level: Level
    parent: str | None
    path: list[str]
    demo: bool = False

    def registered(self) -> AreaRegistered:
        return AreaRegistered(code=self.code, name=self.name, level=self.level.value, parent=self.parent)


def areas_of_file(rows: Iterable[dict[str, Any]]) -> list[AreaRecord]:
    """The rows of the area file (parents before children) with their paths; a ValueError for an
    area whose level does not fit its depth, which refuses the whole file."""
    paths: dict[str, list[str]] = {}
    areas = []
    for r in rows:
        parent = r.get("parent")
        p = [*paths[parent], r["code"]] if parent else [r["code"]]
        if Level(r["level"]).depth != len(p) - 1:
            raise ValueError(f"area {r['code']} level {r['level']} does not fit its depth")
        paths[r["code"]] = p
        areas.append(
            AreaRecord(
                code=r["code"], name=r["name"], level=Level(r["level"]), parent=parent, path=p, demo=bool(r.get("demo"))
            )
        )
    return areas


def new_or_renamed(areas: list[AreaRecord], known: dict[str, str]) -> list[AreaRecord]:
    """The areas of the file that are not stored yet or stored under another name (code → name)."""
    return [a for a in areas if a.code not in known or known[a.code] != a.name]


def refuse_national_level(level: Level) -> None:
    if level in (Level.PROVINCE, Level.CITY, Level.COUNTY):
        raise InvalidInput("省、市、县级区划由国家区划代码文件维护,不能新建", field="level")


def child_area(parent: AreaRecord, *, code: str, name: str, level: Level) -> AreaRecord:
    """A new area under `parent`: one level below it, its code shaped for its level and
    extending the parent's."""
    expected_parent_level = LEVELS[level.depth - 1]
    if parent.level != expected_parent_level:
        raise InvalidInput(
            f"{level.label}的上级应为{expected_parent_level.label}", field="parent", parent=parent.level.value
        )
    if not code_fits_level(code, level):
        raise InvalidInput(f"{level.label}代码格式应为{CODE_SHAPE_LABELS[level]}", field="code", code=code)
    if not code.startswith(code_prefix(parent)):
        raise InvalidInput("区域代码应以上级区域代码开头", field="code")
    return AreaRecord(code=code, name=name, level=level, parent=parent.code, path=[*parent.path, code])


def code_prefix(parent: AreaRecord) -> str:
    """Children's codes extend the parent's: a town's community shares its first 9 digits, a
    community's grid is `<community>-Gnn`, a grid's building `<grid>-Bnn`."""
    if parent.level == Level.TOWN:
        return parent.code[:9]
    if parent.level in (Level.COMMUNITY, Level.GRID):
        return parent.code + "-"
    return parent.code


def within_subtree(code: str, community: str) -> bool:
    """A grid or building code inside the community (`<community>-Gnn…`)."""
    return code.startswith(community + "-")


# --- households ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdRecord:
    id: str
    kind: HouseholdKind
    community_code: str
    grid_code: str
    building_code: str
    room: str | None
    registered_on: date
    area_path: list[str]

    def registered(self) -> HouseholdRegistered:
        return HouseholdRegistered(
            household_id=self.id,
            kind=self.kind,
            community_code=self.community_code,
            grid_code=self.grid_code,
            building_code=self.building_code,
            room=self.room,
            registered_on=self.registered_on,
        )


def placement(
    principal: Principal, areas: dict[str, AreaRecord], *, community_code: str, grid_code: str, building_code: str
) -> AreaRecord:
    """The building a household is placed in: a community, one of its grids and one of that
    grid's buildings, within the principal's scope."""
    community = areas.get(community_code)
    if community is None or community.level != Level.COMMUNITY:
        raise InvalidInput("安置社区不存在", field="community_code")
    # a grid worker covers their grid's buildings, not the whole community: their scope is checked
    # on the building's path below; anyone with no part of the community is refused on it here
    if not any(within_subtree(code, community.code) for code in principal.areas):
        principal.require_area(community.path, field="community_code")
    grid = areas.get(grid_code)
    if grid is None or grid.level != Level.GRID or grid.parent != community_code:
        raise InvalidInput("网格不存在或不属于该社区", field="grid_code")
    building = areas.get(building_code)
    if building is None or building.level != Level.BUILDING or building.parent != grid_code:
        raise InvalidInput("楼栋不存在或不属于该网格", field="building_code")
    principal.require_area(building.path, field="building_code")
    return building


# --- residents -----------------------------------------------------------------------------------

ACTIVE, MOVED_OUT = "active", "moved_out"


@dataclass(frozen=True)
class ResidentRecord:
    """A resident as kept: the national ID and phone only as a keyed hash and a masked form."""

    id: str
    household_id: str
    name: str
    national_id_hash: str
    national_id_masked: str
    phone_hash: str | None
    phone_masked: str | None
    sex: str
    birth_date: date
    labour_capacity: bool
    status: str
    moved_out_on: date | None
    area_path: list[str]

    def require_active(self) -> None:
        if self.status != ACTIVE:
            raise Conflict("该居民已迁出", field="resident_id", status=self.status)

    def with_labour_capacity(self, labour_capacity: bool) -> ResidentRecord:
        return replace(self, labour_capacity=labour_capacity)

    def moved_out(self, on: date) -> ResidentRecord:
        return replace(self, status=MOVED_OUT, moved_out_on=on)

    def updated(self) -> ResidentUpdated:
        return ResidentUpdated(
            resident_id=self.id, household_id=self.household_id, labour_capacity=self.labour_capacity
        )

    def moved_out_event(self, *, household_kind: HouseholdKind, on: date, reason: str) -> ResidentMovedOut:
        return ResidentMovedOut(
            resident_id=self.id,
            household_id=self.household_id,
            household_kind=household_kind,
            labour_capacity=self.labour_capacity,
            moved_out_on=on,
            reason=reason,
        )


def check_resident_household(
    principal: Principal,
    household: HouseholdRecord | None,
    *,
    community_code: str,
    national_id_hash: str,
    taken: set[str],
) -> HouseholdRecord:
    """A resident joins an existing household of the community they are registered in, within
    the principal's scope, with a national ID not registered yet."""
    if household is None:
        raise NotFound("该户不存在", field="household_id")
    principal.require_area(household.area_path, field="household_id")
    if household.community_code != community_code:
        raise InvalidInput(
            f"该户属于社区 {household.community_code},不属于 {community_code}",
            field="household_id",
        )
    if national_id_hash in taken:
        raise Conflict("该身份证号码已登记", field="national_id")
    return household


def new_resident(
    rid: str,
    household: HouseholdRecord,
    *,
    name: str,
    national_id: NationalId,
    national_id_hash: str,
    phone: str | None,
    labour_capacity: bool,
    pii_key: bytes,
) -> ResidentRecord:
    return ResidentRecord(
        id=rid,
        household_id=household.id,
        name=name,
        national_id_hash=national_id_hash,
        national_id_masked=national_id.masked,
        phone_hash=keyed_hash(phone, pii_key) if phone else None,
        phone_masked=mask_phone(phone) if phone else None,
        sex=national_id.sex,
        birth_date=national_id.birth_date,
        labour_capacity=labour_capacity,
        status=ACTIVE,
        moved_out_on=None,
        area_path=household.area_path,
    )


def resident_registered(resident: ResidentRecord, household: HouseholdRecord) -> ResidentRegistered:
    """What consumers learn of a new resident: masked name and ID, sex, birth year, no more."""
    return ResidentRegistered(
        resident_id=resident.id,
        household_id=household.id,
        household_kind=household.kind,
        name_masked=mask_name(resident.name),
        national_id_masked=resident.national_id_masked,
        sex=resident.sex,
        birth_year=resident.birth_date.year,
        labour_capacity=resident.labour_capacity,
    )


def check_move_out_day(day: date, today: date) -> None:
    plausible_day(day, today=today, field="moved_out_on", what="迁出日期")


def check_registered_on(day: date | None, today: date) -> None:
    """A household's registration (its move-in) has happened, in or after 2015; None: today."""
    if day is not None:
        plausible_day(day, today=today, field="registered_on", what="登记日期")
