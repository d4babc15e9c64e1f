"""Projects (后续扶持项目) without I/O: where a project's figures roll up, the status machine,
what may happen in which status, and the rules of an approval and of a status change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from projects_service.rules import not_future
from projects_service.sources.domain import source_visible
from relocation_shared.areas import path_of_code
from relocation_shared.auth import Principal
from relocation_shared.errors import Conflict, InvalidInput, NotFound
from relocation_shared.events.projects import (
    PROJECT_STATUS_LABELS,
    IndustryChain,
    ProjectKind,
    ProjectStatus,
    SourceAmount,
)
from relocation_shared.mongo import Doc

# --- areas ------------------------------------------------------------------------------------


def community_path(code: str) -> tuple[str, ...]:
    """The path of a resettlement community (安置社区); ValueError for any other code."""
    path = path_of_code(code)
    if len(path) != 5:
        raise ValueError(f"{code} 不是社区(村)代码:应为12位且末三位不为000")
    return path


def project_area_path(community_codes: list[str]) -> tuple[str, ...]:
    """Where a project's figures roll up: the community's path when it serves one community,
    otherwise the deepest area all its communities share (their town, or their county). A
    project serves communities of one county (projects are implemented by counties)."""
    paths = [community_path(c) for c in community_codes]
    if len({p[2] for p in paths}) != 1:
        raise ValueError("一个项目服务的安置社区应属于同一县(市、区)")
    common: list[str] = []
    for level in zip(*paths, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return tuple(common)


def community_of(area_path: list[str] | tuple[str, ...]) -> str | None:
    """The community code in a path reaching the community level or below, else None."""
    return area_path[4] if len(area_path) > 4 else None


def allocation_id(project_id: str, source_id: str, year: int) -> str:
    return f"{project_id}:{source_id}:{year}"


# --- the status machine -----------------------------------------------------------------------

TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.APPROVED: frozenset({ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.CANCELLED}),
    ProjectStatus.UNDER_CONSTRUCTION: frozenset({ProjectStatus.OPERATING, ProjectStatus.CANCELLED}),
    ProjectStatus.OPERATING: frozenset({ProjectStatus.COMPLETED}),
    ProjectStatus.COMPLETED: frozenset(),
    ProjectStatus.CANCELLED: frozenset(),
}

# Jobs may be linked while the project is being built or runs; money may move until it is cancelled.
LINKABLE = frozenset({ProjectStatus.APPROVED, ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.OPERATING})
DISBURSABLE = frozenset(
    {ProjectStatus.APPROVED, ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.OPERATING, ProjectStatus.COMPLETED}
)
LINKABLE_VALUES = [s.value for s in LINKABLE]


def status_label(status: ProjectStatus | str) -> str:
    return PROJECT_STATUS_LABELS[ProjectStatus(status)]


def check_transition(current: ProjectStatus, target: ProjectStatus) -> None:
    """Refuse a transition the machine does not have: 409 naming the current state."""
    if target not in TRANSITIONS[current]:
        allowed = "、".join(status_label(s) for s in sorted(TRANSITIONS[current])) or "无(已是终态)"
        raise Conflict(
            f"项目当前状态为“{status_label(current)}”,不能变更为“{status_label(target)}”(可变更为:{allowed})",
            field="status",
            current=current.value,
        )


def refuse_in_status(status: ProjectStatus, what: str) -> Conflict:
    return Conflict(f"项目当前状态为“{status_label(status)}”,{what}", field="status", current=status.value)


def check_allocatable(status: ProjectStatus) -> None:
    if status in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED):
        raise refuse_in_status(status, "不能追加资金")


def visible_project(principal: Principal, doc: Doc | None, field: str = "project_id") -> Doc:
    """The project, or NotFound when it does not exist or is outside the user's areas."""
    if doc is None or not principal.covers(doc["area_path"]):
        raise NotFound("项目不存在", field=field)
    return doc


# --- approval ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewProject:
    id: str
    name: str
    kind: ProjectKind
    chain: IndustryChain | None
    community_codes: list[str]
    area_path: tuple[str, ...]
    approved_on: date
    approved_by: str
    description: str | None
    provincial_demonstration: bool
    source_kinds: list[str]
    created_at: datetime


@dataclass(frozen=True)
class NewAllocation:
    project_id: str
    amount: SourceAmount
    area_path: tuple[str, ...] | list[str]
    project_kind: str
    chain: str | None

    @property
    def id(self) -> str:
        return allocation_id(self.project_id, self.amount.source_id, self.amount.year)


def check_source_covers(source: Doc | None, principal: Principal, path: tuple[str, ...] | list[str], field: str) -> Doc:
    if source is None or not source_visible(principal, source):
        raise NotFound("资金来源不存在", field=field)
    if source["area_code"] not in path:
        raise InvalidInput("该资金来源不覆盖项目所在区域", field=field)
    return source


def check_project(
    principal: Principal,
    *,
    community_codes: list[str],
    kind: ProjectKind,
    chain: IndustryChain | None,
    approved_on: date,
    allocations: list[tuple[str, int]],
    sources: dict[str, Doc],
    today: date,
) -> tuple[str, ...]:
    """The rules of an approval; returns the project's area path. `allocations` are (source id, year)."""
    not_future(approved_on, "approved_on", "批复日期", today=today)
    try:
        path = project_area_path(community_codes)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="community_codes") from exc
    principal.require_area(path, field="community_codes")
    if kind is ProjectKind.INDUSTRY and chain is None:
        raise InvalidInput("后续扶持产业项目须注明产业链(特色农业、特色轻工业或特色文旅)", field="chain")
    seen: set[tuple[str, int]] = set()
    for i, (source_id, year) in enumerate(allocations):
        check_source_covers(sources.get(source_id), principal, path, f"allocations.{i}.source_id")
        if (source_id, year) in seen:
            raise InvalidInput("同一资金来源同一年度重复安排", field=f"allocations.{i}")
        seen.add((source_id, year))
    return path


# --- status changes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusStep:
    status: ProjectStatus
    on: date
    reason: str | None


def check_status_change(doc: Doc, target: ProjectStatus, step: StatusStep, *, today: date) -> ProjectStatus:
    """The rules of a status change; returns the current status."""
    current = ProjectStatus(doc["status"])
    check_transition(current, target)
    not_future(step.on, "changed_on", "变更日期", today=today)
    if step.on < date.fromisoformat(doc["status_history"][-1]["on"]):
        raise InvalidInput("变更日期早于上一次状态变更的日期", field="changed_on")
    if target is ProjectStatus.CANCELLED and not step.reason:
        raise InvalidInput("撤销项目须说明原因", field="reason")
    return current


def released_on_cancel(allocations: list[Doc]) -> list[SourceAmount]:
    """On cancellation, what was not disbursed is given back: one amount per allocation with money left."""
    return [
        SourceAmount(
            source_id=a["source_id"], source_kind=a["source_kind"], year=a["year"], amount_fen=a["remaining_fen"]
        )
        for a in allocations
        if a["remaining_fen"] > 0
    ]
