"""Who does the community work: the acting person (Actor, chosen from a token's roles) and the
staff records (网格员, 楼栋长, 社区干部 …), one per (role, area, user), with the level each
role is assigned at. Pure rules, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from relocation_shared.areas import Level
from relocation_shared.auth import ROLE_ACTIONS, Action, Principal, Role
from relocation_shared.errors import Conflict, InvalidInput

# --- who acts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who does something: the token's subject, name and the role they act in."""

    subject: str
    name: str
    role: str

    def as_dict(self) -> dict[str, Any]:
        """As embedded in a record's history, sessions or ledger entries."""
        return {"subject": self.subject, "name": self.name, "role": self.role}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Actor:
        return cls(subject=d["subject"], name=d.get("name", ""), role=d.get("role", ""))


SYSTEM = Actor(subject="system", name="期限监控", role="scheduler")

# From the most specific role to the least: the one a person acts in when they have several.
ROLE_PREFERENCE = (
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
    role = next((r for r in ROLE_PREFERENCE if r in principal.roles and action in ROLE_ACTIONS[r]), None)
    if role is None:
        role = next(r for r in ROLE_PREFERENCE if r in principal.roles)
    return Actor(subject=principal.subject, name=principal.name, role=role.value)


# --- staff ---------------------------------------------------------------------------------------


class StaffRole(StrEnum):
    GRID_WORKER = "grid_worker"
    BUILDING_HEAD = "building_head"
    COMMUNITY_CADRE = "community_cadre"
    PARTY_SECRETARY = "party_secretary"
    COUNTY_OFFICER = "county_officer"
    CITY_OFFICER = "city_officer"


STAFF_ROLE_LEVEL = {
    StaffRole.GRID_WORKER: Level.GRID,
    StaffRole.BUILDING_HEAD: Level.BUILDING,
    StaffRole.COMMUNITY_CADRE: Level.COMMUNITY,
    StaffRole.PARTY_SECRETARY: Level.COMMUNITY,
    StaffRole.COUNTY_OFFICER: Level.COUNTY,
    StaffRole.CITY_OFFICER: Level.CITY,
}

STAFF_ROLE_LABELS = {
    StaffRole.GRID_WORKER: "网格员",
    StaffRole.BUILDING_HEAD: "楼栋长",
    StaffRole.COMMUNITY_CADRE: "社区干部",
    StaffRole.PARTY_SECRETARY: "社区党组织书记",
    StaffRole.COUNTY_OFFICER: "县级后续扶持工作人员",
    StaffRole.CITY_OFFICER: "市级后续扶持工作人员",
}


def staff_id_for(role: StaffRole | str, area_code: str, subject: str) -> str:
    """One staff record per (role, area, user): assigning again reactivates it."""
    digest = hashlib.sha256(f"{role}|{area_code}|{subject}".encode()).hexdigest()
    return f"stf-{digest[:24]}"


def check_role_level(role: StaffRole, area_level: Level) -> None:
    """Each role is assigned at its own level: a grid worker to a grid, a building head to a building…"""
    level = STAFF_ROLE_LEVEL[role]
    if area_level != level:
        raise InvalidInput(
            f"{STAFF_ROLE_LABELS[role]}应分配到{level.label},该区域是{Level(area_level).label}",
            field="area_code",
        )


def assigner_scope(area_path: list[str]) -> list[str]:
    """Whoever (un)assigns must be responsible for the area above the one assigned to."""
    return area_path[:-1] or area_path


@dataclass(frozen=True)
class StaffMember:
    id: str
    subject: str
    name: str
    role: StaffRole
    area_code: str
    area_level: Level
    area_path: list[str]
    active: bool
    assigned_at: datetime
    assigned_by: str
    unassigned_at: datetime | None = None
    unassigned_by: str | None = None

    @property
    def role_label(self) -> str:
        return STAFF_ROLE_LABELS[self.role]

    @classmethod
    def assign(
        cls,
        *,
        existing: StaffMember | None,
        subject: str,
        name: str,
        role: StaffRole,
        area_code: str,
        area_level: Level,
        area_path: list[str],
        by: str,
        now: datetime,
    ) -> StaffMember:
        """A new record, or the unassigned one of the same (role, area, user) made active again."""
        if existing is not None and existing.active:
            raise Conflict("该人员已分配到该区域", field="subject")
        return cls(
            id=staff_id_for(role, area_code, subject),
            subject=subject,
            name=name,
            role=role,
            area_code=area_code,
            area_level=area_level,
            area_path=list(area_path),
            active=True,
            assigned_at=now,
            assigned_by=by,
        )

    def unassign(self, *, by: str, now: datetime) -> StaffMember:
        if not self.active:
            raise Conflict("该人员已解除分配", field="staff_id")
        return replace(self, active=False, unassigned_at=now, unassigned_by=by)

    def is_grid_worker_of(self, grid_code: str) -> bool:
        """Active grid worker of that grid: the only staff a request of the grid is dispatched to."""
        return self.active and self.role is StaffRole.GRID_WORKER and self.area_code == grid_code
