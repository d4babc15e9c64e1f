"""The ledger (资金台账) without I/O: every payment is an entry, append-only; a mistake is
corrected by a compensating entry (冲正) with the negated amount, never by editing. Also the
money rules of payments: a disbursement draws on the project's allocation and the source's
budget for the year, neither below zero; a dividend only while the project operates and only
to its communities; households benefiting (受益户) counted once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from projects_service.money import yuan
from projects_service.projects.domain import refuse_in_status, status_label
from projects_service.rules import not_future
from relocation_shared.errors import Conflict, InvalidInput, NotFound
from relocation_shared.events.projects import PaymentKind, ProjectStatus, Recipient
from relocation_shared.mongo import Doc

COLLECTIVE_KINDS = frozenset({PaymentKind.COLLECTIVE_INCOME, PaymentKind.COLLECTIVE_ASSET})
REVERSAL_SUFFIX = "-R"  # a reversal's id is the original's + "-R": a payment is reversed once


@dataclass(frozen=True)
class Entry:
    """One line of the ledger. Project payments carry the project's kind and chain and the
    source kinds it is funded from, so every figure can be recomputed by source kind."""

    id: str
    kind: PaymentKind
    amount_fen: int
    occurred_on: date
    area_path: list[str]
    aggregate_id: str
    recorded_at: datetime
    recorded_by: str
    project_id: str | None = None
    project_kind: str | None = None
    chain: str | None = None
    source_id: str | None = None
    source_kind: str | None = None
    source_kinds: list[str] | None = None
    year: int | None = None
    recipient: Recipient | None = None
    community_code: str | None = None
    household_id: str | None = None
    memo: str | None = None
    reversal_of: str | None = None


def project_entry(project: Doc | None, entry: Entry) -> Entry:
    """THE place a ledger entry is made: the project's kind and chain copied into the payment's
    lines, and its source kinds unless the payment names its own (none for a collective entry
    without a project)."""
    if project is None:
        return replace(entry, source_kinds=entry.source_kinds if entry.source_kinds is not None else [])
    return replace(
        entry,
        project_id=project["_id"],
        project_kind=project["kind"],
        chain=project.get("chain"),
        source_kinds=entry.source_kinds if entry.source_kinds is not None else list(project["source_kinds"]),
    )


def reversal_of(original: Entry, *, on: date, reason: str, at: datetime, by: str) -> Entry:
    """The compensating entry of `original`: the same lines with the negated amount."""
    return replace(
        original,
        id=original.id + REVERSAL_SUFFIX,
        amount_fen=-original.amount_fen,
        reversal_of=original.id,
        occurred_on=on,
        memo=reason,
        recorded_at=at,
        recorded_by=by,
    )


def check_reversible(original: Doc, already_reversed: bool, *, on: date, today: date) -> None:
    if original.get("reversal_of"):
        raise Conflict("冲正记录不能再冲正", field="entry_id")
    if already_reversed:
        raise Conflict("该记录已冲正,不能重复冲正", field="entry_id", reversal_id=original["_id"] + REVERSAL_SUFFIX)
    not_future(on, "reversed_on", "冲正日期", today=today)
    if on < date.fromisoformat(original["occurred_on"]):
        raise InvalidInput("冲正日期早于原记录日期", field="reversed_on")


# --- balances ---------------------------------------------------------------------------------


@dataclass
class Balance:
    """What is left to draw: an allocation's undisbursed amount, or a source's budget for a year."""

    key: str
    remaining: int
    drawn: int = 0

    def draw(self, amount: int) -> None:
        if amount <= 0:
            raise ValueError("a drawdown is positive")
        if amount > self.remaining:
            raise OverDraw(self, amount)
        self.remaining -= amount
        self.drawn += amount


class OverDraw(Exception):
    def __init__(self, balance: Balance, amount: int) -> None:
        super().__init__(f"{balance.key}: {amount} > {balance.remaining}")
        self.balance = balance
        self.amount = amount


def check_disbursement(*, amount: int, allocation: Balance, budget: Balance) -> None:
    """A disbursement draws on the project's allocation from the source and on the source's budget
    for that year; neither can go below zero. Both are checked before either is drawn."""
    if amount > allocation.remaining:
        raise Conflict(
            f"拨付金额 {yuan(amount)} 元超过该项目此项资金尚未拨付的额度 {yuan(allocation.remaining)} 元",
            field="amount_fen",
            remaining_fen=allocation.remaining,
        )
    if amount > budget.remaining:
        raise Conflict(
            f"拨付金额 {yuan(amount)} 元超过该资金来源本年度预算余额 {yuan(budget.remaining)} 元",
            field="amount_fen",
            budget_remaining_fen=budget.remaining,
        )
    allocation.draw(amount)
    budget.draw(amount)


def check_payment_dates(on: date, project: Doc, *, field: str, what: str) -> None:
    if on < date.fromisoformat(project["approved_on"]):
        raise InvalidInput(f"{what}早于项目批复日期", field=field)


# --- dividends --------------------------------------------------------------------------------


def check_dividend_allowed(status: ProjectStatus) -> None:
    if status is not ProjectStatus.OPERATING:
        raise Conflict(
            f"项目当前状态为“{status_label(status)}”,只有运营中的项目才能分红",
            field="status",
            current=status.value,
        )


def check_disbursable(status: ProjectStatus, disbursable: frozenset[ProjectStatus]) -> None:
    if status not in disbursable:
        raise refuse_in_status(status, "不能拨付资金")


def benefit_delta(before: int, change: int) -> int:
    """Households benefiting (受益户) counts households with at least one unreversed dividend:
    +1 when a household's count goes from 0 to positive, -1 when it returns to 0."""
    after = before + change
    if after < 0:
        raise ValueError("a household cannot have fewer than zero dividends")
    return int(after > 0) - int(before > 0)


def collective_recipient(community_code: str | None, household_id: str | None, project: Doc) -> str:
    """A dividend to a community's collective: the community, which the project must serve."""
    if not community_code:
        raise InvalidInput("分红给社区集体须填写社区代码", field="community_code")
    if household_id:
        raise InvalidInput("分红给社区集体时不应填写户编号", field="household_id")
    if community_code not in project["community_codes"]:
        raise InvalidInput("该社区不在项目服务的安置社区范围内", field="community_code")
    return community_code


def household_recipient(community_code: str | None, household: Doc | None, project: Doc) -> None:
    """A dividend to a household: one the registry knows, living in a community the project serves."""
    if household is None:
        raise NotFound("该户不存在或尚未同步到项目台账", field="household_id")
    if household["community_code"] not in project["community_codes"]:
        raise InvalidInput("该户不在项目服务的安置社区内,不能向其分红", field="household_id")
    if community_code and community_code != household["community_code"]:
        raise InvalidInput("社区代码与该户所在社区不一致", field="community_code")
