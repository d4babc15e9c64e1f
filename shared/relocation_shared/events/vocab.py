"""Shared vocabulary: the policy categories events and views speak of, with their Chinese terms."""

from __future__ import annotations

from enum import StrEnum


class HouseholdKind(StrEnum):
    REGISTERED_POOR = "registered_poor"  # 建档立卡
    CO_RELOCATED = "co_relocated"  # 同步搬迁


HOUSEHOLD_KIND_LABELS = {
    HouseholdKind.REGISTERED_POOR: "建档立卡",
    HouseholdKind.CO_RELOCATED: "同步搬迁",
}


class EmploymentType(StrEnum):
    OUT_OF_PROVINCE = "out_of_province"  # 省外务工
    IN_PROVINCE_OUT_OF_COUNTY = "in_province"  # 省内县外
    LOCAL = "local"  # 县内就近就地
    ASSISTANCE_WORKSHOP = "assistance_workshop"  # 帮扶车间
    PUBLIC_WELFARE_POST = "public_welfare_post"  # 公益性岗位
    SELF_EMPLOYED = "self_employed"  # 自主创业


EMPLOYMENT_TYPE_LABELS = {
    EmploymentType.OUT_OF_PROVINCE: "省外务工",
    EmploymentType.IN_PROVINCE_OUT_OF_COUNTY: "省内县外",
    EmploymentType.LOCAL: "县内就近就地",
    EmploymentType.ASSISTANCE_WORKSHOP: "帮扶车间",
    EmploymentType.PUBLIC_WELFARE_POST: "公益性岗位",
    EmploymentType.SELF_EMPLOYED: "自主创业",
}

# 外出务工 (working away from the home county) versus 就近就地 (local) as the seeds count them.
AWAY_TYPES = frozenset({EmploymentType.OUT_OF_PROVINCE, EmploymentType.IN_PROVINCE_OUT_OF_COUNTY})


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
