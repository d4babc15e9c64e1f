"""就业 (the labour-force ledger): labour force, employment by type, training, zero-employment households."""

from __future__ import annotations

from readmodel_service.indicators.base import Deltas, IndicatorGroup, ratio
from relocation_shared.events.employment import (
    EmploymentEnded,
    HouseholdLabourChanged,
    HouseholdZeroEmploymentCleared,
    HouseholdZeroEmploymentRaised,
    TrainingCompleted,
    WorkerEmployed,
)
from relocation_shared.events.vocab import AWAY_TYPES, EMPLOYMENT_TYPE_LABELS, EmploymentType

EMPLOYMENT = IndicatorGroup("employment", "就业帮扶")


@EMPLOYMENT.fold(HouseholdLabourChanged)
def _labour(p: HouseholdLabourChanged) -> Deltas:
    return {
        "labour_force": p.labour_count - p.previous_labour_count,
        "households_with_labour": int(p.labour_count > 0) - int(p.previous_labour_count > 0),
    }


def _spell(p: WorkerEmployed | EmploymentEnded, sign: int) -> Deltas:
    away = p.employment_type in AWAY_TYPES
    return {
        "employed": sign,
        f"employed:{p.employment_type.value}": sign,
        "employed_away" if away else "employed_local": sign,
        "organised_export": sign * int(p.organised_export),
        "wage_sum": sign * p.monthly_wage,
    }


@EMPLOYMENT.fold(WorkerEmployed, effective=lambda _e, p: p.started_on)
def _employed(p: WorkerEmployed) -> Deltas:
    return _spell(p, +1)


@EMPLOYMENT.fold(EmploymentEnded, effective=lambda _e, p: p.ended_on)
def _ended(p: EmploymentEnded) -> Deltas:
    return _spell(p, -1)


@EMPLOYMENT.fold(TrainingCompleted, effective=lambda _e, p: p.completed_on)
def _trained(p: TrainingCompleted) -> Deltas:
    return {"training_person_times": 1, "trained_persons": int(p.first_training)}


@EMPLOYMENT.fold(HouseholdZeroEmploymentRaised)
def _zero_raised(_p: HouseholdZeroEmploymentRaised) -> Deltas:
    return {"zero_employment_households": 1}


@EMPLOYMENT.fold(HouseholdZeroEmploymentCleared)
def _zero_cleared(_p: HouseholdZeroEmploymentCleared) -> Deltas:
    return {"zero_employment_households": -1}


EMPLOYMENT.indicator("labour_force", "劳动力", "人", "labour_force", headline=True)
EMPLOYMENT.indicator("employed", "已就业劳动力", "人", "employed", headline=True)
EMPLOYMENT.percent("employment_rate", "人均就业落实率", "employed", "labour_force", headline=True)
EMPLOYMENT.indicator(
    "employed_per_household", "户均就业", "人", ratio("employed", "households_with_labour"), decimals=2, headline=True
)
EMPLOYMENT.indicator(
    "zero_employment_households", "零就业家庭", "户", "zero_employment_households", better="lower", headline=True
)
EMPLOYMENT.indicator("households_with_labour", "有劳动力家庭", "户", "households_with_labour")
EMPLOYMENT.indicator("employed_away", "外出务工", "人", "employed_away")
EMPLOYMENT.indicator("employed_local", "就近就地就业", "人", "employed_local")
for _type in EmploymentType:
    EMPLOYMENT.indicator(f"employed:{_type.value}", EMPLOYMENT_TYPE_LABELS[_type], "人", f"employed:{_type.value}")
EMPLOYMENT.indicator("organised_export", "有组织劳务输出", "人", "organised_export")
EMPLOYMENT.indicator("training_person_times", "培训人次", "人次", "training_person_times")
EMPLOYMENT.indicator("trained_persons", "培训人数", "人", "trained_persons")
EMPLOYMENT.indicator("average_monthly_wage", "月均工资", "元", ratio("wage_sum", "employed"))
