"""Use cases of payments from projects: disbursements (拨付) against allocations and budgets, and
dividends (分红) to community collectives and households, one row or a batch; and reading the
ledger. Every entry is made by `ledger.domain.project_entry`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from projects_service.jobs.repository import JobsStore
from projects_service.ledger.domain import (
    Balance,
    Entry,
    benefit_delta,
    check_disbursable,
    check_disbursement,
    check_dividend_allowed,
    check_payment_dates,
    collective_recipient,
    household_recipient,
    project_entry,
)
from projects_service.ledger.models import DisbursementIn, DisbursementRow, DividendIn, DividendRow, LedgerEntry
from projects_service.ledger.repository import LedgerStore
from projects_service.projects.domain import DISBURSABLE, allocation_id, community_path, visible_project
from projects_service.projects.repository import ProjectsStore
from projects_service.rules import area_path_of, clean_text, not_future
from projects_service.sources.domain import budget_id
from projects_service.sources.repository import SourcesStore
from relocation_shared.auth import Action
from relocation_shared.batch import BatchResult, Outcome
from relocation_shared.clock import Clock, business_today
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, DomainError, InvalidInput, NotFound
from relocation_shared.events.projects import DividendPaid, FundsDisbursed, PaymentKind, ProjectStatus, Recipient
from relocation_shared.idempotency import apply_many_once, apply_one_once
from relocation_shared.ids import new_id
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork


async def read_entry(ledger: LedgerStore, ctx: Context, entry_id: str) -> LedgerEntry:
    doc = await ledger.get_entry(entry_id)
    if doc is None:
        raise NotFound("记录不存在", field="entry_id")
    ctx.principal.require_visible(doc["area_path"], "记录")
    return LedgerEntry.from_doc(doc)


@dataclass
class Draws:
    """What a batch of disbursements reads and draws: allocations and budgets, by id."""

    allocations: dict[str, Doc]
    budgets: dict[str, Doc]
    alloc_balance: dict[str, Balance] = field(init=False)
    budget_balance: dict[str, Balance] = field(init=False)

    def __post_init__(self) -> None:
        self.alloc_balance = {k: Balance(k, d["remaining_fen"]) for k, d in self.allocations.items()}
        self.budget_balance = {k: Balance(k, d["remaining_fen"]) for k, d in self.budgets.items()}

    @staticmethod
    def drawn(balances: dict[str, Balance]) -> dict[str, int]:
        return {k: b.drawn for k, b in balances.items() if b.drawn}


@dataclass
class DividendBatch:
    """What a batch of dividends changes besides the ledger: projects' totals, households' counts."""

    households: dict[str, Doc]
    counts: dict[str, int] = field(init=False)
    paid: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    household_changes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self.counts = {hid: h.get("dividends", 0) for hid, h in self.households.items()}

    def to_household(self, household_id: str) -> int:
        before = self.counts[household_id]
        self.counts[household_id] = before + 1
        self.household_changes[household_id] += 1
        return benefit_delta(before, 1)


class LedgerUseCases:
    """What the ledger's use cases work with: the ledger, and the balances a payment moves."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        ledger: LedgerStore,
        projects: ProjectsStore,
        sources: SourcesStore,
        jobs: JobsStore,
        clock: Clock,
        batch_max: int = 500,
    ) -> None:
        self.uow = uow
        self.ledger = ledger
        self.projects = projects
        self.sources = sources
        self.jobs = jobs
        self.clock = clock
        self.batch_max = batch_max


