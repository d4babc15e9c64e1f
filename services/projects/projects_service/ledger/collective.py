"""Use cases of a community's collective economy (社区集体经济): income received and assets
recorded, each a ledger entry at the community, optionally from one of its projects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

from projects_service.ledger.domain import Entry, project_entry
from projects_service.ledger.models import CollectiveAssetIn, CollectiveIncomeIn, LedgerEntry
from projects_service.ledger.service import LedgerUseCases, read_entry
from projects_service.projects.domain import community_path, visible_project
from projects_service.rules import clean_text, not_future
from relocation_shared.auth import Action
from relocation_shared.clock import business_today
from relocation_shared.context import Context
from relocation_shared.errors import InvalidInput
from relocation_shared.events.projects import CollectiveAssetRecorded, CollectiveIncomeRecorded, PaymentKind
from relocation_shared.idempotency import run_once
from relocation_shared.ids import new_id
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx


@dataclass(frozen=True)
class CollectiveRecord:
    """Income or an asset of a community's collective, as the two requests have it."""

    community_code: str
    kind: PaymentKind
    amount: int
    year: int
    on: date
    on_field: str
    project_id: str | None
    memo: str | None


def checked_community(code: str) -> list[str]:
    try:
        return list(community_path(code))
    except ValueError as exc:
        raise InvalidInput(str(exc), field="community_code") from exc


class CollectiveService(LedgerUseCases):
    async def record_collective_income(
        self, *, ctx: Context, community_code: str, data: CollectiveIncomeIn
    ) -> LedgerEntry:
        if data.year > data.received_on.year:
            raise InvalidInput("收入年度不能晚于到账日期所在年度", field="year")
        record = CollectiveRecord(
            community_code=community_code,
            kind=PaymentKind.COLLECTIVE_INCOME,
            amount=data.amount_fen,
            year=data.year,
            on=data.received_on,
            on_field="received_on",
            project_id=data.project_id,
            memo=data.memo,
        )
        return await self._collective(ctx, record)

    async def record_collective_asset(
        self, *, ctx: Context, community_code: str, data: CollectiveAssetIn
    ) -> LedgerEntry:
        record = CollectiveRecord(
            community_code=community_code,
            kind=PaymentKind.COLLECTIVE_ASSET,
            amount=data.amount_fen,
            year=data.recorded_on.year,
            on=data.recorded_on,
            on_field="recorded_on",
            project_id=data.project_id,
            memo=data.description,
        )
        return await self._collective(ctx, record)

    async def _collective(self, ctx: Context, record: CollectiveRecord) -> LedgerEntry:
        ctx.principal.require(Action.COLLECTIVE_WRITE)
        path = checked_community(record.community_code)
        ctx.principal.require_area(path, field="community_code")
        not_future(record.on, record.on_field, "日期", today=business_today(self.clock))
        work = partial(self._record, ctx, record, path)
        scope = f"{record.kind.value}.create"
        eid = await run_once(self.uow, ctx=ctx, scope=scope, request=record, result_model=str, body=work)
        return await read_entry(self.ledger, ctx, eid)

    async def _record(self, ctx: Context, record: CollectiveRecord, path: list[str], tx: Tx) -> str:
        project: Doc | None = None
        if record.project_id:
            project = visible_project(ctx.principal, await self.projects.get_project(record.project_id, tx.session))
            if record.community_code not in project["community_codes"]:
                raise InvalidInput("该社区不在此项目服务的安置社区范围内", field="project_id")
        entry = project_entry(
            project,
            Entry(
                id=new_id(),
                kind=record.kind,
                amount_fen=record.amount,
                year=record.year,
                community_code=record.community_code,
                occurred_on=record.on,
                memo=clean_text(record.memo),
                area_path=path,
                aggregate_id=record.community_code,
                recorded_at=tx.now,
                recorded_by=ctx.principal.subject,
            ),
        )
        await self.ledger.append([entry], tx.session)
        self._record_event(tx, entry)
        return entry.id

    @staticmethod
    def _record_event(tx: Tx, e: Entry) -> None:
        code = e.community_code or ""
        common = {
            "entry_id": e.id,
            "community_code": code,
            "project_id": e.project_id,
            "chain": e.chain,
            "source_kinds": list(e.source_kinds or []),
            "amount_fen": e.amount_fen,
        }
        if e.kind is PaymentKind.COLLECTIVE_INCOME:
            event: CollectiveIncomeRecorded | CollectiveAssetRecorded = CollectiveIncomeRecorded(
                **common, year=e.year or e.occurred_on.year, received_on=e.occurred_on
            )
        else:
            event = CollectiveAssetRecorded(**common, recorded_on=e.occurred_on, description=e.memo or "")
        tx.record(event, area_path=e.area_path, aggregate_id=code)
