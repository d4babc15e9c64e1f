"""Use cases of the jobs a project creates: linking employment spells to projects (one or a
batch), unlinking, listing; and folding the employment service's and the registry's events
into this service's copies (a spell's end takes it out of its project's jobs)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import partial
from typing import Any

from projects_service.jobs.domain import (
    END_EMPLOYMENT_ENDED,
    END_UNLINKED,
    Household,
    Link,
    Spell,
    check_link,
    check_unlink,
)
from projects_service.jobs.models import JobLinkIn, JobLinkRow, LinkedJob
from projects_service.jobs.repository import JobsStore
from projects_service.projects.domain import LINKABLE_VALUES, community_of, visible_project
from projects_service.projects.models import Project
from projects_service.projects.repository import ProjectsStore
from relocation_shared.auth import Action
from relocation_shared.batch import BatchResult, Outcome
from relocation_shared.clock import Clock
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, DomainError
from relocation_shared.events import Envelope
from relocation_shared.events.employment import EmploymentEnded, WorkerEmployed
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.events.projects import JobLinked, JobUnlinked
from relocation_shared.idempotency import apply_many_once, apply_one_once
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork


def spell_of(env: Envelope, p: WorkerEmployed | EmploymentEnded, *, ended_on: date | None = None) -> Spell:
    return Spell(
        id=p.spell_id,
        resident_id=p.resident_id,
        household_id=p.household_id,
        area_path=list(env.area_path),
        community_code=community_of(env.area_path),
        employment_type=p.employment_type.value,
        started_on=p.started_on,
        open=ended_on is None,
        ended_on=ended_on,
    )


def job_fields(project: Doc, spell: Doc) -> dict[str, Any]:
    """What a job event says of the project and of the spell."""
    return {
        "project_id": project["_id"],
        "kind": project["kind"],
        "chain": project.get("chain"),
        "source_kinds": project["source_kinds"],
        "spell_id": spell["_id"],
        "resident_id": spell["resident_id"],
        "household_id": spell["household_id"],
        "community_code": spell["community_code"],
    }


def link_of(project: Doc) -> Link:
    return Link(project["_id"], project["kind"], project.get("chain"), project["source_kinds"])


class JobsService:
    def __init__(
        self, *, uow: UnitOfWork, jobs: JobsStore, projects: ProjectsStore, clock: Clock, batch_max: int = 500
    ) -> None:
        self.uow = uow
        self.jobs = jobs
        self.projects = projects
        self.clock = clock
        self.batch_max = batch_max

    async def link_job(self, *, ctx: Context, project_id: str, data: JobLinkIn) -> LinkedJob:
        ctx.principal.require(Action.PROJECTS_WRITE)
        row = JobLinkRow(project_id=project_id, spell_id=data.spell_id)
        apply = partial(self._link_rows, ctx)
        spell = await self.jobs.get_spell(
            await apply_one_once(self.uow, ctx=ctx, scope="jobs.create", data=row, apply=apply)
        )
        assert spell is not None
        return LinkedJob.from_doc(spell)

    async def link_jobs_batch(self, *, ctx: Context, rows: list[dict[str, Any]]) -> BatchResult:
        ctx.principal.require(Action.PROJECTS_WRITE)
        apply = partial(self._link_rows, ctx)
        return await apply_many_once(
            self.uow, ctx=ctx, scope="jobs.batch", rows=rows, model=JobLinkRow, apply=apply, max_items=self.batch_max
        )

    async def _link_rows(self, ctx: Context, rows: list[tuple[int, JobLinkRow]], tx: Tx) -> Outcome:
        outcome = Outcome()
        projects = await self.projects.get_projects({r.project_id for _, r in rows}, tx.session)
        spells = await self.jobs.get_spells({r.spell_id for _, r in rows}, tx.session)
        claimed: set[str] = set()
        linked: dict[str, list[str]] = defaultdict(list)
        jobs = {pid: d["jobs"] for pid, d in projects.items()}
        for index, data in rows:
            try:
                doc = visible_project(ctx.principal, projects.get(data.project_id))
                spell = check_link(
                    doc, spells.get(data.spell_id), spell_id=data.spell_id, claimed=claimed, project_id=data.project_id
                )
            except DomainError as err:
                outcome.reject(index, err)
                continue
            claimed.add(data.spell_id)
            linked[data.project_id].append(data.spell_id)
            jobs[data.project_id] += 1
            self._record_linked(tx, doc, spell, jobs[data.project_id])
            outcome.accept(index, data.spell_id)
        links = [(link_of(projects[pid]), ids) for pid, ids in linked.items()]
        if await self.jobs.link_spells(links, at=tx.now, session=tx.session) != sum(map(len, linked.values())):
            raise Conflict("就业记录已被他人修改,请刷新后重试", field="spell_id")
        counts = {pid: len(ids) for pid, ids in linked.items()}
        if not await self.projects.add_jobs(counts, statuses=LINKABLE_VALUES, session=tx.session):
            raise Conflict("项目状态已被他人修改,请刷新后重试", field="status")
        return outcome

    @staticmethod
    def _record_linked(tx: Tx, doc: Doc, spell: Doc, jobs: int) -> None:
        tx.record(JobLinked(**job_fields(doc, spell), jobs=jobs), area_path=spell["area_path"], aggregate_id=doc["_id"])

    async def unlink_job(self, *, ctx: Context, project_id: str, spell_id: str) -> Project:
        ctx.principal.require(Action.PROJECTS_WRITE)
        await self.uow.run(partial(self._unlink, ctx, project_id, spell_id), correlation_id=ctx.correlation_id)
        doc = visible_project(ctx.principal, await self.projects.get_project(project_id))
        return Project.from_docs(doc, await self.projects.project_allocations(project_id))

    async def _unlink(self, ctx: Context, project_id: str, spell_id: str, tx: Tx) -> None:
        doc = visible_project(ctx.principal, await self.projects.get_project(project_id, tx.session))
        spell = check_unlink(await self.jobs.get_spell(spell_id, tx.session), project_id)
        if not await self.jobs.unlink_spell(spell_id, project_id, tx.session):
            raise Conflict("就业记录已被他人修改,请刷新后重试", field="spell_id")
        await self._job_gone(tx, doc, spell, reason=END_UNLINKED)

    async def _job_gone(self, tx: Tx, project: Doc, spell: Doc, *, reason: str) -> None:
        await self.projects.add_jobs({project["_id"]: -1}, statuses=None, session=tx.session)
        tx.record(
            JobUnlinked(**job_fields(project, spell), reason=reason, jobs=max(0, project["jobs"] - 1)),
            area_path=spell["area_path"],
            aggregate_id=project["_id"],
        )

    async def project_jobs(self, *, ctx: Context, project_id: str, open_only: bool, limit: int) -> list[LinkedJob]:
        visible_project(ctx.principal, await self.projects.get_project(project_id))
        docs = await self.jobs.project_spells(project_id, open_only=open_only, limit=limit)
        return [LinkedJob.from_doc(d) for d in docs]

    # copies kept from other services' events ---------------------------------------------------
    async def on_worker_employed(self, tx: Tx, env: Envelope, p: WorkerEmployed) -> None:
        if await self.jobs.get_spell(p.spell_id, tx.session) is None:
            await self.jobs.insert_spells([spell_of(env, p)], tx.session)

    async def on_employment_ended(self, tx: Tx, env: Envelope, p: EmploymentEnded) -> None:
        spell = await self.jobs.get_spell(p.spell_id, tx.session)
        if spell is None:  # started before this service kept spells: keep it, closed
            await self.jobs.insert_spells([spell_of(env, p, ended_on=p.ended_on)], tx.session)
            return
        if not spell["open"]:
            return
        await self.jobs.close_spell(p.spell_id, ended_on=p.ended_on.isoformat(), session=tx.session)
        if spell.get("project_id"):
            project = await self.projects.get_project(spell["project_id"], tx.session)
            if project is not None:
                await self._job_gone(tx, project, spell, reason=END_EMPLOYMENT_ENDED)

    async def on_household_registered(self, tx: Tx, env: Envelope, p: HouseholdRegistered) -> None:
        household = Household(p.household_id, p.community_code, list(env.area_path), p.kind.value)
        await self.jobs.upsert_household(household, tx.session)

    async def import_spells(self, *, events: list[tuple[Envelope, WorkerEmployed]]) -> int:
        """Fold many worker-employed events at once (a replay of the employment topic, or demo
        data): the same effect as `on_worker_employed` for each, in one transaction per chunk."""
        inserted = 0
        for start in range(0, len(events), self.batch_max):
            inserted += await self.uow.run(partial(self._import_spells, events[start : start + self.batch_max]))
        return inserted

    async def _import_spells(self, part: list[tuple[Envelope, WorkerEmployed]], tx: Tx) -> int:
        known = await self.jobs.get_spells({p.spell_id for _, p in part}, tx.session)
        spells = {p.spell_id: spell_of(env, p) for env, p in part if p.spell_id not in known}
        await self.jobs.insert_spells(list(spells.values()), tx.session)
        return len(spells)

    async def import_households(self, *, events: list[tuple[Envelope, HouseholdRegistered]]) -> None:
        """Fold many household-registered events at once (replay or demo data)."""
        for start in range(0, len(events), self.batch_max):
            await self.uow.run(partial(self._import_households, events[start : start + self.batch_max]))

    async def _import_households(self, part: list[tuple[Envelope, HouseholdRegistered]], tx: Tx) -> None:
        for env, p in part:
            await self.on_household_registered(tx, env, p)
