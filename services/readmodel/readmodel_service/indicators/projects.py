"""项目资金 (follow-up industry projects and their money; amounts kept in fen, read in 万元)."""

from __future__ import annotations

from decimal import Decimal

from readmodel_service.indicators.base import Compute, Deltas, IndicatorGroup, count, scaled
from relocation_shared.events.projects import (
    INDUSTRY_CHAIN_LABELS,
    PROJECT_STATUS_LABELS,
    SOURCE_KIND_LABELS,
    CollectiveAssetRecorded,
    CollectiveIncomeRecorded,
    DemonstrationChanged,
    DividendPaid,
    FundsAllocated,
    FundsDisbursed,
    JobLinked,
    JobUnlinked,
    PaymentKind,
    PaymentReversed,
    ProjectApproved,
    ProjectStatus,
    ProjectStatusChanged,
    SourceBudgetSet,
)

PROJECTS = IndicatorGroup("projects", "项目资金")
WAN_YUAN = Decimal(1_000_000)  # fen in 1万元


def _project_tags(kind: str, chain: str | None, sign: int) -> Deltas:
    out = {f"projects:kind:{kind}": sign}
    if chain:
        out[f"projects:chain:{chain}"] = sign
    return out


@PROJECTS.fold(ProjectApproved, effective=lambda _e, p: p.approved_on)
def _project_approved(p: ProjectApproved) -> Deltas:
    out: Deltas = {
        "projects": 1,
        f"projects:status:{ProjectStatus.APPROVED.value}": 1,
        "projects_demonstration": int(p.provincial_demonstration),
        "allocated_fen": p.allocated_fen,
        **_project_tags(p.kind.value, p.chain.value if p.chain else None, 1),
    }
    for a in p.allocations:
        key = f"allocated_fen:{a.source_kind.value}"
        out[key] = out.get(key, 0) + a.amount_fen
    return out


@PROJECTS.fold(FundsAllocated)
def _funds_allocated(p: FundsAllocated) -> Deltas:
    return {"allocated_fen": p.amount_fen, f"allocated_fen:{p.source_kind.value}": p.amount_fen}


@PROJECTS.fold(ProjectStatusChanged, effective=lambda _e, p: p.changed_on)
def _status_changed(p: ProjectStatusChanged) -> Deltas:
    out: Deltas = {f"projects:status:{p.from_status.value}": -1, f"projects:status:{p.to_status.value}": 1}
    for a in p.released:  # a cancelled project gives back what it had not disbursed
        out["allocated_fen"] = out.get("allocated_fen", 0) - a.amount_fen
        key = f"allocated_fen:{a.source_kind.value}"
        out[key] = out.get(key, 0) - a.amount_fen
    return out


@PROJECTS.fold(DemonstrationChanged)
def _demonstration(p: DemonstrationChanged) -> Deltas:
    return {"projects_demonstration": 1 if p.provincial_demonstration else -1}


@PROJECTS.fold(SourceBudgetSet)
def _budget(p: SourceBudgetSet) -> Deltas:
    return {"budget_fen": p.delta_fen, f"budget_fen:{p.source_kind.value}": p.delta_fen}


@PROJECTS.fold(FundsDisbursed, effective=lambda _e, p: p.disbursed_on)
def _disbursed(p: FundsDisbursed) -> Deltas:
    return {"disbursed_fen": p.amount_fen, f"disbursed_fen:{p.source_kind.value}": p.amount_fen}


@PROJECTS.fold(DividendPaid, effective=lambda _e, p: p.paid_on)
def _dividend(p: DividendPaid) -> Deltas:
    return {
        "dividends_fen": p.amount_fen,
        f"dividends_fen:{p.recipient.value}": p.amount_fen,
        "households_benefiting": p.households_benefiting_delta,
    }


@PROJECTS.fold(CollectiveIncomeRecorded, effective=lambda _e, p: p.received_on)
def _collective_income(p: CollectiveIncomeRecorded) -> Deltas:
    return {"collective_income_fen": p.amount_fen}


@PROJECTS.fold(CollectiveAssetRecorded, effective=lambda _e, p: p.recorded_on)
def _collective_asset(p: CollectiveAssetRecorded) -> Deltas:
    return {"collective_assets_fen": p.amount_fen}


@PROJECTS.fold(PaymentReversed, effective=lambda _e, p: p.reversed_on)
def _reversed(p: PaymentReversed) -> Deltas:
    """A compensating entry takes back what the entry it reverses added."""
    amount = p.amount_fen
    if p.payment_kind is PaymentKind.DISBURSEMENT:
        out = {"disbursed_fen": -amount}
        if p.source_kind:
            out[f"disbursed_fen:{p.source_kind.value}"] = -amount
        return out
    if p.payment_kind is PaymentKind.DIVIDEND:
        out = {"dividends_fen": -amount, "households_benefiting": p.households_benefiting_delta}
        if p.recipient:
            out[f"dividends_fen:{p.recipient.value}"] = -amount
        return out
    if p.payment_kind is PaymentKind.COLLECTIVE_INCOME:
        return {"collective_income_fen": -amount}
    return {"collective_assets_fen": -amount}


@PROJECTS.fold(JobLinked)
def _job_linked(_p: JobLinked) -> Deltas:
    return {"project_jobs": 1}


@PROJECTS.fold(JobUnlinked)
def _job_unlinked(_p: JobUnlinked) -> Deltas:
    return {"project_jobs": -1}


def _wan(key: str) -> Compute:
    return scaled(count(key), WAN_YUAN)


PROJECTS.indicator("projects", "项目个数", "个", "projects", headline=True)
for _status, _label in PROJECT_STATUS_LABELS.items():
    PROJECTS.indicator(f"projects:status:{_status.value}", f"{_label}项目", "个", f"projects:status:{_status.value}")
for _chain, _label in INDUSTRY_CHAIN_LABELS.items():
    PROJECTS.indicator(f"projects:chain:{_chain.value}", f"{_label}项目", "个", f"projects:chain:{_chain.value}")
PROJECTS.indicator("projects_demonstration", "省级示范项目", "个", "projects_demonstration")
PROJECTS.indicator("allocated", "安排资金", "万元", _wan("allocated_fen"), decimals=2, headline=True)
PROJECTS.indicator("disbursed", "已拨付资金", "万元", _wan("disbursed_fen"), decimals=2, headline=True)
PROJECTS.percent("disbursement_rate", "资金拨付率", "disbursed_fen", "allocated_fen")
for _source, _label in SOURCE_KIND_LABELS.items():
    PROJECTS.indicator(
        f"allocated:{_source.value}", f"{_label}·安排", "万元", _wan(f"allocated_fen:{_source.value}"), decimals=2
    )
    PROJECTS.indicator(
        f"disbursed:{_source.value}", f"{_label}·拨付", "万元", _wan(f"disbursed_fen:{_source.value}"), decimals=2
    )
PROJECTS.indicator("project_jobs", "项目带动就业", "人", "project_jobs", headline=True)
PROJECTS.indicator("dividends", "分红金额", "万元", _wan("dividends_fen"), decimals=2, headline=True)
PROJECTS.indicator("households_benefiting", "受益搬迁户", "户", "households_benefiting")
PROJECTS.indicator("collective_income", "集体经济收入", "万元", _wan("collective_income_fen"), decimals=2)
PROJECTS.indicator("collective_assets", "集体资产", "万元", _wan("collective_assets_fen"), decimals=2)
