"""Use cases of projects: approval (one or a batch), funding added, status changes (one or a
batch; cancelling gives back what was not disbursed), the provincial demonstration mark.

Rows of a batch are checked one by one against what the transaction read; the writes that guard
the rules are conditional (the project still in the status read), so two concurrent
transactions conflict and the loser, retried, sees the winner's result."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from projects_service.projects.domain import (
    LINKABLE_VALUES,
    NewAllocation,
    NewProject,
    StatusStep,
    allocation_id,
    check_allocatable,
    check_project,
    check_source_covers,
    check_status_change,
    released_on_cancel,
    visible_project,
)
from projects_service.projects.models import AllocationIn, DemonstrationIn, Project, ProjectIn, StatusIn, StatusRow
from projects_service.projects.repository import ProjectsStore, StatusMove
from projects_service.rules import clean_text
from projects_service.sources.domain import budget_id, budget_releases, reserve_budgets, unallocated
from projects_service.sources.repository import SourcesStore
from relocation_shared.auth import Action
from relocation_shared.batch import BatchResult, Outcome, apply_many, apply_one
from relocation_shared.clock import Clock, business_today
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, DomainError
from relocation_shared.events.projects import (
    DemonstrationChanged,
    FundsAllocated,
    ProjectApproved,
    ProjectStatus,
    ProjectStatusChanged,
    SourceAmount,
    SourceKind,
)
from relocation_shared.idempotency import apply_many_once, apply_one_once
from relocation_shared.ids import new_id
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork


class ProjectsService:
    def __init__(
        self, *, uow: UnitOfWork, projects: ProjectsStore, sources: SourcesStore, clock: Clock, batch_max: int = 500
    ) -> None:
        self.uow = uow
        self.projects = projects
        self.sources = sources
        self.clock = clock
        self.batch_max = batch_max

    async def get_project(self, *, ctx: Context, project_id: str) -> Project:
        doc = visible_project(ctx.principal, await self.projects.get_project(project_id))
        return Project.from_docs(doc, await self.projects.project_allocations(project_id))

    # approval ----------------------------------------------------------------------------------
    async def approve(self, *, ctx: Context, data: ProjectIn) -> Project:
        ctx.principal.require(Action.PROJECTS_WRITE)
        apply = partial(self._approve_rows, ctx)
        pid = await apply_one_once(self.uow, ctx=ctx, scope="projects.create", data=data, apply=apply)
        return await self.get_project(ctx=ctx, project_id=pid)

    async def approve_batch(self, *, ctx: Context, rows: list[dict[str, Any]]) -> BatchResult:
        ctx.principal.require(Action.PROJECTS_WRITE)
        apply = partial(self._approve_rows, ctx)
        return await apply_many_once(
            self.uow, ctx=ctx, scope="projects.batch", rows=rows, model=ProjectIn, apply=apply, max_items=self.batch_max
        )

    async def _approve_rows(self, ctx: Context, rows: list[tuple[int, ProjectIn]], tx: Tx) -> Outcome:
        outcome = Outcome()
        sources = await self.sources.get_sources({a.source_id for _, r in rows for a in r.allocations}, tx.session)
        budgets = await self.sources.get_budgets(
            {budget_id(a.source_id, a.year) for _, r in rows for a in r.allocations}, tx.session
        )
        left = {bid: unallocated(b) for bid, b in budgets.items()}
        reserved: dict[str, int] = defaultdict(int)
        projects: list[NewProject] = []
        allocations: list[NewAllocation] = []
        for index, data in rows:
            try:
                path = check_project(
                    ctx.principal,
                    community_codes=data.community_codes,
                    kind=data.kind,
                    chain=data.chain,
                    approved_on=data.approved_on,
                    allocations=[(a.source_id, a.year) for a in data.allocations],
                    sources=sources,
                    today=business_today(self.clock),
                )
                wanted = [
                    (budget_id(a.source_id, a.year), a.year, a.amount_fen, f"allocations.{i}.amount_fen")
                    for i, a in enumerate(data.allocations)
                ]
                for bid, amount in reserve_budgets(left, wanted).items():
                    reserved[bid] += amount
            except DomainError as err:
                outcome.reject(index, err)
                continue
            project, amounts = self._approve_one(tx, ctx, data, path, sources)
            projects.append(project)
            allocations += [NewAllocation(project.id, a, path, data.kind, data.chain) for a in amounts]
            outcome.accept(index, project.id)
        if not await self.sources.reserve_budgets(dict(reserved), tx.session):
            raise Conflict("资金来源的预算已被他人安排,请刷新后重试", field="allocations")
        await self.projects.insert_projects(projects, tx.session)
        await self.projects.insert_allocations(allocations, tx.session)
        return outcome

    def _approve_one(
        self, tx: Tx, ctx: Context, data: ProjectIn, path: tuple[str, ...], sources: dict[str, Doc]
    ) -> tuple[NewProject, list[SourceAmount]]:
        pid = new_id()
        amounts = [
            SourceAmount(
                source_id=a.source_id,
                source_kind=SourceKind(sources[a.source_id]["kind"]),
                year=a.year,
                amount_fen=a.amount_fen,
            )
            for a in data.allocations
        ]
        kinds = sorted({a.source_kind for a in amounts})
        name = clean_text(data.name) or ""
        project = NewProject(
            id=pid,
            name=name,
            kind=data.kind,
            chain=data.chain,
            community_codes=data.community_codes,
            area_path=path,
            approved_on=data.approved_on,
            approved_by=ctx.principal.subject,
            description=clean_text(data.description),
            provincial_demonstration=data.provincial_demonstration,
            source_kinds=[k.value for k in kinds],
            created_at=tx.now,
        )
        tx.record(
            ProjectApproved(
                project_id=pid,
                name=name,
                kind=data.kind,
                chain=data.chain,
                community_codes=data.community_codes,
                county_code=path[2],
                provincial_demonstration=data.provincial_demonstration,
                approved_on=data.approved_on,
                allocations=amounts,
                allocated_fen=sum(a.amount_fen for a in amounts),
                source_kinds=kinds,
            ),
            area_path=path,
            aggregate_id=pid,
        )
        return project, amounts

    # funding added -----------------------------------------------------------------------------
    async def allocate(self, *, ctx: Context, project_id: str, data: AllocationIn) -> Project:
        """Add funding to a project (追加资金) from a source for a year."""
        ctx.principal.require(Action.PROJECTS_WRITE)
        await self.uow.run(partial(self._allocate, ctx, project_id, data), correlation_id=ctx.correlation_id)
        return await self.get_project(ctx=ctx, project_id=project_id)

    async def _allocate(self, ctx: Context, project_id: str, data: AllocationIn, tx: Tx) -> None:
        doc = visible_project(ctx.principal, await self.projects.get_project(project_id, tx.session))
        status = ProjectStatus(doc["status"])
        check_allocatable(status)
        source = await self.sources.get_source(data.source_id, tx.session)
        source = check_source_covers(source, ctx.principal, doc["area_path"], "source_id")
        kind = SourceKind(source["kind"])
        await self._reserve(tx, data)
        amount = SourceAmount(source_id=data.source_id, source_kind=kind, year=data.year, amount_fen=data.amount_fen)
        aid = allocation_id(project_id, data.source_id, data.year)
        if aid in await self.projects.get_allocations([aid], tx.session):
            await self.projects.add_to_allocation(aid, data.amount_fen, tx.session)
        else:
            allocation = NewAllocation(project_id, amount, doc["area_path"], doc["kind"], doc.get("chain"))
            await self.projects.insert_allocations([allocation], tx.session)
        new_kind = kind.value not in doc["source_kinds"]
        ok = await self.projects.add_source_kind(
            project_id, kind.value, funded_at=tx.now, statuses=LINKABLE_VALUES, session=tx.session
        )
        if not ok:
            raise Conflict("项目状态已被他人修改,请刷新后重试", field="status")
        tx.record(
            FundsAllocated(
                project_id=project_id,
                kind=doc["kind"],
                chain=doc.get("chain"),
                status=status,
                source_id=data.source_id,
                source_kind=kind,
                year=data.year,
                amount_fen=data.amount_fen,
                new_source_kind=new_kind,
            ),
            area_path=doc["area_path"],
            aggregate_id=project_id,
        )

    async def _reserve(self, tx: Tx, data: AllocationIn) -> None:
        """Funding added may not exceed what the source's budget for the year has not allocated:
        checked on what the transaction read, then taken by a conditional update, so that of two
        concurrent allocations that together would exceed it one is refused."""
        bid = budget_id(data.source_id, data.year)
        budgets = await self.sources.get_budgets([bid], tx.session)
        left = {k: unallocated(b) for k, b in budgets.items()}
        reserves = reserve_budgets(left, [(bid, data.year, data.amount_fen, "amount_fen")])
        if not await self.sources.reserve_budgets(reserves, tx.session):
            raise Conflict("资金来源的预算已被他人安排,请刷新后重试", field="amount_fen")

    # status ------------------------------------------------------------------------------------
    async def change_status(self, *, ctx: Context, project_id: str, data: StatusIn) -> Project:
        row = StatusRow(project_id=project_id, **data.model_dump())
        pid = await apply_one(row, partial(self._change_status, ctx))
        return await self.get_project(ctx=ctx, project_id=pid)

    async def change_status_batch(self, *, ctx: Context, rows: list[dict[str, Any]]) -> BatchResult:
        return await apply_many(rows, StatusRow, partial(self._change_status, ctx), max_items=self.batch_max)

    async def _change_status(self, ctx: Context, rows: list[tuple[int, StatusRow]]) -> Outcome:
        ctx.principal.require(Action.PROJECTS_WRITE)
        return await self.uow.run(partial(self._status_rows, ctx, rows), correlation_id=ctx.correlation_id)

    async def _status_rows(self, ctx: Context, rows: list[tuple[int, StatusRow]], tx: Tx) -> Outcome:
        outcome = Outcome()
        projects = await self.projects.get_projects({r.project_id for _, r in rows}, tx.session)
        cancelling = [r.project_id for _, r in rows if r.status is ProjectStatus.CANCELLED]
        allocations: dict[str, list[Doc]] = defaultdict(list)
        for a in await self.projects.allocations_of(cancelling, tx.session) if cancelling else []:
            allocations[a["project_id"]].append(a)
        moves: list[StatusMove] = []
        releases: dict[str, int] = {}
        for index, data in rows:
            today = business_today(self.clock)
            step = StatusStep(data.status, data.changed_on or today, clean_text(data.reason))
            try:
                doc = visible_project(ctx.principal, projects.get(data.project_id))
                current = check_status_change(doc, data.status, step, today=today)
            except DomainError as err:
                outcome.reject(index, err)
                continue
            released: list[SourceAmount] = []
            if data.status is ProjectStatus.CANCELLED:
                released = released_on_cancel(allocations[data.project_id])
                for a in allocations[data.project_id]:
                    if a["remaining_fen"] > 0:
                        releases[a["_id"]] = a["remaining_fen"]
                        a["remaining_fen"] = 0
            moves.append(StatusMove(data.project_id, current, step))
            self._record_status(tx, doc, current, step, released)
            outcome.accept(index, data.project_id)
        if await self.projects.move_statuses(moves, tx.session) != len(moves):
            raise Conflict("项目状态已被他人修改,请刷新后重试", field="status")
        if not await self.projects.release_allocations(releases, tx.session):
            raise Conflict("项目资金已被他人修改,请刷新后重试", field="status")
        await self.sources.release_budgets(budget_releases(allocations, releases), tx.session)
        return outcome

    @staticmethod
    def _record_status(
        tx: Tx, doc: Doc, current: ProjectStatus, step: StatusStep, released: list[SourceAmount]
    ) -> None:
        doc["status"] = step.status.value  # later rows of the batch see the project as it now is
        doc["status_history"] = [*doc["status_history"], {"status": step.status.value, "on": step.on.isoformat()}]
        tx.record(
            ProjectStatusChanged(
                project_id=doc["_id"],
                kind=doc["kind"],
                chain=doc.get("chain"),
                source_kinds=doc["source_kinds"],
                provincial_demonstration=doc["provincial_demonstration"],
                from_status=current,
                to_status=step.status,
                changed_on=step.on,
                reason=step.reason,
                released=released,
            ),
            area_path=doc["area_path"],
            aggregate_id=doc["_id"],
        )

    async def set_demonstration(self, *, ctx: Context, project_id: str, data: DemonstrationIn) -> Project:
        ctx.principal.require(Action.PROJECTS_WRITE)
        await self.uow.run(partial(self._set_demonstration, ctx, project_id, data), correlation_id=ctx.correlation_id)
        return await self.get_project(ctx=ctx, project_id=project_id)

    async def _set_demonstration(self, ctx: Context, project_id: str, data: DemonstrationIn, tx: Tx) -> None:
        doc = visible_project(ctx.principal, await self.projects.get_project(project_id, tx.session))
        if doc["provincial_demonstration"] == data.provincial_demonstration:
            return
        await self.projects.set_demonstration(project_id, data.provincial_demonstration, tx.session)
        tx.record(
            DemonstrationChanged(
                project_id=project_id,
                kind=doc["kind"],
                chain=doc.get("chain"),
                status=doc["status"],
                source_kinds=doc["source_kinds"],
                provincial_demonstration=data.provincial_demonstration,
            ),
            area_path=doc["area_path"],
            aggregate_id=project_id,
        )
