"""Storage of projects (`projects`) and their allocations (`allocations`, one per project,
source and year: amount, disbursed, remaining, released on cancellation). Every write takes
the unit of work's session. The writes that guard a rule are conditional: a project is updated
only while in the status the rule needs, an allocation drawn only while enough remains."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from projects_service.projects.domain import NewAllocation, NewProject, StatusStep
from projects_service.storage import Session, by_ids, chunks, draw, give_back
from relocation_shared.events.projects import ProjectKind, ProjectStatus
from relocation_shared.mongo import Doc


@dataclass(frozen=True)
class StatusMove:
    """A status change to write: only if the project is still in `current`."""

    project_id: str
    current: ProjectStatus
    step: StatusStep


def step_to_doc(step: StatusStep) -> Doc:
    return {"status": step.status.value, "on": step.on.isoformat(), "reason": step.reason}


def project_to_doc(p: NewProject) -> Doc:
    return {
        "_id": p.id,
        "name": p.name,
        "kind": p.kind.value,
        "chain": p.chain.value if p.chain else None,
        "community_codes": p.community_codes,
        "county_code": p.area_path[2],
        "area_path": list(p.area_path),
        "status": ProjectStatus.APPROVED.value,
        "status_history": [step_to_doc(StatusStep(ProjectStatus.APPROVED, p.approved_on, None))],
        "provincial_demonstration": p.provincial_demonstration,
        "approved_on": p.approved_on.isoformat(),
        "approved_by": p.approved_by,
        "description": p.description,
        "source_kinds": p.source_kinds,
        "jobs": 0,
        "dividends_fen": 0,
        "created_at": p.created_at,
    }


def allocation_to_doc(a: NewAllocation) -> Doc:
    return {
        "_id": a.id,
        "project_id": a.project_id,
        "source_id": a.amount.source_id,
        "source_kind": a.amount.source_kind.value,
        "year": a.amount.year,
        "amount_fen": a.amount.amount_fen,
        "disbursed_fen": 0,
        "released_fen": 0,
        "remaining_fen": a.amount.amount_fen,
        "area_path": list(a.area_path),
        "kind": str(a.project_kind),
        "chain": str(a.chain) if a.chain else None,
        "industry": str(a.project_kind) == ProjectKind.INDUSTRY.value,
    }


class ProjectsStore(Protocol):
    async def insert_projects(self, projects: list[NewProject], session: Session) -> None: ...
    async def get_project(self, project_id: str, session: Session = None) -> Doc | None: ...
    async def get_projects(self, ids: Iterable[str], session: Session) -> dict[str, Doc]: ...
    async def list_projects(
        self, *, area: str, status: str | None, chain: str | None, after: str | None, limit: int
    ) -> list[Doc]: ...
    async def move_statuses(self, moves: list[StatusMove], session: Session) -> int: ...
    async def set_demonstration(self, project_id: str, value: bool, session: Session) -> None: ...
    async def add_source_kind(
        self, project_id: str, source_kind: str, *, funded_at: datetime, statuses: list[str], session: Session
    ) -> bool: ...
    async def add_dividends(self, amounts: dict[str, int], *, statuses: list[str] | None, session: Session) -> bool: ...
    async def add_jobs(self, counts: dict[str, int], *, statuses: list[str] | None, session: Session) -> bool: ...
    async def insert_allocations(self, allocations: list[NewAllocation], session: Session) -> None: ...
    async def get_allocations(self, ids: Iterable[str], session: Session) -> dict[str, Doc]: ...
    async def project_allocations(self, project_id: str, session: Session = None) -> list[Doc]: ...
    async def allocations_of(self, project_ids: list[str], session: Session) -> list[Doc]: ...
    async def add_to_allocation(self, allocation_id: str, amount: int, session: Session) -> None: ...
    async def release_allocations(self, releases: dict[str, int], session: Session) -> bool: ...
    async def draw_allocations(self, draws: dict[str, int], session: Session) -> bool: ...
    async def give_back_allocation(
        self, allocation_id: str, amount: int, *, released: bool, session: Session
    ) -> None: ...


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.projects.create_index([("area_path", ASCENDING), ("status", ASCENDING)], name="area_status")
    await db.allocations.create_index([("project_id", ASCENDING)], name="project")
    await db.allocations.create_index([("area_path", ASCENDING)], name="area")


class MongoProjectsStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def insert_projects(self, projects: list[NewProject], session: Session) -> None:
        if projects:
            await self.db.projects.insert_many([project_to_doc(p) for p in projects], session=session)

    async def get_project(self, project_id: str, session: Session = None) -> Doc | None:
        return await self.db.projects.find_one({"_id": project_id}, session=session)

    async def get_projects(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await by_ids(self.db.projects, ids, session)

    async def list_projects(
        self, *, area: str, status: str | None, chain: str | None, after: str | None, limit: int
    ) -> list[Doc]:
        query: Doc = {"area_path": area}
        if status:
            query["status"] = status
        if chain:
            query["chain"] = chain
        if after:
            query["_id"] = {"$gt": after}
        return await self.db.projects.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)

    async def move_statuses(self, moves: list[StatusMove], session: Session) -> int:
        """Apply the moves in order, each only from its expected status; returns how many matched."""
        if not moves:
            return 0
        ops = [
            UpdateOne(
                {"_id": m.project_id, "status": m.current.value},
                {"$set": {"status": m.step.status.value}, "$push": {"status_history": step_to_doc(m.step)}},
            )
            for m in moves
        ]
        result = await self.db.projects.bulk_write(ops, ordered=True, session=session)
        return result.matched_count

    async def set_demonstration(self, project_id: str, value: bool, session: Session) -> None:
        await self.db.projects.update_one(
            {"_id": project_id}, {"$set": {"provincial_demonstration": value}}, session=session
        )

    async def _guarded(self, updates: dict[str, Doc], statuses: list[str] | None, session: Session) -> bool:
        """Update projects, each only while it is in one of `statuses`: the write that makes a
        concurrent status change and this use case conflict. True when every project matched."""
        if not updates:
            return True
        cond: Doc = {"status": {"$in": statuses}} if statuses is not None else {}
        ops = [UpdateOne({"_id": pid, **cond}, update) for pid, update in updates.items()]
        result = await self.db.projects.bulk_write(ops, ordered=False, session=session)
        return result.matched_count == len(ops)

    async def add_source_kind(
        self, project_id: str, source_kind: str, *, funded_at: datetime, statuses: list[str], session: Session
    ) -> bool:
        update = {"$addToSet": {"source_kinds": source_kind}, "$set": {"funded_at": funded_at}}
        return await self._guarded({project_id: update}, statuses, session)

    async def add_dividends(self, amounts: dict[str, int], *, statuses: list[str] | None, session: Session) -> bool:
        return await self._guarded({p: {"$inc": {"dividends_fen": n}} for p, n in amounts.items()}, statuses, session)

    async def add_jobs(self, counts: dict[str, int], *, statuses: list[str] | None, session: Session) -> bool:
        return await self._guarded({p: {"$inc": {"jobs": n}} for p, n in counts.items()}, statuses, session)

    async def insert_allocations(self, allocations: list[NewAllocation], session: Session) -> None:
        if allocations:
            await self.db.allocations.insert_many([allocation_to_doc(a) for a in allocations], session=session)

    async def get_allocations(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await by_ids(self.db.allocations, ids, session)

    async def project_allocations(self, project_id: str, session: Session = None) -> list[Doc]:
        return await self.db.allocations.find({"project_id": project_id}, session=session).to_list(None)

    async def allocations_of(self, project_ids: list[str], session: Session) -> list[Doc]:
        out: list[Doc] = []
        for part in chunks(sorted(set(project_ids))):
            out += await self.db.allocations.find({"project_id": {"$in": list(part)}}, session=session).to_list(None)
        return out

    async def add_to_allocation(self, allocation_id: str, amount: int, session: Session) -> None:
        await self.db.allocations.update_one(
            {"_id": allocation_id}, {"$inc": {"amount_fen": amount, "remaining_fen": amount}}, session=session
        )

    async def release_allocations(self, releases: dict[str, int], session: Session) -> bool:
        """On cancellation: what was not disbursed is given back (remaining → released)."""
        if not releases:
            return True
        ops = [
            UpdateOne(
                {"_id": aid, "remaining_fen": amount}, {"$set": {"remaining_fen": 0}, "$inc": {"released_fen": amount}}
            )
            for aid, amount in releases.items()
        ]
        result = await self.db.allocations.bulk_write(ops, ordered=False, session=session)
        return result.matched_count == len(ops)

    async def draw_allocations(self, draws: dict[str, int], session: Session) -> bool:
        return await draw(self.db.allocations, draws, session)

    async def give_back_allocation(self, allocation_id: str, amount: int, *, released: bool, session: Session) -> None:
        await give_back(self.db.allocations, allocation_id, amount, released=released, session=session)
