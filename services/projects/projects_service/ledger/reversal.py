"""Reversal (冲正, red-letter correction): a payment is corrected by a compensating entry with
the negated amount, never edited, and only once. A reversed disbursement is undisbursed again
(released if the project was cancelled); a reversed dividend leaves the project's total and,
when it was the household's last, the households benefiting."""

from __future__ import annotations

from functools import partial

from projects_service.ledger.domain import (
    COLLECTIVE_KINDS,
    REVERSAL_SUFFIX,
    Entry,
    benefit_delta,
    check_reversible,
    reversal_of,
)
from projects_service.ledger.models import LedgerEntry, ReversalIn
from projects_service.ledger.repository import entry_from_doc
from projects_service.ledger.service import LedgerUseCases, read_entry
from projects_service.projects.domain import allocation_id
from projects_service.rules import clean_text
from projects_service.sources.domain import budget_id
from relocation_shared.auth import Action
from relocation_shared.clock import business_today
from relocation_shared.context import Context
from relocation_shared.errors import NotFound
from relocation_shared.events.projects import PaymentKind, PaymentReversed, ProjectStatus, Recipient
from relocation_shared.idempotency import run_once
from relocation_shared.outbox import Tx


class ReversalService(LedgerUseCases):
    async def reverse(self, *, ctx: Context, entry_id: str, data: ReversalIn) -> LedgerEntry:
        """Reverse a payment by a compensating entry (冲正); the original is never edited."""
        work = partial(self._reverse, ctx, entry_id, data)
        request = {"entry_id": entry_id, "body": data.model_dump(mode="json")}
        rid = await run_once(self.uow, ctx=ctx, scope="reversals.create", request=request, result_model=str, body=work)
        return await read_entry(self.ledger, ctx, rid)

    async def _reverse(self, ctx: Context, entry_id: str, data: ReversalIn, tx: Tx) -> str:
        doc = await self.ledger.get_entry(entry_id, tx.session)
        if doc is None or not ctx.principal.covers(doc["area_path"]):
            raise NotFound("记录不存在", field="entry_id")
        original = entry_from_doc(doc)
        ctx.principal.require(Action.COLLECTIVE_WRITE if original.kind in COLLECTIVE_KINDS else Action.PROJECTS_WRITE)
        already = await self.ledger.get_entry(entry_id + REVERSAL_SUFFIX, tx.session) is not None
        today = business_today(self.clock)
        on = data.reversed_on or today
        check_reversible(doc, already, on=on, today=today)
        delta = await self._undo_balances(tx, original)
        # A collective entry changes no balance: the reversal's id (the original's + "-R")
        # is what makes a second, concurrent reversal conflict and then be refused.
        reason = clean_text(data.reason) or ""
        reversal = reversal_of(original, on=on, reason=reason, at=tx.now, by=ctx.principal.subject)
        await self.ledger.append([reversal], tx.session)
        self._record(tx, original, reversal, delta)
        return reversal.id

    async def _undo_balances(self, tx: Tx, original: Entry) -> int:
        """Give back what the payment drew; returns the change of households benefiting."""
        amount = original.amount_fen
        if original.kind is PaymentKind.DISBURSEMENT:
            assert original.project_id and original.source_id and original.year is not None
            project = await self.projects.get_project(original.project_id, tx.session)
            assert project is not None
            cancelled = project["status"] == ProjectStatus.CANCELLED.value
            aid = allocation_id(original.project_id, original.source_id, original.year)
            await self.projects.give_back_allocation(aid, amount, released=cancelled, session=tx.session)
            bid = budget_id(original.source_id, original.year)
            await self.sources.give_back_budget(bid, amount, tx.session)
            if cancelled:  # released with the project's other undisbursed money: allocatable again
                await self.sources.release_budgets({bid: amount}, tx.session)
        elif original.kind is PaymentKind.DIVIDEND:
            assert original.project_id
            await self.projects.add_dividends({original.project_id: -amount}, statuses=None, session=tx.session)
            if original.recipient is Recipient.HOUSEHOLD and original.household_id:
                household = await self.jobs.get_household(original.household_id, tx.session)
                assert household is not None
                delta = benefit_delta(household.get("dividends", 0), -1)
                await self.jobs.add_household_dividends({original.household_id: -1}, tx.session)
                return delta
        return 0

    @staticmethod
    def _record(tx: Tx, original: Entry, reversal: Entry, delta: int) -> None:
        tx.record(
            PaymentReversed(
                entry_id=reversal.id,
                reverses=original.id,
                payment_kind=original.kind,
                amount_fen=original.amount_fen,
                project_id=original.project_id,
                kind=original.project_kind,
                chain=original.chain,
                source_id=original.source_id,
                source_kind=original.source_kind,
                source_kinds=list(original.source_kinds or []),
                year=original.year,
                recipient=original.recipient,
                community_code=original.community_code,
                household_id=original.household_id,
                reason=reversal.memo or "",
                reversed_on=reversal.occurred_on,
                households_benefiting_delta=delta,
            ),
            area_path=original.area_path,
            aggregate_id=original.aggregate_id,
        )
