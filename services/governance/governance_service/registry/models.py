"""Request and response schemas of the registry: areas, households (建档立卡 / 同步搬迁) and
residents."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from governance_service.registry.domain import HouseholdRecord
from relocation_shared.areas import Level
from relocation_shared.batch import Input
from relocation_shared.events.vocab import HOUSEHOLD_KIND_LABELS, HouseholdKind, Sex
from relocation_shared.pii import FreeText, MobileNumber, NationalIdNumber, PersonName

_CODE = r"^[0-9]{6}([0-9]{6})?(-G[0-9]{2,3}(-B[0-9]{2,3})?)?$"


class AreaIn(Input):
    code: str = Field(pattern=_CODE, description="区划代码:县级6位,镇和社区12位,网格/楼栋在社区代码后加 -Gnn / -Bnn")
    name: FreeText = Field(min_length=1, max_length=60)
    level: Level
    parent: str = Field(pattern=_CODE)


class Area(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # Area.model_validate(area_record)

    code: str
    name: str
    level: Level
    parent: str | None
    path: list[str]
    demo: bool = False


class HouseholdIn(Input):
    kind: HouseholdKind = Field(description="registered_poor 建档立卡 / co_relocated 同步搬迁")
    community_code: str = Field(pattern=_CODE)
    grid_code: str = Field(pattern=_CODE)
    building_code: str = Field(pattern=_CODE)
    room: FreeText | None = Field(None, max_length=20)
    registered_on: date | None = None


class Household(BaseModel):
    id: str
    kind: HouseholdKind
    kind_label: str
    community_code: str
    grid_code: str
    building_code: str
    room: str | None
    registered_on: date
    area_path: list[str]
    residents: list[Resident] | None = None

    @classmethod
    def of(cls, household: HouseholdRecord, residents: list[Resident] | None = None) -> Household:
        label = HOUSEHOLD_KIND_LABELS[household.kind]
        return cls.model_validate(asdict(household) | {"kind_label": label, "residents": residents})


class ResidentIn(Input):
    household_id: str = Field(min_length=1, max_length=64)
    community_code: str = Field(pattern=_CODE, description="登记所在社区;须与该户所在社区一致")
    name: PersonName
    national_id: NationalIdNumber
    phone: MobileNumber | None = None
    labour_capacity: StrictBool = Field(description="是否有劳动能力")

    def __repr__(self) -> str:  # never show the ID or phone number
        return f"ResidentIn(household_id={self.household_id!r})"

    __str__ = __repr__


class ResidentUpdate(Input):
    labour_capacity: StrictBool


class MoveOut(Input):
    moved_out_on: date
    reason: FreeText = Field(min_length=1, max_length=200)


class Resident(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from a ResidentRecord, its hashes left out

    id: str
    household_id: str
    name: str
    national_id_masked: str
    phone_masked: str | None
    sex: Sex
    birth_date: date
    labour_capacity: bool
    status: str = Field(description="active 在册 / moved_out 已迁出")
    moved_out_on: date | None = None
    area_path: list[str]


Household.model_rebuild()
