"""Request and response bodies of staffing."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from governance_service.staff.domain import STAFF_ROLE_LABELS, StaffMember, StaffRole
from relocation_shared.areas import Level
from relocation_shared.batch import Input
from relocation_shared.pii import FreeText

# Any area code, province to building (520330001001-G01-B01): the shape of a request body's field.
AREA_CODE = r"^[0-9]{6}([0-9]{6})?(-G[0-9]{2,3}(-B[0-9]{2,3})?)?$"


class StaffIn(Input):
    subject: FreeText = Field(min_length=1, max_length=100, description="该人员在统一身份认证中的用户标识(令牌 sub)")
    name: FreeText = Field(min_length=1, max_length=50)
    role: StaffRole = Field(
        description="grid_worker 网格员(网格)/ building_head 楼栋长(楼栋)/ community_cadre 社区干部(社区)…"
    )
    area_code: str = Field(pattern=AREA_CODE)


class Staff(BaseModel):
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

    @classmethod
    def of(cls, m: StaffMember) -> Staff:
        return cls(
            id=m.id,
            subject=m.subject,
            name=m.name,
            role=m.role,
            role_label=STAFF_ROLE_LABELS[m.role],
            area_code=m.area_code,
            area_level=m.area_level,
            area_path=m.area_path,
            active=m.active,
            assigned_at=m.assigned_at,
            unassigned_at=m.unassigned_at,
        )
