"""The indicators, declared: which event types move which counters, and how each figure that
officials read is computed from the counters. One module per group; a service that adds events
adds its group here. The order of GROUPS is the order views list the indicators in."""

from __future__ import annotations

from readmodel_service.indicators.base import (
    Compute,
    Counters,
    Deltas,
    EventHead,
    Fold,
    Indicator,
    IndicatorGroup,
    count,
    ratio,
    rounded,
    scaled,
)
from readmodel_service.indicators.community import COMMUNITY, dated
from readmodel_service.indicators.employment import EMPLOYMENT
from readmodel_service.indicators.projects import PROJECTS
from readmodel_service.indicators.registry import REGISTRY

GROUPS: list[IndicatorGroup] = [REGISTRY, EMPLOYMENT, COMMUNITY, PROJECTS]
FOLDS: dict[str, Fold] = {f.event_type: f for g in GROUPS for f in g.folds}
INDICATORS: dict[str, Indicator] = {i.key: i for g in GROUPS for i in g.indicators}

__all__ = [
    "FOLDS",
    "GROUPS",
    "INDICATORS",
    "Compute",
    "Counters",
    "Deltas",
    "EventHead",
    "Fold",
    "Indicator",
    "IndicatorGroup",
    "count",
    "dated",
    "ratio",
    "rounded",
    "scaled",
]
