"""Jobs a project creates (带动就业), counted from real employment spells: the copies this
service keeps of the employment service's spells and the registry's households, and the rules
of linking a spell to a project. A project's `jobs` counts its open linked spells."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from projects_service.projects.domain import LINKABLE, refuse_in_status
from relocation_shared.errors import Conflict, InvalidInput, NotFound
from relocation_shared.events.projects import ProjectStatus
from relocation_shared.mongo import Doc

END_EMPLOYMENT_ENDED = "employment_ended"
END_UNLINKED = "unlinked"


@dataclass(frozen=True)
class Spell:
    """An employment spell as the employment service announced it, not yet linked to a project."""

    id: str
    resident_id: str
    household_id: str
    area_path: list[str]
    community_code: str | None
    employment_type: str
    started_on: date
    open: bool = True
    ended_on: date | None = None


@dataclass(frozen=True)
class Household:
    """A household as the registry announced it: where dividends to households may go."""

    id: str
    community_code: str
    area_path: list[str]
    kind: str


@dataclass(frozen=True)
class Link:
    """What a linked spell records of its project."""

    project_id: str
    project_kind: str
    project_chain: str | None
    project_source_kinds: list[str]


def check_link(project: Doc, spell: Doc | None, *, spell_id: str, claimed: set[str], project_id: str) -> Doc:
    """A spell counts for a project that still takes jobs, when it is open, not counted for a
    project already (nor claimed by an earlier row of the batch) and of the project's communities."""
    status = ProjectStatus(project["status"])
    if status not in LINKABLE:
        raise refuse_in_status(status, "不能再关联就业")
    if spell is None:
        raise NotFound("就业记录不存在或尚未同步到项目台账", field="spell_id")
    if not spell["open"]:
        raise Conflict("该就业记录已结束,不能计入带动就业", field="spell_id")
    if spell.get("project_id") or spell_id in claimed:
        raise Conflict(
            "该就业记录已计入项目带动就业",
            field="spell_id",
            project_id=spell.get("project_id") or project_id,
        )
    if spell.get("community_code") not in project["community_codes"]:
        raise InvalidInput("该就业人员不在项目服务的安置社区内", field="spell_id")
    return spell


def check_unlink(spell: Doc | None, project_id: str) -> Doc:
    if spell is None or spell.get("project_id") != project_id:
        raise NotFound("该项目没有关联此就业记录", field="spell_id")
    if not spell["open"]:
        raise Conflict("该就业记录已结束,已不计入带动就业", field="spell_id")
    return spell
