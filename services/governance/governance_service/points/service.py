"""Use cases of the points supermarket (积分超市): awarded by a cadre for a civic act, redeemed
for goods. Two concurrent redemptions cannot spend the same points (the repository's guarded
debit); every award and redemption is a ledger entry; a `request_key` makes a retried call
change nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from governance_service.points.domain import EntryKind, LedgerEntry, check_replay, points_entry_id, refuse_redemption
from governance_service.points.models import AwardIn, PointsAccount, PointsEntry, RedeemIn
from governance_service.points.repository import PointsStore
from governance_service.registry.repository import RegistryStore
from governance_service.staff.domain import Actor, actor_of
from governance_service.staff.scope import Body, household_in_scope
from relocation_shared.auth import Action, Principal
from relocation_shared.clock import Clock, business_day
from relocation_shared.context import Context
from relocation_shared.errors import NotFound
from relocation_shared.idempotency import responding, run_once
from relocation_shared.ids import new_id
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork


@dataclass(kw_only=True, eq=False)
class PointsService:
    uow: UnitOfWork
    points: PointsStore
    registry: RegistryStore
    ledger_page: int = 100
    clock: Clock

    async def _begin(
        self, principal: Principal, household_id: str, request_key: str | None, kind: EntryKind, tx: Tx
    ) -> tuple[Doc, str | None, LedgerEntry | None]:
        """The household (in the principal's areas), the entry id a request key gives, and the
        entry a retried call already made."""
        household = await household_in_scope(self.registry, principal, household_id, tx.session)
        keyed = points_entry_id(household_id, request_key)
        replay = check_replay(await self.points.get_entry(keyed, tx.session) if keyed else None, kind)
        return household, keyed, replay

    async def _book(self, tx: Tx, entry: LedgerEntry) -> LedgerEntry:
        """The ledger entry and its event, in the same transaction."""
        await self.points.insert_entry(entry, tx.session)
        tx.record(entry.event(), area_path=entry.area_path, aggregate_id=entry.household_id)
        return entry

    async def award(self, *, ctx: Context, data: AwardIn) -> PointsEntry:
        return await self._post(ctx, "points.award", data, partial(self._award, data))

    async def redeem(self, *, ctx: Context, data: RedeemIn) -> PointsEntry:
        return await self._post(ctx, "points.redeem", data, partial(self._redeem, data))

    async def _post(self, ctx: Context, scope: str, data: AwardIn | RedeemIn, body: Body[LedgerEntry]) -> PointsEntry:
        """An award or a redemption: one transaction, as the acting cadre, once per idempotency key."""
        ctx.principal.require(Action.POINTS_WRITE)
        actor = actor_of(ctx.principal, Action.POINTS_WRITE)
        work = responding(partial(body, ctx.principal, actor), PointsEntry.of)
        return await run_once(self.uow, ctx=ctx, scope=scope, request=data, result_model=PointsEntry, body=work)

    async def _award(self, data: AwardIn, principal: Principal, actor: Actor, tx: Tx) -> LedgerEntry:
        household, keyed, replay = await self._begin(principal, data.household_id, data.request_key, "award", tx)
        if replay is not None:
            return replay
        account = await self.points.credit(
            data.household_id, data.points, area_path=household["area_path"], session=tx.session
        )
        entry = _entry(keyed, household, actor, tx, kind="award", points=data.points, balance_after=account.balance)
        return await self._book(tx, replace(entry, category=data.category, reason=data.reason))

    async def _redeem(self, data: RedeemIn, principal: Principal, actor: Actor, tx: Tx) -> LedgerEntry:
        household, keyed, replay = await self._begin(principal, data.household_id, data.request_key, "redeem", tx)
        if replay is not None:
            return replay
        account = await self.points.debit(data.household_id, data.points, tx.session)
        if account is None:
            current = await self.points.balance(data.household_id, tx.session)
            raise refuse_redemption(current.balance if current else 0, data.points)
        entry = _entry(keyed, household, actor, tx, kind="redeem", points=-data.points, balance_after=account.balance)
        return await self._book(tx, replace(entry, goods=data.goods, quantity=data.quantity))

    async def account(self, *, ctx: Context, household_id: str) -> PointsAccount:
        household = await self.registry.get_household(household_id)
        if household is None:
            raise NotFound("该户不存在", field="household_id")
        ctx.principal.require_visible(household["area_path"], "该户")
        balance = await self.points.balance(household_id)
        entries = await self.points.entries(household_id, limit=self.ledger_page)
        return PointsAccount(
            household_id=household_id,
            balance=balance.balance if balance else 0,
            awarded_total=balance.awarded_total if balance else 0,
            redeemed_total=balance.redeemed_total if balance else 0,
            area_path=household["area_path"],
            entries=[PointsEntry.of(e) for e in entries],
        )


def _entry(
    keyed: str | None, household: Doc, actor: Actor, tx: Tx, *, kind: EntryKind, points: int, balance_after: int
) -> LedgerEntry:
    """A new ledger entry of the household, made now by the actor (its id the request key's, if
    one was given); the kind's own details are added by the caller."""
    return LedgerEntry(
        id=keyed or new_id(),
        household_id=household["_id"],
        kind=kind,
        points=points,
        balance_after=balance_after,
        on=business_day(tx.now),
        by=actor,
        at=tx.now,
        area_path=list(household["area_path"]),
    )
