"""Events of dispute mediation (矛盾纠纷调解): topic relocation.governance, keyed by dispute id.
Free text (notes) never travels on the bus.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from relocation_shared.events.catalog import CATALOG
from relocation_shared.events.envelope import EventPayload
from relocation_shared.topics import GOVERNANCE

# --- vocabulary ---------------------------------------------------------------------------------


class DisputeKind(StrEnum):
    NEIGHBOURHOOD = "neighbourhood"
    FAMILY = "family"
    PROPERTY = "property"
    LABOUR = "labour"
    LAND = "land"
    HOUSING = "housing"
    OTHER = "other"


DISPUTE_KIND_LABELS = {
    DisputeKind.NEIGHBOURHOOD: "邻里纠纷",
    DisputeKind.FAMILY: "婚姻家庭纠纷",
    DisputeKind.PROPERTY: "物业纠纷",
    DisputeKind.LABOUR: "劳资纠纷",
    DisputeKind.LAND: "土地山林纠纷",
    DisputeKind.HOUSING: "房屋产权纠纷",
    DisputeKind.OTHER: "其他纠纷",
}


class DisputeOutcome(StrEnum):
    MEDIATED_SUCCESSFULLY = "mediated_successfully"
    FAILED = "failed"
    REFERRED = "referred"


DISPUTE_OUTCOME_LABELS = {
    DisputeOutcome.MEDIATED_SUCCESSFULLY: "调解成功",
    DisputeOutcome.FAILED: "调解不成",
    DisputeOutcome.REFERRED: "移交处理",
}


# --- disputes (矛盾纠纷调解) -------------------------------------------------------------------


@CATALOG.event("governance.dispute_registered", version=1, topic=GOVERNANCE)
class DisputeRegistered(EventPayload):
    dispute_id: str
    kind: DisputeKind
    community_code: str
    parties_count: int = Field(ge=1)
    mediator_name_masked: str
    mediator_subject: str | None = None
    registered_at: datetime
    due_at: datetime


@CATALOG.event("governance.dispute_mediated", version=1, topic=GOVERNANCE)
class DisputeMediated(EventPayload):
    """The mediation's outcome; success rate (调解成功率) = successful ÷ mediated."""

    dispute_id: str
    kind: DisputeKind
    outcome: DisputeOutcome
    successful: bool
    referred_to: str | None = None
    sessions: int = Field(ge=0)
    concluded_at: datetime
    days_to_outcome: int = Field(ge=0)
    on_time: bool


@CATALOG.event("governance.dispute_overdue", version=1, topic=GOVERNANCE)
class DisputeOverdue(EventPayload):
    dispute_id: str
    kind: DisputeKind
    due_at: datetime
    sessions: int = Field(ge=0)
