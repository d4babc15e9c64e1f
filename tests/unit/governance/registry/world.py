"""What the registry's unit tests share: a small area tree (two communities of 习水县, one of
仁怀市), principals of several scopes, valid national IDs, and the `World` of a registry service
over an in-memory store and the fake unit of work."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance_service.registry.models import HouseholdIn, ResidentIn
from governance_service.registry.service import RegistryService
from relocation_shared.auth import Principal, Role
from tests.context import ctx
from tests.fakes.governance import FakeRegistryStore
from tests.fakes.uow import FakeUnitOfWork

PII_KEY = b"unit-test-pii-key-of-32-bytes-ok"
CHECK, WEIGHTS = "10X98765432", (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def national_id(first17: str) -> str:
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


ID_A = national_id("52033019850315123")  # male, 1985
ID_B = national_id("52033019921130002")  # female, 1992
ID_C = national_id("52033020010707005")
PHONE = "13912345678"

COMMUNITY, GRID, BUILDING = "520330001001", "520330001001-G01", "520330001001-G01-B01"
BUILDING_PATH = ["520000", "520300", "520330", "520330001000", COMMUNITY, GRID, BUILDING]

AREAS: list[dict[str, Any]] = [
    {"code": "520000", "name": "贵州省", "level": "province"},
    {"code": "520300", "name": "遵义市", "level": "city", "parent": "520000"},
    {"code": "520330", "name": "习水县", "level": "county", "parent": "520300"},
    {"code": "520330001000", "name": "东皇街道", "level": "town", "parent": "520330"},
    {"code": COMMUNITY, "name": "易安社区", "level": "community", "parent": "520330001000", "demo": True},
    {"code": GRID, "name": "第一网格", "level": "grid", "parent": COMMUNITY},
    {"code": BUILDING, "name": "1栋", "level": "building", "parent": GRID},
    {"code": "520330001001-G02", "name": "第二网格", "level": "grid", "parent": COMMUNITY},
    {"code": "520330001001-G02-B01", "name": "5栋", "level": "building", "parent": "520330001001-G02"},
    {"code": "520330001002", "name": "幸福社区", "level": "community", "parent": "520330001000"},
    {"code": "520330001002-G01", "name": "第一网格", "level": "grid", "parent": "520330001002"},
    {"code": "520330001002-G01-B01", "name": "2栋", "level": "building", "parent": "520330001002-G01"},
    {"code": "520382", "name": "仁怀市", "level": "county", "parent": "520300"},
    {"code": "520382001000", "name": "盐津街道", "level": "town", "parent": "520382"},
    {"code": "520382001001", "name": "安居社区", "level": "community", "parent": "520382001000"},
    {"code": "520382001001-G01", "name": "第一网格", "level": "grid", "parent": "520382001001"},
    {"code": "520382001001-G01-B01", "name": "1栋", "level": "building", "parent": "520382001001-G01"},
]


def _principal(role: Role, *areas: str) -> Principal:
    return Principal(subject=f"{role.value}-1", name="测试", roles=frozenset({role}), areas=frozenset(areas))


XISHUI = _principal(Role.COUNTY_OFFICER, "520330")
RENHUAI = _principal(Role.COUNTY_OFFICER, "520382")
VIEWER = _principal(Role.COMMISSION_VIEWER, "520300")
CADRE = _principal(Role.COMMUNITY_CADRE, COMMUNITY)
GRID_WORKER = _principal(Role.GRID_WORKER, GRID)


@dataclass
class World:
    repo: FakeRegistryStore
    uow: FakeUnitOfWork
    svc: RegistryService
    area_file: Path

    def serialised(self) -> str:
        """Everything that left or stayed: the published events and every stored document."""
        events = "\n".join(e.to_bytes().decode() for e in self.uow.published)
        return events + "\n" + json.dumps(self.repo.all_documents(), ensure_ascii=False, default=str)

    async def household(self, principal: Principal = XISHUI, **changes: Any) -> str:
        return (await self.svc.register_household(ctx=ctx(principal), data=household_in(**changes))).id

    async def resident(self, hid: str, nid: str = ID_A, principal: Principal = XISHUI, **changes: Any) -> str:
        return (await self.svc.register_resident(ctx=ctx(principal), data=resident_in(hid, nid, **changes))).id


def household_in(**changes: Any) -> HouseholdIn:
    fields = {
        "kind": "registered_poor",
        "community_code": COMMUNITY,
        "grid_code": GRID,
        "building_code": BUILDING,
        "room": "3-201",
    } | changes
    return HouseholdIn(**fields)


def resident_row(hid: str, nid: str = ID_A, **changes: Any) -> dict[str, Any]:
    return {
        "household_id": hid,
        "community_code": COMMUNITY,
        "name": "张三丰",
        "national_id": nid,
        "phone": PHONE,
        "labour_capacity": True,
    } | changes


def resident_in(hid: str, nid: str = ID_A, **changes: Any) -> ResidentIn:
    return ResidentIn(**resident_row(hid, nid, **changes))


def write_areas(path: Path, areas: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(areas, ensure_ascii=False), encoding="utf-8")
    return path


def bare_world(tmp_path: Path) -> World:
    repo = FakeRegistryStore()
    uow = FakeUnitOfWork([repo], producer="governance")
    svc = RegistryService(uow=uow, store=repo, pii_key=PII_KEY, clock=uow.clock, batch_max=10)
    return World(repo=repo, uow=uow, svc=svc, area_file=write_areas(tmp_path / "areas.json", AREAS))
