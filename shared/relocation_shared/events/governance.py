"""Events of the governance service (the registry): topic relocation.governance."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from relocation_shared.events.catalog import CATALOG
from relocation_shared.events.envelope import EventPayload
from relocation_shared.events.vocab import HouseholdKind, Sex
from relocation_shared.topics import GOVERNANCE


@CATALOG.event("governance.household_registered", version=1, topic=GOVERNANCE)
class HouseholdRegistered(EventPayload):
    household_id: str
    kind: HouseholdKind
    community_code: str
    grid_code: str
    building_code: str
    room: str | None = None
    registered_on: date


@CATALOG.event("governance.resident_registered", version=1, topic=GOVERNANCE)
class ResidentRegistered(EventPayload):
    resident_id: str
    household_id: str
    household_kind: HouseholdKind
    name_masked: str
    national_id_masked: str
    sex: Sex
    birth_year: int = Field(ge=1900, le=2100)
    labour_capacity: bool


@CATALOG.event("governance.resident_updated", version=1, topic=GOVERNANCE)
class ResidentUpdated(EventPayload):
    resident_id: str
    household_id: str
    labour_capacity: bool


@CATALOG.event("governance.resident_moved_out", version=1, topic=GOVERNANCE)
class ResidentMovedOut(EventPayload):
    resident_id: str
    household_id: str
    household_kind: HouseholdKind
    labour_capacity: bool = Field(description="whether the resident counted in the labour force until now")
    moved_out_on: date
    reason: str


@CATALOG.event("governance.area_registered", version=1, topic=GOVERNANCE)
class AreaRegistered(EventPayload):
    """An area became known to the registry (from the area file or created through the API);
    published again when its name changes."""

    code: str
    name: str
    level: str
    parent: str | None


@CATALOG.event("governance.staff_assigned", version=1, topic=GOVERNANCE)
class StaffAssigned(EventPayload):
    """A cadre is made responsible for an area: a grid worker (网格员) for a grid, a building head
    (楼栋长) for a building, a community cadre (社区干部) for a community, a county officer for a
    county. `subject` is the user's id in the identity provider (the token's `sub`)."""

    staff_id: str
    subject: str
    name_masked: str
    role: str = Field(description="grid_worker / building_head / community_cadre / county_officer / city_officer")
    area_code: str
    area_level: str


@CATALOG.event("governance.staff_unassigned", version=1, topic=GOVERNANCE)
class StaffUnassigned(EventPayload):
    staff_id: str
    subject: str
    role: str
    area_code: str
