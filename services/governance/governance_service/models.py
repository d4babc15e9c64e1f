"""Models of the registry: areas, households (建档立卡 / 同步搬迁) and residents."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator

from relocation_shared.areas import Level
from relocation_shared.batch import Input
from relocation_shared.events.vocab import HOUSEHOLD_KIND_LABELS, HouseholdKind, Sex
from relocation_shared.pii import InvalidNationalId, parse_national_id

_CODE = r"^[0-9]{6}([0-9]{6})?(-G[0-9]{2,3}(-B[0-9]{2,3})?)?$"
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


class AreaIn(Input):
    code: str = Field(pattern=_CODE, description="区划代码:县级6位,镇和社区12位,网格/楼栋在社区代码后加 -Gnn / -Bnn")
    name: str = Field(min_length=1, max_length=60)
    level: Level
    parent: str = Field(pattern=_CODE)


class Area(BaseModel):
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
    room: str | None = Field(None, max_length=20)
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
    def from_doc(cls, doc: dict[str, Any], residents: list[Resident] | None = None) -> Household:
        return cls(
            id=doc["_id"],
            kind=doc["kind"],
            kind_label=HOUSEHOLD_KIND_LABELS[HouseholdKind(doc["kind"])],
            community_code=doc["community_code"],
            grid_code=doc["grid_code"],
            building_code=doc["building_code"],
            room=doc.get("room"),
            registered_on=date.fromisoformat(doc["registered_on"]),
            area_path=doc["area_path"],
            residents=residents,
        )


class ResidentIn(Input):
    household_id: str = Field(min_length=1, max_length=64)
    community_code: str = Field(pattern=_CODE, description="登记所在社区;须与该户所在社区一致")
    name: str = Field(min_length=1, max_length=50)
    national_id: str = Field(min_length=1, max_length=32, description="居民身份证号码(只保存掩码和密钥散列)")
    phone: str | None = Field(None, max_length=20)
    labour_capacity: bool = Field(description="是否有劳动能力")

    @field_validator("national_id")
    @classmethod
    def _valid_id(cls, v: str) -> str:
        try:
            parse_national_id(v)
        except InvalidNationalId as exc:
            raise ValueError(str(exc)) from None
        return v.strip().upper()

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v):
            raise ValueError("手机号码应为11位数字")
        return v

    def __repr__(self) -> str:  # never show the ID or phone number
        return f"ResidentIn(household_id={self.household_id!r})"

    __str__ = __repr__


class ResidentUpdate(Input):
    labour_capacity: bool


class MoveOut(Input):
    moved_out_on: date
    reason: str = Field(min_length=1, max_length=200)


class Resident(BaseModel):
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

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Resident:
        return cls(
            id=doc["_id"],
            household_id=doc["household_id"],
            name=doc["name"],
            national_id_masked=doc["national_id_masked"],
            phone_masked=doc.get("phone_masked"),
            sex=doc["sex"],
            birth_date=date.fromisoformat(doc["birth_date"]),
            labour_capacity=doc["labour_capacity"],
            status=doc["status"],
            moved_out_on=date.fromisoformat(doc["moved_out_on"]) if doc.get("moved_out_on") else None,
            area_path=doc["area_path"],
        )


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: enough for a cadre to recognise, not to identify."""
    return name[:1] + "*" * max(1, len(name) - 1)


Household.model_rebuild()