class LedgerService(LedgerUseCases):
    async def get_entry(self, *, ctx: Context, entry_id: str) -> LedgerEntry:
        return await read_entry(self.ledger, ctx, entry_id)

    async def list_entries(
        self, *, ctx: Context, project_id: str | None, community_code: str | None, limit: int
    ) -> list[LedgerEntry]:
        if project_id:
            visible_project(ctx.principal, await self.projects.get_project(project_id))
        if community_code:
            ctx.principal.require_area(area_path_of(community_code, "community_code"), field="community_code")
        if not project_id and not community_code:
            raise InvalidInput("请指定项目或社区", field="project_id")
        docs = await self.ledger.list_entries(project_id=project_id, community_code=community_code, limit=limit)
        return [LedgerEntry.from_doc(d) for d in docs]

    # disbursements -----------------------------------------------------------------------------
    async def disburse(self, *, ctx: Context, project_id: str, data: DisbursementIn) -> LedgerEntry:
        ctx.principal.require(Action.PROJECTS_WRITE)
        row = DisbursementRow(project_id=project_id, **data.model_dump())
        apply = partial(self._disburse_rows, ctx)
        eid = await apply_one_once(self.uow, ctx=ctx, scope="disbursements.create", data=row, apply=apply)
        return await self.get_entry(ctx=ctx, entry_id=eid)

    async def disburse_batch(self, *, ctx: Context, rows: list[dict[str, Any]]) -> BatchResult:
        ctx.principal.require(Action.PROJECTS_WRITE)
        apply = partial(self._disburse_rows, ctx)
        return await apply_many_once(
            self.uow,
            ctx=ctx,
            scope="disbursements.batch",
            rows=rows,
            model=DisbursementRow,
            apply=apply,
            max_items=self.batch_max,
        )

    async def _disburse_rows(self, ctx: Context, rows: list[tuple[int, DisbursementRow]], tx: Tx) -> Outcome:
        outcome = Outcome()
        projects = await self.projects.get_projects({r.project_id for _, r in rows}, tx.session)
        draws = Draws(
            allocations=await self.projects.get_allocations(
                {allocation_id(r.project_id, r.source_id, r.year) for _, r in rows}, tx.session
            ),
            budgets=await self.sources.get_budgets({budget_id(r.source_id, r.year) for _, r in rows}, tx.session),
        )
        entries: list[Entry] = []
        for index, data in rows:
            try:
                doc = visible_project(ctx.principal, projects.get(data.project_id))
                self._check_disbursement(data, doc, draws)
            except DomainError as err:
                outcome.reject(index, err)
                continue
            entries.append(self._disbursed(tx, ctx, data, doc, draws))
            outcome.accept(index, entries[-1].id)
        if not await self.projects.draw_allocations(draws.drawn(draws.alloc_balance), tx.session):
            raise Conflict("项目资金余额已被他人使用,请刷新后重试", field="amount_fen")
        if not await self.sources.draw_budgets(draws.drawn(draws.budget_balance), tx.session):
            raise Conflict("资金来源预算余额已被他人使用,请刷新后重试", field="amount_fen")
        await self.ledger.append(entries, tx.session)
        return outcome

    def _check_disbursement(self, data: DisbursementRow, doc: Doc, draws: Draws) -> None:
        aid = allocation_id(data.project_id, data.source_id, data.year)
        bid = budget_id(data.source_id, data.year)
        check_disbursable(ProjectStatus(doc["status"]), DISBURSABLE)
        if aid not in draws.allocations:
            raise InvalidInput("该项目没有安排此资金来源该年度的资金", field="source_id")
        if bid not in draws.budgets:
            raise Conflict("该资金来源尚未设置该年度预算", field="year")
        not_future(data.disbursed_on, "disbursed_on", "拨付日期", today=business_today(self.clock))
        check_payment_dates(data.disbursed_on, doc, field="disbursed_on", what="拨付日期")
        check_disbursement(
            amount=data.amount_fen, allocation=draws.alloc_balance[aid], budget=draws.budget_balance[bid]
        )

    @staticmethod
    def _disbursed(tx: Tx, ctx: Context, data: DisbursementRow, doc: Doc, draws: Draws) -> Entry:
        aid = allocation_id(data.project_id, data.source_id, data.year)
        kind = draws.allocations[aid]["source_kind"]
        entry = project_entry(
            doc,
            Entry(
                id=new_id(),
                kind=PaymentKind.DISBURSEMENT,
                amount_fen=data.amount_fen,
                source_id=data.source_id,
                source_kind=kind,
                source_kinds=[kind],
                year=data.year,
                occurred_on=data.disbursed_on,
                memo=clean_text(data.memo),
                area_path=doc["area_path"],
                aggregate_id=data.project_id,
                recorded_at=tx.now,
                recorded_by=ctx.principal.subject,
            ),
        )
        tx.record(
            FundsDisbursed(
                entry_id=entry.id,
                project_id=data.project_id,
                kind=doc["kind"],
                chain=doc.get("chain"),
                source_id=data.source_id,
                source_kind=kind,
                year=data.year,
                amount_fen=data.amount_fen,
                disbursed_on=data.disbursed_on,
                allocation_remaining_fen=draws.alloc_balance[aid].remaining,
                budget_remaining_fen=draws.budget_balance[budget_id(data.source_id, data.year)].remaining,
            ),
            area_path=doc["area_path"],
            aggregate_id=data.project_id,
        )
        return entry

    # dividends ---------------------------------------------------------------------------------
    async def pay_dividend(self, *, ctx: Context, project_id: str, data: DividendIn) -> LedgerEntry:
        ctx.principal.require(Action.PROJECTS_WRITE)
        row = DividendRow(project_id=project_id, **data.model_dump())
        apply = partial(self._dividend_rows, ctx)
        eid = await apply_one_once(self.uow, ctx=ctx, scope="dividends.create", data=row, apply=apply)
        return await self.get_entry(ctx=ctx, entry_id=eid)

    async def pay_dividends_batch(self, *, ctx: Context, rows: list[dict[str, Any]]) -> BatchResult:
        ctx.principal.require(Action.PROJECTS_WRITE)
        apply = partial(self._dividend_rows, ctx)
        return await apply_many_once(
            self.uow,
            ctx=ctx,
            scope="dividends.batch",
            rows=rows,
            model=DividendRow,
            apply=apply,
            max_items=self.batch_max,
        )

    async def _dividend_rows(self, ctx: Context, rows: list[tuple[int, DividendRow]], tx: Tx) -> Outcome:
        outcome = Outcome()
        projects = await self.projects.get_projects({r.project_id for _, r in rows}, tx.session)
        batch = DividendBatch(
            await self.jobs.get_households(
                {r.household_id for _, r in rows if r.household_id and r.recipient is Recipient.HOUSEHOLD}, tx.session
            )
        )
        entries: list[Entry] = []
        for index, data in rows:
            try:
                doc = visible_project(ctx.principal, projects.get(data.project_id))
                community, area_path = self._check_dividend(data, doc, batch.households)
            except DomainError as err:
                outcome.reject(index, err)
                continue
            entries.append(self._dividend_paid(tx, ctx, data, doc, batch, community, area_path))
            outcome.accept(index, entries[-1].id)
        ok = await self.projects.add_dividends(
            dict(batch.paid), statuses=[ProjectStatus.OPERATING.value], session=tx.session
        )
        if not ok:
            raise Conflict("项目状态已变更,不能分红,请刷新后重试", field="status")
        if not await self.jobs.add_household_dividends(dict(batch.household_changes), tx.session):
            raise Conflict("搬迁户信息已变更,请重试", field="household_id")
        await self.ledger.append(entries, tx.session)
        return outcome

    def _check_dividend(self, data: DividendRow, doc: Doc, households: dict[str, Doc]) -> tuple[str, list[str]]:
        """The rules of a dividend; returns the community it goes to and the area path to record it at."""
        check_dividend_allowed(ProjectStatus(doc["status"]))
        not_future(data.paid_on, "paid_on", "分红日期", today=business_today(self.clock))
        check_payment_dates(data.paid_on, doc, field="paid_on", what="分红日期")
        if data.year > data.paid_on.year:
            raise InvalidInput("分红年度不能晚于支付日期所在年度", field="year")
        if data.recipient is Recipient.COLLECTIVE:
            community = collective_recipient(data.community_code, data.household_id, doc)
            return community, list(community_path(community))
        if not data.household_id:
            raise InvalidInput("分红到户须填写户编号", field="household_id")
        household = households.get(data.household_id)
        household_recipient(data.community_code, household, doc)
        assert household is not None
        return household["community_code"], household["area_path"]

    @staticmethod
    def _dividend_paid(
        tx: Tx, ctx: Context, data: DividendRow, doc: Doc, batch: DividendBatch, community: str, area_path: list[str]
    ) -> Entry:
        to_household = data.recipient is Recipient.HOUSEHOLD
        household_id = data.household_id if to_household else None
        delta = batch.to_household(household_id) if household_id else 0
        batch.paid[data.project_id] += data.amount_fen
        entry = project_entry(
            doc,
            Entry(
                id=new_id(),
                kind=PaymentKind.DIVIDEND,
                amount_fen=data.amount_fen,
                year=data.year,
                recipient=data.recipient,
                community_code=community,
                household_id=household_id,
                occurred_on=data.paid_on,
                memo=clean_text(data.memo),
                area_path=area_path,
                aggregate_id=data.project_id,
                recorded_at=tx.now,
                recorded_by=ctx.principal.subject,
            ),
        )
        tx.record(
            DividendPaid(
                entry_id=entry.id,
                project_id=data.project_id,
                kind=doc["kind"],
                chain=doc.get("chain"),
                source_kinds=doc["source_kinds"],
                recipient=data.recipient,
                community_code=community,
                household_id=household_id,
                amount_fen=data.amount_fen,
                year=data.year,
                paid_on=data.paid_on,
                households_benefiting_delta=delta,
            ),
            area_path=area_path,
            aggregate_id=data.project_id,
        )
        return entry
