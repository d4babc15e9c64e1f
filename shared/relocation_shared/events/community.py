"""Events of the governance service's community work: topic relocation.governance.

Door-to-door services (上门服务), the points supermarket (积分超市) and party organisations,
keyed by household id (visits, points). Grid staffing uses `StaffAssigned` / `StaffUnassigned`
of `events/governance.py`; the 四单 requests are in `events/requests.py`, dispute mediation in
`events/disputes.py`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from relocation_shared.events.catalog import CATALOG
from relocation_shared.events.envelope import EventPayload
from relocation_shared.topics import GOVERNANCE

# --- vocabulary ---------------------------------------------------------------------------------


class VisitService(StrEnum):
    AGENCY = "agency"
    POLICY = "policy"
    CARE = "care"
    HEALTH = "health"
    EMPLOYMENT = "employment"
    PROPERTY_REGISTRATION = "property_registration"
    OTHER = "other"


VISIT_SERVICE_LABELS = {
    VisitService.AGENCY: "帮代办",
    VisitService.POLICY: "政策宣传",
    VisitService.CARE: "走访慰问(一老一小)",
    VisitService.HEALTH: "健康随访",
    VisitService.EMPLOYMENT: "就业服务",
    VisitService.PROPERTY_REGISTRATION: "产权登记上门收件",
    VisitService.OTHER: "其他",
}


class PointsCategory(StrEnum):
    CIVILITY = "civility"
    FILIAL = "filial"
    VOLUNTEER = "volunteer"
    HYGIENE = "hygiene"
    NEIGHBOURLY = "neighbourly"
    CUSTOMS = "customs"
    MODEL = "model"
    OTHER = "other"


POINTS_CATEGORY_LABELS = {
    PointsCategory.CIVILITY: "文明创建",
    PointsCategory.FILIAL: "孝老爱亲",
    PointsCategory.VOLUNTEER: "志愿服务",
    PointsCategory.HYGIENE: "环境卫生",
    PointsCategory.NEIGHBOURLY: "邻里互助",
    PointsCategory.CUSTOMS: "移风易俗",
    PointsCategory.MODEL: "榜样评选(最美家庭、孝德之星等)",
    PointsCategory.OTHER: "其他",
}


class PartyOrgKind(StrEnum):
    GENERAL_BRANCH = "general_branch"
    BRANCH = "branch"
    GROUP = "group"


PARTY_ORG_KIND_LABELS = {
    PartyOrgKind.GENERAL_BRANCH: "党总支",
    PartyOrgKind.BRANCH: "党支部",
    PartyOrgKind.GROUP: "党小组",
}


# --- door-to-door services (上门服务) -----------------------------------------------------------


@CATALOG.event("governance.visit_recorded", version=1, topic=GOVERNANCE)
class VisitRecorded(EventPayload):
    """One door-to-door service (上门服务, counted in 人次 against the yearly target)."""

    visit_id: str
    household_id: str
    service: VisitService
    visited_on: date
    visitor_subject: str
    visitor_role: str
    visitor_name_masked: str


# --- points supermarket (积分超市) ---------------------------------------------------------------


@CATALOG.event("governance.points_awarded", version=1, topic=GOVERNANCE)
class PointsAwarded(EventPayload):
    household_id: str
    entry_id: str
    category: PointsCategory
    points: int = Field(gt=0)
    balance_after: int = Field(ge=0)
    awarded_on: date


@CATALOG.event("governance.points_redeemed", version=1, topic=GOVERNANCE)
class PointsRedeemed(EventPayload):
    household_id: str
    entry_id: str
    goods: str
    quantity: int = Field(gt=0)
    points: int = Field(gt=0)
    balance_after: int = Field(ge=0)
    redeemed_on: date


# --- party organisations -------------------------------------------------------------------------


@CATALOG.event("governance.party_org_registered", version=1, topic=GOVERNANCE)
class PartyOrgRegistered(EventPayload):
    """A party organisation of a resettlement community (党总支 / 党支部 / 党小组)."""

    party_org_id: str
    kind: PartyOrgKind
    name: str
    community_code: str
    area_code: str
    parent_id: str | None = None
    members: int = Field(ge=0)
