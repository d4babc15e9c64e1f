"""搬迁户与人口 (the registry): households and residents, by household kind."""

from __future__ import annotations

from readmodel_service.indicators.base import Deltas, IndicatorGroup
from relocation_shared.events.governance import HouseholdRegistered, ResidentMovedOut, ResidentRegistered
from relocation_shared.events.vocab import HOUSEHOLD_KIND_LABELS

REGISTRY = IndicatorGroup("registry", "搬迁群众")


@REGISTRY.fold(HouseholdRegistered, effective=lambda _e, p: p.registered_on)
def _household(p: HouseholdRegistered) -> Deltas:
    return {"households": 1, f"households:{p.kind.value}": 1}


@REGISTRY.fold(ResidentRegistered)
def _resident(p: ResidentRegistered) -> Deltas:
    return {"residents": 1, f"residents:{p.household_kind.value}": 1}


@REGISTRY.fold(ResidentMovedOut, effective=lambda _e, p: p.moved_out_on)
def _moved_out(p: ResidentMovedOut) -> Deltas:
    return {"residents": -1, f"residents:{p.household_kind.value}": -1, "moved_out": 1}


REGISTRY.indicator("households", "搬迁户数", "户", "households", headline=True)
REGISTRY.indicator("residents", "搬迁人口", "人", "residents", headline=True)
for _kind, _label in HOUSEHOLD_KIND_LABELS.items():
    REGISTRY.indicator(f"households:{_kind.value}", f"{_label}户数", "户", f"households:{_kind.value}")
    REGISTRY.indicator(f"residents:{_kind.value}", f"{_label}人口", "人", f"residents:{_kind.value}")
