"""Request and response bodies of the party organisations."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from governance_service.staff.models import AREA_CODE
from relocation_shared.batch import Input
from relocation_shared.events.community import PartyOrgKind
from relocation_shared.pii import FreeText, PersonName


class PartyOrgIn(Input):
    name: FreeText = Field(min_length=1, max_length=60)
    kind: PartyOrgKind = Field(description="general_branch 党总支 / branch 党支部 / group 党小组")
    community_code: str = Field(pattern=AREA_CODE)
    area_code: str | None = Field(None, pattern=AREA_CODE, description="设在社区、网格或楼栋;默认社区")
    parent_id: str | None = Field(None, max_length=64, description="上级党组织(党小组必填)")
    secretary_name: PersonName | None = None
    members: int = Field(0, strict=True, ge=0, le=100_000, description="党员人数")


class PartyOrg(BaseModel):
    # Built from a PartyOrganisation: `PartyOrg.model_validate(org)` (kind_label is its property).
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: PartyOrgKind
    kind_label: str
    community_code: str
    area_code: str
    area_path: list[str]
    parent_id: str | None
    secretary_name: str | None
    members: int
    registered_at: datetime
