"""社区治理 (community work in the governance service: the 四单 requests, disputes, visits, points)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from readmodel_service.indicators.base import Counters, Deltas, IndicatorGroup, ratio, scaled
from relocation_shared.events.community import PointsAwarded, PointsRedeemed, VisitRecorded
from relocation_shared.events.disputes import DisputeMediated, DisputeRegistered
from relocation_shared.events.requests import (
    RequestOverdue,
    RequestRated,
    RequestReopened,
    RequestResolved,
    RequestState,
    RequestSubmitted,
)

COMMUNITY = IndicatorGroup("community", "社区治理")
OPEN_STATES = frozenset({RequestState.SUBMITTED, RequestState.DISPATCHED, RequestState.ACCEPTED, RequestState.REOPENED})


@COMMUNITY.fold(RequestSubmitted)
def _request_submitted(_p: RequestSubmitted) -> Deltas:
    return {"requests_submitted": 1, "requests_open": 1}


@COMMUNITY.fold(RequestResolved)
def _request_resolved(p: RequestResolved) -> Deltas:
    # 逾期未办结: an open request that has missed a deadline leaves the count when it is resolved
    return {
        "requests_open": -1,
        "requests_resolved": 1,
        "requests_resolved_low": int(p.resolved_low_level),
        "requests_overdue_open": -int(p.was_overdue),
    }


@COMMUNITY.fold(RequestRated)
def _request_rated(p: RequestRated) -> Deltas:
    return {"requests_closed": 1, "rating_sum": p.score, "close_minutes_sum": p.minutes_to_close}


@COMMUNITY.fold(RequestReopened)
def _request_reopened(p: RequestReopened) -> Deltas:
    """群众有异议: the closed request is open again; its rating and closure no longer count."""
    return {
        "requests_open": 1,
        "requests_resolved": -1,
        "requests_resolved_low": -int(p.previous_resolved_low_level),
        "requests_closed": -1,
        "rating_sum": -p.previous_score,
        "close_minutes_sum": -p.previous_minutes_to_close,
        "requests_overdue_open": int(p.previous_was_overdue),
    }


@COMMUNITY.fold(RequestOverdue)
def _request_overdue(p: RequestOverdue) -> Deltas:
    """A request's first missed deadline; it counts as overdue-and-open while it is open (a missed
    rating deadline comes after resolution: counted in the total, not as open)."""
    if not p.first_overdue:
        return {}
    return {"requests_overdue": 1, "requests_overdue_open": int(p.state in OPEN_STATES)}


@COMMUNITY.fold(DisputeRegistered)
def _dispute_registered(_p: DisputeRegistered) -> Deltas:
    return {"disputes_registered": 1, "disputes_pending": 1}


@COMMUNITY.fold(DisputeMediated)
def _dispute_mediated(p: DisputeMediated) -> Deltas:
    return {"disputes_pending": -1, "disputes_concluded": 1, "disputes_successful": int(p.successful)}


@COMMUNITY.fold(VisitRecorded, effective=lambda _e, p: p.visited_on)
def _visit(p: VisitRecorded) -> Deltas:
    return {"visits": 1, f"visits:{p.visited_on.year}": 1}


@COMMUNITY.fold(PointsAwarded, effective=lambda _e, p: p.awarded_on)
def _points_awarded(p: PointsAwarded) -> Deltas:
    return {"points_awarded": p.points}


@COMMUNITY.fold(PointsRedeemed, effective=lambda _e, p: p.redeemed_on)
def _points_redeemed(p: PointsRedeemed) -> Deltas:
    return {"points_redeemed": p.points}


def dated(counters: Counters, on: date) -> Counters:
    """The counters as read on a business day: the yearly ones (上门服务 has a target per county
    and year) are those of that day's year, so an as-of or a trend point reads its own year."""
    return {**counters, "visits_this_year": counters.get(f"visits:{on.year}", 0)}


COMMUNITY.indicator("requests_submitted", "群众点单", "件", "requests_submitted", headline=True)
COMMUNITY.indicator("requests_open", "在办诉求", "件", "requests_open", better="lower")
COMMUNITY.indicator("requests_resolved", "已办结", "件", "requests_resolved")
COMMUNITY.indicator("requests_closed", "已评单关闭", "件", "requests_closed")
COMMUNITY.percent("request_completion_rate", "民情实事办结率", "requests_resolved", "requests_submitted", headline=True)
COMMUNITY.indicator("requests_overdue_open", "逾期未办结", "件", "requests_overdue_open", better="lower", headline=True)
COMMUNITY.indicator("requests_overdue", "累计逾期", "件", "requests_overdue", better="lower")
COMMUNITY.percent("resolved_low_level_share", "楼栋网格办结占比", "requests_resolved_low", "requests_resolved")
COMMUNITY.indicator("average_rating", "评单平均分", "分", ratio("rating_sum", "requests_closed"), decimals=2)
COMMUNITY.indicator(
    "mean_hours_to_close",
    "平均办结时长",
    "小时",
    scaled(ratio("close_minutes_sum", "requests_closed"), Decimal(60)),
    decimals=1,
    better="lower",
)
COMMUNITY.indicator("disputes_registered", "矛盾纠纷登记", "件", "disputes_registered")
COMMUNITY.indicator("disputes_pending", "调解中", "件", "disputes_pending", better="lower")
COMMUNITY.indicator("disputes_concluded", "已调解", "件", "disputes_concluded")
COMMUNITY.percent("mediation_success_rate", "调解成功率", "disputes_successful", "disputes_concluded", headline=True)
COMMUNITY.indicator("visits_this_year", "本年上门服务", "次", "visits_this_year", headline=True)
COMMUNITY.indicator("visits", "累计上门服务", "次", "visits")
COMMUNITY.indicator("points_awarded", "积分发放", "分", "points_awarded")
COMMUNITY.indicator("points_redeemed", "积分兑换", "分", "points_redeemed")
