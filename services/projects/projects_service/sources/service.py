"""Use cases of funding sources and their yearly budgets."""

from __future__ import annotations

from projects_service.rules import area_path_of, clean_text
from projects_service.sources.domain import (
    Budget,
    Source,
    budget_id,
    check_budget_change,
    check_budget_year,
    check_budget_years,
    source_visible,
)
from projects_service.sources.models import BudgetSet, FundingSource, FundingSourceIn
from projects_service.sources.repository import SourcesStore
from relocation_shared.auth import Action
from relocation_shared.clock import Clock
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, NotFound
from relocation_shared.events.projects import FundingSourceRegistered, SourceBudgetSet, SourceKind
from relocation_shared.idempotency import run_once
from relocation_shared.ids import new_id
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork


class SourcesService:
    def __init__(self, *, uow: UnitOfWork, sources: SourcesStore, clock: Clock) -> None:
        self.uow = uow
        self.sources = sources
        self.clock = clock

    async def register_source(self, *, ctx: Context, data: FundingSourceIn) -> FundingSource:
        ctx.principal.require(Action.PROJECTS_WRITE)
        path = list(area_path_of(data.area_code, "area_code"))
        ctx.principal.require_area(path, field="area_code")
        check_budget_years([b.year for b in data.budgets])

        async def work(tx: Tx) -> str:
            return await self._register(tx, ctx, data, path)

        sid = await run_once(
            self.uow, ctx=ctx, scope="funding-sources.create", request=data, result_model=str, body=work
        )
        return await self.get_source(ctx=ctx, source_id=sid)

    async def _register(self, tx: Tx, ctx: Context, data: FundingSourceIn, path: list[str]) -> str:
        sid = new_id()
        name = clean_text(data.name) or ""
        source = Source(
            id=sid,
            kind=data.kind,
            name=name,
            area_code=data.area_code,
            area_path=path,
            created_at=tx.now,
            created_by=ctx.principal.subject,
        )
        await self.sources.insert_source(source, tx.session)
        tx.record(
            FundingSourceRegistered(source_id=sid, source_kind=data.kind, name=name, area_code=data.area_code),
            area_path=path,
            aggregate_id=sid,
        )
        budgets = [Budget(sid, data.kind, b.year, b.amount_fen, path) for b in data.budgets]
        for b in budgets:
            tx.record(
                SourceBudgetSet(
                    source_id=sid, source_kind=data.kind, year=b.year, budget_fen=b.amount_fen, delta_fen=b.amount_fen
                ),
                area_path=path,
                aggregate_id=sid,
            )
        await self.sources.insert_budgets(budgets, tx.session)
        return sid

    async def set_budget(self, *, ctx: Context, source_id: str, year: int, data: BudgetSet) -> FundingSource:
        ctx.principal.require(Action.PROJECTS_WRITE)
        check_budget_year(year)

        async def work(tx: Tx) -> None:
            await self._set_budget(tx, ctx, source_id, year, data.amount_fen)

        await self.uow.run(work, correlation_id=ctx.correlation_id)
        return await self.get_source(ctx=ctx, source_id=source_id)

    async def _set_budget(self, tx: Tx, ctx: Context, source_id: str, year: int, amount: int) -> None:
        source = await self._visible(ctx, await self.sources.get_source(source_id, tx.session))
        ctx.principal.require_area(source["area_path"], field="source_id")
        kind = SourceKind(source["kind"])
        bid = budget_id(source_id, year)
        current = await self.sources.get_budget(bid, tx.session)
        if current is None:
            await self.sources.insert_budgets([Budget(source_id, kind, year, amount, source["area_path"])], tx.session)
            delta = amount
        else:
            check_budget_change(new_budget=amount, disbursed=current["disbursed_fen"])
            delta = amount - current["budget_fen"]
            if delta == 0:
                return
            ok = await self.sources.set_budget(
                bid, old_budget=current["budget_fen"], new_budget=amount, session=tx.session
            )
            if not ok:
                raise Conflict("预算已被他人修改,请刷新后重试", field="amount_fen")
        tx.record(
            SourceBudgetSet(source_id=source_id, source_kind=kind, year=year, budget_fen=amount, delta_fen=delta),
            area_path=source["area_path"],
            aggregate_id=source_id,
        )

    @staticmethod
    async def _visible(ctx: Context, doc: Doc | None) -> Doc:
        if doc is None or not source_visible(ctx.principal, doc):
            raise NotFound("资金来源不存在", field="source_id")
        return doc

    async def get_source(self, *, ctx: Context, source_id: str) -> FundingSource:
        doc = await self._visible(ctx, await self.sources.get_source(source_id))
        return FundingSource.from_docs(doc, await self.sources.source_budgets(source_id))

    async def list_sources(self, *, ctx: Context) -> list[FundingSource]:
        out = []
        for doc in await self.sources.list_sources():
            if source_visible(ctx.principal, doc):
                out.append(FundingSource.from_docs(doc, await self.sources.source_budgets(doc["_id"])))
        return out
