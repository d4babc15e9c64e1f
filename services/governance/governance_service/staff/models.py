"""Request and response bodies of staffing."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from governance_service.staff.domain import StaffRole
from relocation_shared.areas import Level
from relocation_shared.batch import Input
from relocation_shared.pii import FreeText, PersonName

# Any area code, province to building (520330001001-G01-B01): the shape of a request body's field.
AREA_CODE = r"^[0-9]{6}([0-9]{6})?(-G[0-9]{2,3}(-B[0-9]{2,3})?)?$"


class StaffIn(Input):
    subject: FreeText = Field(min_length=1, max_length=100, description="该人员在统一身份认证中的用户标识(令牌 sub)")
    name: PersonName
    role: StaffRole = Field(
        description="grid_worker 网格员(网格)/ building_head 楼栋长(楼栋)/ community_cadre 社区干部(社区)…"
    )
    area_code: str = Field(pattern=AREA_CODE)


class Staff(BaseModel):
    # Built from a StaffMember: `Staff.model_validate(member)` (role_label is its property).
    model_config = ConfigDict(from_attributes=True)

    id: str
    subject: str
    name: str
    role: StaffRole
    role_label: str
    area_code: str
    area_level: Level
    area_path: list[str]
    active: bool
    assigned_at: datetime
    unassigned_at: datetime | None
