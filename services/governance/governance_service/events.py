"""What the governance service publishes (topic relocation.governance) and consumes.

Every registry event is keyed by the household id, so a household's registration and its
residents' changes reach consumers in order. The community work's events are keyed by their
aggregate: a request's by the request id, a dispute's by the dispute id, a staff assignment's
by the staff id, a party organisation's by its id; door-to-door visits and points by the
household id. Each carries the area path of its building, household or community."""

from relocation_shared.events.community import PartyOrgRegistered, PointsAwarded, PointsRedeemed, VisitRecorded
from relocation_shared.events.disputes import DisputeMediated, DisputeOverdue, DisputeRegistered
from relocation_shared.events.governance import (
    AreaRegistered,
    HouseholdRegistered,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentUpdated,
    StaffAssigned,
    StaffUnassigned,
)
from relocation_shared.events.requests import (
    RequestAccepted,
    RequestDispatched,
    RequestEscalated,
    RequestOverdue,
    RequestRated,
    RequestReopened,
    RequestReported,
    RequestResolved,
    RequestSubmitted,
)
from relocation_shared.topics import GOVERNANCE

TOPIC = GOVERNANCE

REGISTRY_EVENTS = (AreaRegistered, HouseholdRegistered, ResidentRegistered, ResidentUpdated, ResidentMovedOut)

COMMUNITY_EVENTS = (
    StaffAssigned,
    StaffUnassigned,
    PartyOrgRegistered,
    RequestSubmitted,
    RequestDispatched,
    RequestAccepted,
    RequestResolved,
    RequestRated,
    RequestReopened,
    RequestOverdue,
    RequestEscalated,
    RequestReported,
    DisputeRegistered,
    DisputeMediated,
    DisputeOverdue,
    VisitRecorded,
    PointsAwarded,
    PointsRedeemed,
)

PUBLISHES = (*REGISTRY_EVENTS, *COMMUNITY_EVENTS)

# The registry and the community work are the source of these facts; it consumes nothing yet.
CONSUMES: tuple[type, ...] = ()
