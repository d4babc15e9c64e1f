"""Use cases of the follow-up projects and their money.

Each use case runs in one unit of work: the state change, its ledger entries and the events it
means are committed together. Rows of a batch are checked one by one against what the
transaction read (and what earlier rows of the batch already used); the writes that guard the
invariants are conditional updates (enough left on the allocation and on the budget, the
project still in the status the rule needs), so two concurrent transactions conflict and the
loser, retried, sees the winner's result and is refused. Keyword-only arguments throughout."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from projects_service.models import (
    DISBURSABLE,
    LINKABLE,
    AllocationIn,
    Balance,
    BudgetSet,
    CollectiveAssetIn,
    CollectiveIncomeIn,
    CommunityCollective,
    DemonstrationIn,
    DisbursementIn,
    DisbursementRow,
    DividendIn,
    DividendRow,
    Figures,
    FundingSource,
    FundingSourceIn,
    JobLinkIn,
    JobLinkRow,
    LedgerEntry,
    LinkedJob,
    Money,
    Project,
    ProjectIn,
    ReversalIn,
    SourceKindFigures,
    StatusIn,
    StatusRow,
    Summary,
    benefit_delta,
    check_disbursement,
    check_dividend_allowed,
    check_transition,
    clean_text,
    community_of,
    community_path,
    path_of,
    project_area_path,
    status_label,
    yuan,
)
from projects_service.repository import REVERSAL_SUFFIX, Doc, ProjectsRepository
from relocation_shared.auth import Action, Principal
from relocation_shared.batch import BatchResult, Outcome, parse_rows
from relocation_shared.clock import Clock, business_today
from relocation_shared.errors import Conflict, DomainError, InvalidInput, NotFound
from relocation_shared.events import Envelope
from relocation_shared.events.employment import EmploymentEnded, WorkerEmployed
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.events.projects import (
    SOURCE_KIND_LABELS,
    CollectiveAssetRecorded,
    CollectiveIncomeRecorded,
    DemonstrationChanged,
    DividendPaid,
    FundingSourceRegistered,
    FundsAllocated,
    FundsDisbursed,
    JobLinked,
    JobUnlinked,
    PaymentKind,
    PaymentReversed,
    ProjectApproved,
    ProjectKind,
    ProjectStatus,
    ProjectStatusChanged,
    Recipient,
    SourceAmount,
    SourceBudgetSet,
    SourceKind,
)
from relocation_shared.ids import new_id
from relocation_shared.outbox import Tx, UnitOfWork

COLLECTIVE_KINDS = frozenset({PaymentKind.COLLECTIVE_INCOME, PaymentKind.COLLECTIVE_ASSET})
END_EMPLOYMENT_ENDED = "employment_ended"
END_UNLINKED = "unlinked"


def allocation_id(project_id: str, source_id: str, year: int) -> str:
    return f"{project_id}:{source_id}:{year}"


def budget_id(source_id: str, year: int) -> str:
    return f"{source_id}:{year}"


def _not_future(day: date, field: str, what: str, *, today: date) -> None:
    if day > today:
        raise InvalidInput(f"{what}不能晚于今天", field=field)


def _area_path_of(code: str, field: str = "area") -> tuple[str, ...]:
    try:
        return path_of(code)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from exc


class ProjectsService:
    def __init__(self, *, uow: UnitOfWork, repo: ProjectsRepository, clock: Clock, batch_max: int = 500) -> None:
        self.uow = uow
        self.repo = repo
        self.clock = clock
        self.batch_max = batch_max

    @staticmethod
    def _visible_project(principal: Principal, doc: Doc | None, field: str = "project_id") -> Doc:
        if doc is None or not principal.covers(doc["area_path"]):
            raise NotFound("项目不存在", field=field)
        return doc

    # funding sources -------------------------------------------------------
    @staticmethod
    def _source_visible(principal: Principal, doc: Doc) -> bool:
        """A source is visible to users of its area and to users below it (who fund projects from it)."""
        if principal.covers(doc["area_path"]):
            return True
        for code in principal.areas:
            try:
                if doc["area_code"] in path_of(code.split("-")[0]):
                    return True
            except ValueError:
                continue
        return False

    async def register_source(
        self, *, principal: Principal, data: FundingSourceIn, correlation_id: str | None = None
    ) -> FundingSource:
        principal.require(Action.PROJECTS_WRITE)
        path = list(_area_path_of(data.area_code, "area_code"))
        principal.require_area(path, field="area_code")
        years = [b.year for b in data.budgets]
        if len(set(years)) != len(years):
            raise InvalidInput("同一年度的预算重复", field="budgets")

        async def work(tx: Tx) -> str:
            sid = new_id()
            await self.repo.insert_source(
                {
                    "_id": sid,
                    "kind": data.kind.value,
                    "name": clean_text(data.name),
                    "area_code": data.area_code,
                    "area_path": path,
                    "created_at": self.clock(),
                    "created_by": principal.subject,
                },
                tx.session,
            )
            tx.record(
                FundingSourceRegistered(
                    source_id=sid, source_kind=data.kind, name=clean_text(data.name) or "", area_code=data.area_code
                ),
                area_path=path,
                aggregate_id=sid,
            )
            docs = []
            for b in data.budgets:
                docs.append(self._budget_doc(sid, data.kind, path, b.year, b.amount_fen))
                tx.record(
                    SourceBudgetSet(
                        source_id=sid,
                        source_kind=data.kind,
                        year=b.year,
                        budget_fen=b.amount_fen,
                        delta_fen=b.amount_fen,
                    ),
                    area_path=path,
                    aggregate_id=sid,
                )
            await self.repo.insert_budgets(docs, tx.session)
            return sid

        sid = await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_source(principal=principal, source_id=sid)

    @staticmethod
    def _budget_doc(source_id: str, kind: SourceKind, path: list[str], year: int, amount: int) -> Doc:
        return {
            "_id": budget_id(source_id, year),
            "source_id": source_id,
            "source_kind": kind.value,
            "year": year,
            "budget_fen": amount,
            "disbursed_fen": 0,
            "remaining_fen": amount,
            "area_path": path,
        }

    async def set_budget(
        self, *, principal: Principal, source_id: str, year: int, data: BudgetSet, correlation_id: str | None = None
    ) -> FundingSource:
        principal.require(Action.PROJECTS_WRITE)
        if not 2000 <= year <= 2100:
            raise InvalidInput("年度应在 2000 至 2100 之间", field="year")

        async def work(tx: Tx) -> None:
            source = await self.repo.get_source(source_id, tx.session)
            if source is None or not self._source_visible(principal, source):
                raise NotFound("资金来源不存在", field="source_id")
            principal.require_area(source["area_path"], field="source_id")
            kind = SourceKind(source["kind"])
            bid = budget_id(source_id, year)
            current = await self.repo.get_budget(bid, tx.session)
            if current is None:
                await self.repo.insert_budgets(
                    [self._budget_doc(source_id, kind, source["area_path"], year, data.amount_fen)], tx.session
                )
                delta = data.amount_fen
            else:
                if data.amount_fen < current["disbursed_fen"]:
                    raise Conflict(
                        f"预算不能低于本年度已拨付的 {yuan(current['disbursed_fen'])} 元",
                        field="amount_fen",
                        disbursed_fen=current["disbursed_fen"],
                    )
                delta = data.amount_fen - current["budget_fen"]
                if delta == 0:
                    return
                ok = await self.repo.set_budget(
                    bid, old_budget=current["budget_fen"], new_budget=data.amount_fen, session=tx.session
                )
                if not ok:
                    raise Conflict("预算已被他人修改,请刷新后重试", field="amount_fen")
            tx.record(
                SourceBudgetSet(
                    source_id=source_id, source_kind=kind, year=year, budget_fen=data.amount_fen, delta_fen=delta
                ),
                area_path=source["area_path"],
                aggregate_id=source_id,
            )

        await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_source(principal=principal, source_id=source_id)

    async def get_source(self, *, principal: Principal, source_id: str) -> FundingSource:
        doc = await self.repo.get_source(source_id)
        if doc is None or not self._source_visible(principal, doc):
            raise NotFound("资金来源不存在", field="source_id")
        return FundingSource.from_docs(doc, await self.repo.source_budgets(source_id))

    async def list_sources(self, *, principal: Principal) -> list[FundingSource]:
        out = []
        for doc in await self.repo.list_sources():
            if self._source_visible(principal, doc):
                out.append(FundingSource.from_docs(doc, await self.repo.source_budgets(doc["_id"])))
        return out

    # approval ----------------------------------------------------------------
    async def approve(self, *, principal: Principal, data: ProjectIn, correlation_id: str | None = None) -> Project:
        outcome = await self._approve(principal=principal, rows=[(0, data)], correlation_id=correlation_id)
        return await self.get_project(principal=principal, project_id=outcome.single())

    async def approve_batch(
        self, *, principal: Principal, rows: list[dict[str, Any]], correlation_id: str | None = None
    ) -> BatchResult:
        good, bad = parse_rows(rows, ProjectIn, max_items=self.batch_max)
        outcome = await self._approve(principal=principal, rows=good, correlation_id=correlation_id)
        return outcome.result(bad)

    def _check_project(self, principal: Principal, data: ProjectIn, sources: dict[str, Doc]) -> tuple[str, ...]:
        _not_future(data.approved_on, "approved_on", "批复日期", today=business_today(self.clock))
        try:
            path = project_area_path(data.community_codes)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="community_codes") from exc
        principal.require_area(path, field="community_codes")
        if data.kind is ProjectKind.INDUSTRY and data.chain is None:
            raise InvalidInput("后续扶持产业项目须注明产业链(特色农业、特色轻工业或特色文旅)", field="chain")
        seen: set[tuple[str, int]] = set()
        for i, a in enumerate(data.allocations):
            source = sources.get(a.source_id)
            if source is None or not self._source_visible(principal, source):
                raise NotFound("资金来源不存在", field=f"allocations.{i}.source_id")
            if source["area_code"] not in path:
                raise InvalidInput("该资金来源不覆盖项目所在区域", field=f"allocations.{i}.source_id")
            if (a.source_id, a.year) in seen:
                raise InvalidInput("同一资金来源同一年度重复安排", field=f"allocations.{i}")
            seen.add((a.source_id, a.year))
        return path

    async def _approve(
        self, *, principal: Principal, rows: list[tuple[int, ProjectIn]], correlation_id: str | None
    ) -> Outcome:
        principal.require(Action.PROJECTS_WRITE)

        async def work(tx: Tx) -> Outcome:
            outcome = Outcome()
            sources = await self.repo.get_sources({a.source_id for _, r in rows for a in r.allocations}, tx.session)
            projects: list[Doc] = []
            allocations: list[Doc] = []
            for index, data in rows:
                try:
                    path = self._check_project(principal, data, sources)
                except DomainError as err:
                    outcome.reject(index, err)
                    continue
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
                projects.append(
                    {
                        "_id": pid,
                        "name": clean_text(data.name),
                        "kind": data.kind.value,
                        "chain": data.chain.value if data.chain else None,
                        "community_codes": data.community_codes,
                        "county_code": path[2],
                        "area_path": list(path),
                        "status": ProjectStatus.APPROVED.value,
                        "status_history": [
                            {"status": ProjectStatus.APPROVED.value, "on": data.approved_on.isoformat(), "reason": None}
                        ],
                        "provincial_demonstration": data.provincial_demonstration,
                        "approved_on": data.approved_on.isoformat(),
                        "approved_by": principal.subject,
                        "description": clean_text(data.description),
                        "source_kinds": [k.value for k in kinds],
                        "jobs": 0,
                        "dividends_fen": 0,
                        "created_at": self.clock(),
                    }
                )
                for a in amounts:
                    allocations.append(self._allocation_doc(pid, a, path, data.kind, data.chain))
                tx.record(
                    ProjectApproved(
                        project_id=pid,
                        name=clean_text(data.name) or "",
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
                outcome.accept(index, pid)
            await self.repo.insert_projects(projects, tx.session)
            await self.repo.insert_allocations(allocations, tx.session)
            return outcome

        return await self.uow.run(work, correlation_id=correlation_id)

    @staticmethod
    def _allocation_doc(pid: str, a: SourceAmount, path: tuple[str, ...] | list[str], kind: Any, chain: Any) -> Doc:
        return {
            "_id": allocation_id(pid, a.source_id, a.year),
            "project_id": pid,
            "source_id": a.source_id,
            "source_kind": a.source_kind.value,
            "year": a.year,
            "amount_fen": a.amount_fen,
            "disbursed_fen": 0,
            "released_fen": 0,
            "remaining_fen": a.amount_fen,
            "area_path": list(path),
            "kind": str(kind),
            "chain": str(chain) if chain else None,
            "industry": str(kind) == ProjectKind.INDUSTRY.value,
        }

    async def allocate(
        self, *, principal: Principal, project_id: str, data: AllocationIn, correlation_id: str | None = None
    ) -> Project:
        """Add funding to a project (追加资金) from a source for a year."""
        principal.require(Action.PROJECTS_WRITE)

        async def work(tx: Tx) -> None:
            doc = self._visible_project(principal, await self.repo.get_project(project_id, tx.session))
            status = ProjectStatus(doc["status"])
            if status in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED):
                raise Conflict(
                    f"项目当前状态为“{status_label(status)}”,不能追加资金", field="status", current=status.value
                )
            source = await self.repo.get_source(data.source_id, tx.session)
            if source is None or not self._source_visible(principal, source):
                raise NotFound("资金来源不存在", field="source_id")
            if source["area_code"] not in doc["area_path"]:
                raise InvalidInput("该资金来源不覆盖项目所在区域", field="source_id")
            kind = SourceKind(source["kind"])
            amount = SourceAmount(
                source_id=data.source_id, source_kind=kind, year=data.year, amount_fen=data.amount_fen
            )
            aid = allocation_id(project_id, data.source_id, data.year)
            existing = await self.repo.get_allocations([aid], tx.session)
            if aid in existing:
                await self.repo.add_to_allocation(aid, data.amount_fen, tx.session)
            else:
                await self.repo.insert_allocations(
                    [self._allocation_doc(project_id, amount, doc["area_path"], doc["kind"], doc.get("chain"))],
                    tx.session,
                )
            new_kind = kind.value not in doc["source_kinds"]
            ok = await self.repo.guarded_updates(
                {project_id: {"$addToSet": {"source_kinds": kind.value}, "$set": {"funded_at": self.clock()}}},
                statuses=[s.value for s in LINKABLE],
                session=tx.session,
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

        await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_project(principal=principal, project_id=project_id)

    # status ------------------------------------------------------------------
    async def change_status(
        self, *, principal: Principal, project_id: str, data: StatusIn, correlation_id: str | None = None
    ) -> Project:
        row = StatusRow(project_id=project_id, **data.model_dump())
        outcome = await self._change_status(principal=principal, rows=[(0, row)], correlation_id=correlation_id)
        return await self.get_project(principal=principal, project_id=outcome.single())

    async def change_status_batch(
        self, *, principal: Principal, rows: list[dict[str, Any]], correlation_id: str | None = None
    ) -> BatchResult:
        good, bad = parse_rows(rows, StatusRow, max_items=self.batch_max)
        outcome = await self._change_status(principal=principal, rows=good, correlation_id=correlation_id)
        return outcome.result(bad)

    async def _change_status(
        self, *, principal: Principal, rows: list[tuple[int, StatusRow]], correlation_id: str | None
    ) -> Outcome:
        principal.require(Action.PROJECTS_WRITE)

        async def work(tx: Tx) -> Outcome:
            outcome = Outcome()
            projects = await self.repo.get_projects({r.project_id for _, r in rows}, tx.session)
            cancelling = [r.project_id for _, r in rows if r.status is ProjectStatus.CANCELLED]
            allocations: dict[str, list[Doc]] = defaultdict(list)
            for a in await self.repo.allocations_of(cancelling, tx.session) if cancelling else []:
                allocations[a["project_id"]].append(a)
            moves: list[tuple[str, str, Doc]] = []
            releases: dict[str, int] = {}
            for index, data in rows:
                try:
                    doc = self._visible_project(principal, projects.get(data.project_id))
                    current = ProjectStatus(doc["status"])
                    check_transition(current, data.status)
                    on = data.changed_on or business_today(self.clock)
                    _not_future(on, "changed_on", "变更日期", today=business_today(self.clock))
                    if on < date.fromisoformat(doc["status_history"][-1]["on"]):
                        raise InvalidInput("变更日期早于上一次状态变更的日期", field="changed_on")
                    reason = clean_text(data.reason)
                    if data.status is ProjectStatus.CANCELLED and not reason:
                        raise InvalidInput("撤销项目须说明原因", field="reason")
                except DomainError as err:
                    outcome.reject(index, err)
                    continue
                released: list[SourceAmount] = []
                if data.status is ProjectStatus.CANCELLED:
                    for a in allocations[data.project_id]:
                        if a["remaining_fen"] > 0:
                            releases[a["_id"]] = a["remaining_fen"]
                            released.append(
                                SourceAmount(
                                    source_id=a["source_id"],
                                    source_kind=a["source_kind"],
                                    year=a["year"],
                                    amount_fen=a["remaining_fen"],
                                )
                            )
                            a["remaining_fen"] = 0
                step = {"status": data.status.value, "on": on.isoformat(), "reason": reason}
                moves.append(
                    (
                        data.project_id,
                        current.value,
                        {"$set": {"status": data.status.value}, "$push": {"status_history": step}},
                    )
                )
                doc["status"] = data.status.value
                doc["status_history"] = [*doc["status_history"], step]
                tx.record(
                    ProjectStatusChanged(
                        project_id=data.project_id,
                        kind=doc["kind"],
                        chain=doc.get("chain"),
                        source_kinds=doc["source_kinds"],
                        provincial_demonstration=doc["provincial_demonstration"],
                        from_status=current,
                        to_status=data.status,
                        changed_on=on,
                        reason=reason,
                        released=released,
                    ),
                    area_path=doc["area_path"],
                    aggregate_id=data.project_id,
                )
                outcome.accept(index, data.project_id)
            if await self.repo.change_status(moves, tx.session) != len(moves):
                raise Conflict("项目状态已被他人修改,请刷新后重试", field="status")
            if not await self.repo.release_allocations(releases, tx.session):
                raise Conflict("项目资金已被他人修改,请刷新后重试", field="status")
            return outcome

        return await self.uow.run(work, correlation_id=correlation_id)

    async def set_demonstration(
        self, *, principal: Principal, project_id: str, data: DemonstrationIn, correlation_id: str | None = None
    ) -> Project:
        principal.require(Action.PROJECTS_WRITE)

        async def work(tx: Tx) -> None:
            doc = self._visible_project(principal, await self.repo.get_project(project_id, tx.session))
            if doc["provincial_demonstration"] == data.provincial_demonstration:
                return
            await self.repo.update_project(
                project_id, {"$set": {"provincial_demonstration": data.provincial_demonstration}}, tx.session
            )
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

        await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_project(principal=principal, project_id=project_id)

    # disbursements -----------------------------------------------------------
    async def disburse(
        self, *, principal: Principal, project_id: str, data: DisbursementIn, correlation_id: str | None = None
    ) -> LedgerEntry:
        row = DisbursementRow(project_id=project_id, **data.model_dump())
        outcome = await self._disburse(principal=principal, rows=[(0, row)], correlation_id=correlation_id)
        return await self.get_entry(principal=principal, entry_id=outcome.single())

    async def disburse_batch(
        self, *, principal: Principal, rows: list[dict[str, Any]], correlation_id: str | None = None
    ) -> BatchResult:
        good, bad = parse_rows(rows, DisbursementRow, max_items=self.batch_max)
        outcome = await self._disburse(principal=principal, rows=good, correlation_id=correlation_id)
        return outcome.result(bad)

    async def _disburse(
        self, *, principal: Principal, rows: list[tuple[int, DisbursementRow]], correlation_id: str | None
    ) -> Outcome:
        principal.require(Action.PROJECTS_WRITE)

        async def work(tx: Tx) -> Outcome:
            outcome = Outcome()
            projects = await self.repo.get_projects({r.project_id for _, r in rows}, tx.session)
            allocs = await self.repo.get_allocations(
                {allocation_id(r.project_id, r.source_id, r.year) for _, r in rows}, tx.session
            )
            budgets = await self.repo.get_budgets({budget_id(r.source_id, r.year) for _, r in rows}, tx.session)
            alloc_balance = {k: Balance(k, d["remaining_fen"]) for k, d in allocs.items()}
            budget_balance = {k: Balance(k, d["remaining_fen"]) for k, d in budgets.items()}
            entries: list[Doc] = []
            now = self.clock()
            for index, data in rows:
                aid, bid = (
                    allocation_id(data.project_id, data.source_id, data.year),
                    budget_id(data.source_id, data.year),
                )
                try:
                    doc = self._visible_project(principal, projects.get(data.project_id))
                    status = ProjectStatus(doc["status"])
                    if status not in DISBURSABLE:
                        raise Conflict(
                            f"项目当前状态为“{status_label(status)}”,不能拨付资金", field="status", current=status.value
                        )
                    if aid not in allocs:
                        raise InvalidInput("该项目没有安排此资金来源该年度的资金", field="source_id")
                    if bid not in budgets:
                        raise Conflict("该资金来源尚未设置该年度预算", field="year")
                    _not_future(data.disbursed_on, "disbursed_on", "拨付日期", today=business_today(self.clock))
                    if data.disbursed_on < date.fromisoformat(doc["approved_on"]):
                        raise InvalidInput("拨付日期早于项目批复日期", field="disbursed_on")
                    check_disbursement(
                        amount=data.amount_fen, allocation=alloc_balance[aid], budget=budget_balance[bid]
                    )
                except DomainError as err:
                    outcome.reject(index, err)
                    continue
                eid = new_id()
                kind = allocs[aid]["source_kind"]
                entries.append(
                    {
                        "_id": eid,
                        "kind": PaymentKind.DISBURSEMENT.value,
                        "amount_fen": data.amount_fen,
                        "reversal_of": None,
                        "project_id": data.project_id,
                        "project_kind": doc["kind"],
                        "chain": doc.get("chain"),
                        "source_id": data.source_id,
                        "source_kind": kind,
                        "source_kinds": [kind],
                        "year": data.year,
                        "recipient": None,
                        "community_code": None,
                        "household_id": None,
                        "occurred_on": data.disbursed_on.isoformat(),
                        "memo": clean_text(data.memo),
                        "area_path": doc["area_path"],
                        "aggregate_id": data.project_id,
                        "recorded_at": now,
                        "recorded_by": principal.subject,
                    }
                )
                tx.record(
                    FundsDisbursed(
                        entry_id=eid,
                        project_id=data.project_id,
                        kind=doc["kind"],
                        chain=doc.get("chain"),
                        source_id=data.source_id,
                        source_kind=kind,
                        year=data.year,
                        amount_fen=data.amount_fen,
                        disbursed_on=data.disbursed_on,
                        allocation_remaining_fen=alloc_balance[aid].remaining,
                        budget_remaining_fen=budget_balance[bid].remaining,
                    ),
                    area_path=doc["area_path"],
                    aggregate_id=data.project_id,
                )
                outcome.accept(index, eid)
            drawn_allocs = {k: b.drawn for k, b in alloc_balance.items() if b.drawn}
            drawn_budgets = {k: b.drawn for k, b in budget_balance.items() if b.drawn}
            if not await self.repo.draw("allocations", drawn_allocs, tx.session):
                raise Conflict("项目资金余额已被他人使用,请刷新后重试", field="amount_fen")
            if not await self.repo.draw("budgets", drawn_budgets, tx.session):
                raise Conflict("资金来源预算余额已被他人使用,请刷新后重试", field="amount_fen")
            await self.repo.append(entries, tx.session)
            return outcome

        return await self.uow.run(work, correlation_id=correlation_id)

    # dividends -----------------------------------------------------------------
    async def pay_dividend(
        self, *, principal: Principal, project_id: str, data: DividendIn, correlation_id: str | None = None
    ) -> LedgerEntry:
        row = DividendRow(project_id=project_id, **data.model_dump())
        outcome = await self._pay_dividends(principal=principal, rows=[(0, row)], correlation_id=correlation_id)
        return await self.get_entry(principal=principal, entry_id=outcome.single())

    async def pay_dividends_batch(
        self, *, principal: Principal, rows: list[dict[str, Any]], correlation_id: str | None = None
    ) -> BatchResult:
        good, bad = parse_rows(rows, DividendRow, max_items=self.batch_max)
        outcome = await self._pay_dividends(principal=principal, rows=good, correlation_id=correlation_id)
        return outcome.result(bad)

    @staticmethod
    def _dividend_recipient(data: DividendRow, project: Doc, households: dict[str, Doc]) -> tuple[str, list[str]]:
        """The community the dividend goes to (or the household's community) and the area path to record it at."""
        if data.recipient is Recipient.COLLECTIVE:
            if not data.community_code:
                raise InvalidInput("分红给社区集体须填写社区代码", field="community_code")
            if data.household_id:
                raise InvalidInput("分红给社区集体时不应填写户编号", field="household_id")
            if data.community_code not in project["community_codes"]:
                raise InvalidInput("该社区不在项目服务的安置社区范围内", field="community_code")
            return data.community_code, list(community_path(data.community_code))
        if not data.household_id:
            raise InvalidInput("分红到户须填写户编号", field="household_id")
        household = households.get(data.household_id)
        if household is None:
            raise NotFound("该户不存在或尚未同步到项目台账", field="household_id")
        if household["community_code"] not in project["community_codes"]:
            raise InvalidInput("该户不在项目服务的安置社区内,不能向其分红", field="household_id")
        if data.community_code and data.community_code != household["community_code"]:
            raise InvalidInput("社区代码与该户所在社区不一致", field="community_code")
        return household["community_code"], household["area_path"]

    async def _pay_dividends(
        self, *, principal: Principal, rows: list[tuple[int, DividendRow]], correlation_id: str | None
    ) -> Outcome:
        principal.require(Action.PROJECTS_WRITE)

        async def work(tx: Tx) -> Outcome:
            outcome = Outcome()
            projects = await self.repo.get_projects({r.project_id for _, r in rows}, tx.session)
            households = await self.repo.get_households(
                {r.household_id for _, r in rows if r.household_id and r.recipient is Recipient.HOUSEHOLD}, tx.session
            )
            counts = {hid: h.get("dividends", 0) for hid, h in households.items()}
            paid: dict[str, int] = defaultdict(int)
            household_changes: dict[str, int] = defaultdict(int)
            entries: list[Doc] = []
            now = self.clock()
            for index, data in rows:
                try:
                    doc = self._visible_project(principal, projects.get(data.project_id))
                    check_dividend_allowed(ProjectStatus(doc["status"]))
                    _not_future(data.paid_on, "paid_on", "分红日期", today=business_today(self.clock))
                    if data.paid_on < date.fromisoformat(doc["approved_on"]):
                        raise InvalidInput("分红日期早于项目批复日期", field="paid_on")
                    if data.year > data.paid_on.year:
                        raise InvalidInput("分红年度不能晚于支付日期所在年度", field="year")
                    community, area_path = self._dividend_recipient(data, doc, households)
                except DomainError as err:
                    outcome.reject(index, err)
                    continue
                delta = 0
                if data.recipient is Recipient.HOUSEHOLD:
                    assert data.household_id is not None
                    before = counts[data.household_id]
                    counts[data.household_id] = before + 1
                    household_changes[data.household_id] += 1
                    delta = benefit_delta(before, 1)
                eid = new_id()
                entries.append(
                    {
                        "_id": eid,
                        "kind": PaymentKind.DIVIDEND.value,
                        "amount_fen": data.amount_fen,
                        "reversal_of": None,
                        "project_id": data.project_id,
                        "project_kind": doc["kind"],
                        "chain": doc.get("chain"),
                        "source_id": None,
                        "source_kind": None,
                        "source_kinds": doc["source_kinds"],
                        "year": data.year,
                        "recipient": data.recipient.value,
                        "community_code": community,
                        "household_id": data.household_id if data.recipient is Recipient.HOUSEHOLD else None,
                        "occurred_on": data.paid_on.isoformat(),
                        "memo": clean_text(data.memo),
                        "area_path": area_path,
                        "aggregate_id": data.project_id,
                        "recorded_at": now,
                        "recorded_by": principal.subject,
                    }
                )
                paid[data.project_id] += data.amount_fen
                tx.record(
                    DividendPaid(
                        entry_id=eid,
                        project_id=data.project_id,
                        kind=doc["kind"],
                        chain=doc.get("chain"),
                        source_kinds=doc["source_kinds"],
                        recipient=data.recipient,
                        community_code=community,
                        household_id=data.household_id if data.recipient is Recipient.HOUSEHOLD else None,
                        amount_fen=data.amount_fen,
                        year=data.year,
                        paid_on=data.paid_on,
                        households_benefiting_delta=delta,
                    ),
                    area_path=area_path,
                    aggregate_id=data.project_id,
                )
                outcome.accept(index, eid)
            ok = await self.repo.guarded_updates(
                {pid: {"$inc": {"dividends_fen": fen}} for pid, fen in paid.items()},
                statuses=[ProjectStatus.OPERATING.value],
                session=tx.session,
            )
            if not ok:
                raise Conflict("项目状态已变更,不能分红,请刷新后重试", field="status")
            if not await self.repo.add_household_dividends(dict(household_changes), tx.session):
                raise Conflict("搬迁户信息已变更,请重试", field="household_id")
            await self.repo.append(entries, tx.session)
            return outcome

        return await self.uow.run(work, correlation_id=correlation_id)

    # collective economy ----------------------------------------------------------
    async def record_collective_income(
        self, *, principal: Principal, community_code: str, data: CollectiveIncomeIn, correlation_id: str | None = None
    ) -> LedgerEntry:
        if data.year > data.received_on.year:
            raise InvalidInput("收入年度不能晚于到账日期所在年度", field="year")
        return await self._collective(
            principal=principal,
            community_code=community_code,
            kind=PaymentKind.COLLECTIVE_INCOME,
            amount=data.amount_fen,
            year=data.year,
            on=data.received_on,
            on_field="received_on",
            project_id=data.project_id,
            memo=data.memo,
            correlation_id=correlation_id,
        )

    async def record_collective_asset(
        self, *, principal: Principal, community_code: str, data: CollectiveAssetIn, correlation_id: str | None = None
    ) -> LedgerEntry:
        return await self._collective(
            principal=principal,
            community_code=community_code,
            kind=PaymentKind.COLLECTIVE_ASSET,
            amount=data.amount_fen,
            year=data.recorded_on.year,
            on=data.recorded_on,
            on_field="recorded_on",
            project_id=data.project_id,
            memo=data.description,
            correlation_id=correlation_id,
        )

    async def _collective(
        self,
        *,
        principal: Principal,
        community_code: str,
        kind: PaymentKind,
        amount: int,
        year: int,
        on: date,
        on_field: str,
        project_id: str | None,
        memo: str | None,
        correlation_id: str | None,
    ) -> LedgerEntry:
        principal.require(Action.COLLECTIVE_WRITE)
        try:
            path = list(community_path(community_code))
        except ValueError as exc:
            raise InvalidInput(str(exc), field="community_code") from exc
        principal.require_area(path, field="community_code")
        _not_future(on, on_field, "日期", today=business_today(self.clock))

        async def work(tx: Tx) -> str:
            project: Doc | None = None
            if project_id:
                project = self._visible_project(principal, await self.repo.get_project(project_id, tx.session))
                if community_code not in project["community_codes"]:
                    raise InvalidInput("该社区不在此项目服务的安置社区范围内", field="project_id")
            source_kinds = project["source_kinds"] if project else []
            chain = project.get("chain") if project else None
            eid = new_id()
            text = clean_text(memo)
            await self.repo.append(
                [
                    {
                        "_id": eid,
                        "kind": kind.value,
                        "amount_fen": amount,
                        "reversal_of": None,
                        "project_id": project_id,
                        "project_kind": project["kind"] if project else None,
                        "chain": chain,
                        "source_id": None,
                        "source_kind": None,
                        "source_kinds": source_kinds,
                        "year": year,
                        "recipient": None,
                        "community_code": community_code,
                        "household_id": None,
                        "occurred_on": on.isoformat(),
                        "memo": text,
                        "area_path": path,
                        "aggregate_id": community_code,
                        "recorded_at": self.clock(),
                        "recorded_by": principal.subject,
                    }
                ],
                tx.session,
            )
            if kind is PaymentKind.COLLECTIVE_INCOME:
                tx.record(
                    CollectiveIncomeRecorded(
                        entry_id=eid,
                        community_code=community_code,
                        project_id=project_id,
                        chain=chain,
                        source_kinds=source_kinds,
                        amount_fen=amount,
                        year=year,
                        received_on=on,
                    ),
                    area_path=path,
                    aggregate_id=community_code,
                )
            else:
                tx.record(
                    CollectiveAssetRecorded(
                        entry_id=eid,
                        community_code=community_code,
                        project_id=project_id,
                        chain=chain,
                        source_kinds=source_kinds,
                        amount_fen=amount,
                        recorded_on=on,
                        description=text or "",
                    ),
                    area_path=path,
                    aggregate_id=community_code,
                )
            return eid

        eid = await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_entry(principal=principal, entry_id=eid)

    async def community_collective(self, *, principal: Principal, community_code: str) -> CommunityCollective:
        try:
            path = list(community_path(community_code))
        except ValueError as exc:
            raise InvalidInput(str(exc), field="community_code") from exc
        principal.require_visible(path, "社区")
        totals = {
            (r["_id"]["kind"], r["_id"].get("recipient")): r["fen"]
            for r in await self.repo.community_totals(community_code)
        }
        by_year = await self.repo.community_income_by_year(community_code)
        return CommunityCollective(
            community_code=community_code,
            area_path=path,
            collective_income=Money.of(totals.get((PaymentKind.COLLECTIVE_INCOME.value, None), 0)),
            income_by_year={str(r["_id"]): Money.of(r["fen"]) for r in sorted(by_year, key=lambda r: r["_id"])},
            collective_assets=Money.of(totals.get((PaymentKind.COLLECTIVE_ASSET.value, None), 0)),
            dividends_to_collective=Money.of(totals.get((PaymentKind.DIVIDEND.value, Recipient.COLLECTIVE.value), 0)),
            dividends_to_households=Money.of(totals.get((PaymentKind.DIVIDEND.value, Recipient.HOUSEHOLD.value), 0)),
        )

    # reversal --------------------------------------------------------------------
    async def reverse(
        self, *, principal: Principal, entry_id: str, data: ReversalIn, correlation_id: str | None = None
    ) -> LedgerEntry:
        """Reverse a payment by a compensating entry (冲正); the original is never edited."""

        async def work(tx: Tx) -> str:
            orig = await self.repo.get_entry(entry_id, tx.session)
            if orig is None or not principal.covers(orig["area_path"]):
                raise NotFound("记录不存在", field="entry_id")
            kind = PaymentKind(orig["kind"])
            principal.require(Action.COLLECTIVE_WRITE if kind in COLLECTIVE_KINDS else Action.PROJECTS_WRITE)
            if orig.get("reversal_of"):
                raise Conflict("冲正记录不能再冲正", field="entry_id")
            rid = entry_id + REVERSAL_SUFFIX
            if await self.repo.get_entry(rid, tx.session) is not None:
                raise Conflict("该记录已冲正,不能重复冲正", field="entry_id", reversal_id=rid)
            on = data.reversed_on or business_today(self.clock)
            _not_future(on, "reversed_on", "冲正日期", today=business_today(self.clock))
            if on < date.fromisoformat(orig["occurred_on"]):
                raise InvalidInput("冲正日期早于原记录日期", field="reversed_on")
            amount = orig["amount_fen"]
            delta = 0
            if kind is PaymentKind.DISBURSEMENT:
                project = await self.repo.get_project(orig["project_id"], tx.session)
                assert project is not None
                cancelled = project["status"] == ProjectStatus.CANCELLED.value
                aid = allocation_id(orig["project_id"], orig["source_id"], orig["year"])
                await self.repo.give_back("allocations", aid, amount, released=cancelled, session=tx.session)
                bid = budget_id(orig["source_id"], orig["year"])
                await self.repo.give_back("budgets", bid, amount, released=False, session=tx.session)
            elif kind is PaymentKind.DIVIDEND:
                await self.repo.update_project(orig["project_id"], {"$inc": {"dividends_fen": -amount}}, tx.session)
                if orig["recipient"] == Recipient.HOUSEHOLD.value:
                    household = await self.repo.get_household(orig["household_id"], tx.session)
                    assert household is not None
                    delta = benefit_delta(household.get("dividends", 0), -1)
                    await self.repo.add_household_dividends({orig["household_id"]: -1}, tx.session)
            # A collective entry changes no balance: the reversal's id (the original's + "-R")
            # is what makes a second, concurrent reversal conflict and then be refused.
            reason = clean_text(data.reason) or ""
            await self.repo.append(
                [
                    {
                        **orig,
                        "_id": rid,
                        "amount_fen": -amount,
                        "reversal_of": entry_id,
                        "occurred_on": on.isoformat(),
                        "memo": reason,
                        "recorded_at": self.clock(),
                        "recorded_by": principal.subject,
                    }
                ],
                tx.session,
            )
            tx.record(
                PaymentReversed(
                    entry_id=rid,
                    reverses=entry_id,
                    payment_kind=kind,
                    amount_fen=amount,
                    project_id=orig.get("project_id"),
                    kind=orig.get("project_kind"),
                    chain=orig.get("chain"),
                    source_id=orig.get("source_id"),
                    source_kind=orig.get("source_kind"),
                    source_kinds=orig["source_kinds"],
                    year=orig.get("year"),
                    recipient=orig.get("recipient"),
                    community_code=orig.get("community_code"),
                    household_id=orig.get("household_id"),
                    reason=reason,
                    reversed_on=on,
                    households_benefiting_delta=delta,
                ),
                area_path=orig["area_path"],
                aggregate_id=orig["aggregate_id"],
            )
            return rid

        rid = await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_entry(principal=principal, entry_id=rid)

    async def get_entry(self, *, principal: Principal, entry_id: str) -> LedgerEntry:
        doc = await self.repo.get_entry(entry_id)
        if doc is None:
            raise NotFound("记录不存在", field="entry_id")
        principal.require_visible(doc["area_path"], "记录")
        return LedgerEntry.from_doc(doc)

    async def list_entries(
        self, *, principal: Principal, project_id: str | None, community_code: str | None, limit: int
    ) -> list[LedgerEntry]:
        query: Doc = {}
        if project_id:
            self._visible_project(principal, await self.repo.get_project(project_id))
            query["project_id"] = project_id
        if community_code:
            principal.require_area(_area_path_of(community_code, "community_code"), field="community_code")
            query["community_code"] = community_code
        if not query:
            raise InvalidInput("请指定项目或社区", field="project_id")
        return [LedgerEntry.from_doc(d) for d in await self.repo.list_entries(query, limit=limit)]

    # jobs ------------------------------------------------------------------------
    async def link_job(
        self, *, principal: Principal, project_id: str, data: JobLinkIn, correlation_id: str | None = None
    ) -> LinkedJob:
        row = JobLinkRow(project_id=project_id, spell_id=data.spell_id)
        outcome = await self._link_jobs(principal=principal, rows=[(0, row)], correlation_id=correlation_id)
        spell = await self.repo.get_spell(outcome.single())
        assert spell is not None
        return LinkedJob.from_doc(spell)

    async def link_jobs_batch(
        self, *, principal: Principal, rows: list[dict[str, Any]], correlation_id: str | None = None
    ) -> BatchResult:
        good, bad = parse_rows(rows, JobLinkRow, max_items=self.batch_max)
        outcome = await self._link_jobs(principal=principal, rows=good, correlation_id=correlation_id)
        return outcome.result(bad)

    async def _link_jobs(
        self, *, principal: Principal, rows: list[tuple[int, JobLinkRow]], correlation_id: str | None
    ) -> Outcome:
        principal.require(Action.PROJECTS_WRITE)

        async def work(tx: Tx) -> Outcome:
            outcome = Outcome()
            projects = await self.repo.get_projects({r.project_id for _, r in rows}, tx.session)
            spells = await self.repo.get_spells({r.spell_id for _, r in rows}, tx.session)
            claimed: set[str] = set()
            linked: dict[str, list[str]] = defaultdict(list)
            jobs = {pid: d["jobs"] for pid, d in projects.items()}
            for index, data in rows:
                try:
                    doc = self._visible_project(principal, projects.get(data.project_id))
                    status = ProjectStatus(doc["status"])
                    if status not in LINKABLE:
                        raise Conflict(
                            f"项目当前状态为“{status_label(status)}”,不能再关联就业",
                            field="status",
                            current=status.value,
                        )
                    spell = spells.get(data.spell_id)
                    if spell is None:
                        raise NotFound("就业记录不存在或尚未同步到项目台账", field="spell_id")
                    if not spell["open"]:
                        raise Conflict("该就业记录已结束,不能计入带动就业", field="spell_id")
                    if spell.get("project_id") or data.spell_id in claimed:
                        raise Conflict(
                            "该就业记录已计入项目带动就业",
                            field="spell_id",
                            project_id=spell.get("project_id") or data.project_id,
                        )
                    if spell.get("community_code") not in doc["community_codes"]:
                        raise InvalidInput("该就业人员不在项目服务的安置社区内", field="spell_id")
                except DomainError as err:
                    outcome.reject(index, err)
                    continue
                claimed.add(data.spell_id)
                linked[data.project_id].append(data.spell_id)
                jobs[data.project_id] += 1
                tx.record(
                    JobLinked(
                        project_id=data.project_id,
                        kind=doc["kind"],
                        chain=doc.get("chain"),
                        source_kinds=doc["source_kinds"],
                        spell_id=data.spell_id,
                        resident_id=spell["resident_id"],
                        household_id=spell["household_id"],
                        community_code=spell["community_code"],
                        jobs=jobs[data.project_id],
                    ),
                    area_path=spell["area_path"],
                    aggregate_id=data.project_id,
                )
                outcome.accept(index, data.spell_id)
            now = self.clock()
            links = {
                pid: (
                    ids,
                    {
                        "project_id": pid,
                        "project_kind": projects[pid]["kind"],
                        "project_chain": projects[pid].get("chain"),
                        "project_source_kinds": projects[pid]["source_kinds"],
                        "linked_at": now,
                    },
                )
                for pid, ids in linked.items()
            }
            if await self.repo.link_spells(links, tx.session) != sum(len(ids) for ids in linked.values()):
                raise Conflict("就业记录已被他人修改,请刷新后重试", field="spell_id")
            ok = await self.repo.guarded_updates(
                {pid: {"$inc": {"jobs": len(ids)}} for pid, ids in linked.items()},
                statuses=[s.value for s in LINKABLE],
                session=tx.session,
            )
            if not ok:
                raise Conflict("项目状态已被他人修改,请刷新后重试", field="status")
            return outcome

        return await self.uow.run(work, correlation_id=correlation_id)

    async def unlink_job(
        self, *, principal: Principal, project_id: str, spell_id: str, correlation_id: str | None = None
    ) -> Project:
        principal.require(Action.PROJECTS_WRITE)

        async def work(tx: Tx) -> None:
            doc = self._visible_project(principal, await self.repo.get_project(project_id, tx.session))
            spell = await self.repo.get_spell(spell_id, tx.session)
            if spell is None or spell.get("project_id") != project_id:
                raise NotFound("该项目没有关联此就业记录", field="spell_id")
            if not spell["open"]:
                raise Conflict("该就业记录已结束,已不计入带动就业", field="spell_id")
            if not await self.repo.unlink_spell(spell_id, project_id, tx.session):
                raise Conflict("就业记录已被他人修改,请刷新后重试", field="spell_id")
            await self._job_gone(tx, doc, spell, reason=END_UNLINKED)

        await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_project(principal=principal, project_id=project_id)

    async def _job_gone(self, tx: Tx, project: Doc, spell: Doc, *, reason: str) -> None:
        await self.repo.update_project(project["_id"], {"$inc": {"jobs": -1}}, tx.session)
        tx.record(
            JobUnlinked(
                project_id=project["_id"],
                kind=project["kind"],
                chain=project.get("chain"),
                source_kinds=project["source_kinds"],
                spell_id=spell["_id"],
                resident_id=spell["resident_id"],
                household_id=spell["household_id"],
                community_code=spell["community_code"],
                reason=reason,
                jobs=max(0, project["jobs"] - 1),
            ),
            area_path=spell["area_path"],
            aggregate_id=project["_id"],
        )

    async def project_jobs(
        self, *, principal: Principal, project_id: str, open_only: bool, limit: int
    ) -> list[LinkedJob]:
        self._visible_project(principal, await self.repo.get_project(project_id))
        return [
            LinkedJob.from_doc(d) for d in await self.repo.project_spells(project_id, open_only=open_only, limit=limit)
        ]

    # copies kept from other services' events ------------------------------------
    @staticmethod
    def _spell_doc(
        env: Envelope, p: WorkerEmployed | EmploymentEnded, *, open_: bool = True, ended_on: date | None = None
    ) -> Doc:
        return {
            "_id": p.spell_id,
            "resident_id": p.resident_id,
            "household_id": p.household_id,
            "area_path": list(env.area_path),
            "community_code": community_of(env.area_path),
            "employment_type": p.employment_type.value,
            "started_on": p.started_on.isoformat(),
            "open": open_,
            "ended_on": ended_on.isoformat() if ended_on else None,
            "project_id": None,
            "project_kind": None,
            "project_chain": None,
            "project_source_kinds": [],
            "linked_at": None,
        }

    async def on_worker_employed(self, tx: Tx, env: Envelope, p: WorkerEmployed) -> None:
        if await self.repo.get_spell(p.spell_id, tx.session) is None:
            await self.repo.insert_spells([self._spell_doc(env, p)], tx.session)

    async def on_employment_ended(self, tx: Tx, env: Envelope, p: EmploymentEnded) -> None:
        spell = await self.repo.get_spell(p.spell_id, tx.session)
        if spell is None:  # started before this service kept spells: keep it, closed
            await self.repo.insert_spells([self._spell_doc(env, p, open_=False, ended_on=p.ended_on)], tx.session)
            return
        if not spell["open"]:
            return
        await self.repo.close_spell(p.spell_id, ended_on=p.ended_on.isoformat(), session=tx.session)
        if spell.get("project_id"):
            project = await self.repo.get_project(spell["project_id"], tx.session)
            if project is not None:
                await self._job_gone(tx, project, spell, reason=END_EMPLOYMENT_ENDED)

    async def on_household_registered(self, tx: Tx, env: Envelope, p: HouseholdRegistered) -> None:
        await self.repo.upsert_household(
            {
                "_id": p.household_id,
                "community_code": p.community_code,
                "area_path": list(env.area_path),
                "kind": p.kind.value,
            },
            tx.session,
        )

    async def import_spells(self, *, events: list[tuple[Envelope, WorkerEmployed]]) -> int:
        """Fold many worker-employed events at once (a replay of the employment topic, or demo
        data): the same effect as `on_worker_employed` for each, in one transaction per chunk."""
        inserted = 0
        for start in range(0, len(events), self.batch_max):
            part = events[start : start + self.batch_max]

            async def work(tx: Tx, part: list[tuple[Envelope, WorkerEmployed]] = part) -> int:
                known = await self.repo.get_spells({p.spell_id for _, p in part}, tx.session)
                docs = {p.spell_id: self._spell_doc(env, p) for env, p in part if p.spell_id not in known}
                await self.repo.insert_spells(list(docs.values()), tx.session)
                return len(docs)

            inserted += await self.uow.run(work)
        return inserted

    async def import_households(self, *, events: list[tuple[Envelope, HouseholdRegistered]]) -> None:
        """Fold many household-registered events at once (replay or demo data)."""
        for start in range(0, len(events), self.batch_max):
            part = events[start : start + self.batch_max]

            async def work(tx: Tx, part: list[tuple[Envelope, HouseholdRegistered]] = part) -> None:
                for env, p in part:
                    await self.on_household_registered(tx, env, p)

            await self.uow.run(work)

    # queries -----------------------------------------------------------------------
    async def get_project(self, *, principal: Principal, project_id: str) -> Project:
        doc = self._visible_project(principal, await self.repo.get_project(project_id))
        return Project.from_docs(doc, await self.repo.project_allocations(project_id))

    async def list_projects(
        self,
        *,
        principal: Principal,
        area: str,
        status: ProjectStatus | None,
        chain: str | None,
        after: str | None,
        limit: int,
    ) -> list[Project]:
        principal.require_area(_area_path_of(area), field="area")
        docs = await self.repo.list_projects(
            area=area, status=status.value if status else None, chain=chain, after=after, limit=limit
        )
        allocations: dict[str, list[Doc]] = defaultdict(list)
        for a in await self.repo.allocations_of([d["_id"] for d in docs], None):
            allocations[a["project_id"]].append(a)
        return [Project.from_docs(d, allocations[d["_id"]]) for d in docs]

    async def summary(self, *, principal: Principal, area: str) -> Summary:
        """Every figure recomputed from the records of the area: projects and allocations from
        their collections, money paid from the ledger (net of reversals), households benefiting
        from the household dividends; jobs are the projects' counts of open linked spells.
        Projects, money and jobs are placed at the project's area, dividends and collective
        income at the community or household that received them."""
        path = _area_path_of(area)
        principal.require_area(path, field="area")
        projects = await self.repo.project_rows(area)
        allocations = await self.repo.allocation_totals(area)
        budgets = await self.repo.budget_totals(area)
        ledger = (await self.repo.ledger_totals(area))[0]
        households_total, households_by_kind = await self.repo.households_benefiting(area)

        kinds = [k.value for k in SourceKind]
        figures: dict[str, dict[str, int]] = {k: defaultdict(int) for k in [*kinds, "total"]}
        by_status: dict[str, int] = {s.value: 0 for s in ProjectStatus}
        by_chain: dict[str, int] = defaultdict(int)
        for p in projects:
            by_status[p["status"]] += 1
            for k in [*p["source_kinds"], "total"]:  # people hired by a cancelled project still work
                figures[k]["jobs"] += p["jobs"]
            if p["status"] == ProjectStatus.CANCELLED.value:
                continue
            by_chain[p.get("chain") or "none"] += 1
            for k in [*p["source_kinds"], "total"]:
                f = figures[k]
                f["projects"] += 1
                f["industry_projects"] += int(p["kind"] == ProjectKind.INDUSTRY.value)
                f["demonstration_projects"] += int(bool(p["provincial_demonstration"]))
        for r in allocations:
            allocated = r["amount"] - r["released"]
            for k in (r["_id"]["source_kind"], "total"):
                figures[k]["allocated"] += allocated
                if r["_id"].get("industry"):
                    figures[k]["industry_allocated"] += allocated
        for r in budgets:
            figures[r["_id"]]["budget"] += r["fen"]
            figures["total"]["budget"] += r["fen"]
        fields = {
            PaymentKind.DISBURSEMENT.value: "disbursed",
            PaymentKind.DIVIDEND.value: "dividends_paid",
            PaymentKind.COLLECTIVE_INCOME.value: "collective_income",
            PaymentKind.COLLECTIVE_ASSET.value: "collective_assets",
        }
        for r in ledger["total"]:
            figures["total"][fields[r["_id"]]] += r["fen"]
        for r in ledger["by_source_kind"]:
            figures[r["_id"]["source_kind"]][fields[r["_id"]["kind"]]] += r["fen"]
        for k, n in households_by_kind.items():
            figures[k]["households_benefiting"] = n
        figures["total"]["households_benefiting"] = households_total

        return Summary(
            area=area,
            area_path=list(path),
            by_source_kind=[
                SourceKindFigures(
                    source_kind=SourceKind(k), label=SOURCE_KIND_LABELS[SourceKind(k)], **_figures(figures[k])
                )
                for k in kinds
            ],
            total=Figures(**_figures(figures["total"])),
            projects_by_status=by_status,
            projects_by_chain=dict(by_chain),
        )


MONEY_FIGURES = (
    "budget",
    "allocated",
    "industry_allocated",
    "disbursed",
    "dividends_paid",
    "collective_income",
    "collective_assets",
)
COUNT_FIGURES = ("projects", "industry_projects", "demonstration_projects", "jobs", "households_benefiting")


def _figures(values: dict[str, int]) -> dict[str, Any]:
    return {
        **{k: Money.of(values.get(k, 0)) for k in MONEY_FIGURES},
        **{k: values.get(k, 0) for k in COUNT_FIGURES},
    }
