"""A household's points: the ledger entries (award / redeem), the idempotency key of a retried
call, and the rule that a redemption beyond the balance is refused. The balance itself is taken
by a conditional update in the repository, so it never goes negative. Pure, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from governance_service.staff.domain import Actor
from relocation_shared.errors import Conflict
from relocation_shared.events.community import PointsAwarded, PointsCategory, PointsRedeemed

EntryKind = Literal["award", "redeem"]


def points_entry_id(household_id: str, request_key: str | None) -> str | None:
    """The entry id a `request_key` gives: the same key of the same household is one entry."""
    if request_key is None:
        return None
    return "pts-" + hashlib.sha256(f"{household_id}|{request_key}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class PointsBalance:
    household_id: str
    balance: int = 0
    awarded_total: int = 0
    redeemed_total: int = 0


@dataclass(frozen=True)
class LedgerEntry:
    """One line of the ledger: points > 0 awarded, < 0 redeemed."""

    id: str
    household_id: str
    kind: EntryKind
    points: int
    balance_after: int
    on: date
    by: Actor
    at: datetime
    area_path: list[str]
    category: PointsCategory | None = None
    reason: str | None = None
    goods: str | None = None
    quantity: int | None = None

    def event(self) -> PointsAwarded | PointsRedeemed:
        """What booking the entry means: points awarded for a civic act, or redeemed for goods."""
        if self.kind == "award":
            assert self.category is not None, "an award has a category"
            return PointsAwarded(
                household_id=self.household_id,
                entry_id=self.id,
                category=self.category,
                points=self.points,
                balance_after=self.balance_after,
                awarded_on=self.on,
            )
        assert self.goods is not None and self.quantity is not None, "a redemption names its goods"
        return PointsRedeemed(
            household_id=self.household_id,
            entry_id=self.id,
            goods=self.goods,
            quantity=self.quantity,
            points=-self.points,
            balance_after=self.balance_after,
            redeemed_on=self.on,
        )


def check_replay(existing: LedgerEntry | None, kind: EntryKind) -> LedgerEntry | None:
    """The entry a retried call already made (returned as it is), if any; a key used for the
    other kind of entry is a conflict."""
    if existing is not None and existing.kind != kind:
        raise Conflict("该幂等键已用于另一类积分记录", field="request_key")
    return existing


def refuse_redemption(balance: int, points: int) -> Conflict:
    """A redemption beyond the balance is refused, naming both figures."""
    return Conflict(f"积分余额不足:当前余额 {balance} 分,本次兑换需 {points} 分", field="points", balance=balance)
