"""Request and response schemas of the notification rules: a rule maps an event type and a
condition on the event's payload to the cadres who must be told (by role and area level, or by
a subject named in the payload), a Chinese template and an urgency."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, StrictBool

from relocation_shared.areas import Level
from relocation_shared.batch import Input
from relocation_shared.pii import FreeText


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


URGENCY_LABELS = {Urgency.NORMAL: "一般", Urgency.URGENT: "紧急"}


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"  # a list field (or area_path) holds the value
    EXISTS = "exists"  # value true: the field is set (not null); false: it is null


class ConditionIn(Input):
    field: str = Field(min_length=1, max_length=60, description="payload field, or area_path")
    op: Op
    value: Any = None


class AudienceIn(Input):
    """Either the cadres of `role` assigned to the event's area at `level` (the level defaults to
    the role's own: grid workers to grids, community cadres to communities), or the cadre
    whose subject is in the payload field `subject_field` (e.g. the assignee of a request)."""

    role: str | None = Field(None, max_length=40)
    level: Level | None = None
    subject_field: str | None = Field(None, max_length=60)


class RuleIn(Input):
    name: FreeText = Field(min_length=1, max_length=60, description="规则名称")
    event_type: str = Field(min_length=1, max_length=100)
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=10)
    audience: list[AudienceIn] = Field(min_length=1, max_length=10)
    title: FreeText = Field(min_length=1, max_length=40)
    template: FreeText = Field(min_length=1, max_length=500, description="正文模板,用 {字段} 引用事件字段")
    urgency: Urgency = Urgency.NORMAL
    ack_window_minutes: int | None = Field(None, strict=True, ge=1, le=10080, description="紧急通知的确认时限(分钟)")
    enabled: StrictBool = True


class RuleUpdate(RuleIn):
    expected_version: int | None = Field(None, strict=True, ge=1, description="乐观锁:当前版本号")


class Rule(BaseModel):
    id: str
    version: int
    name: str
    event_type: str
    conditions: list[ConditionIn]
    audience: list[AudienceIn]
    title: str
    template: str
    urgency: Urgency
    ack_window_minutes: int | None
    enabled: bool
    deleted: bool
    default: bool
    updated_at: datetime
    updated_by: str


class EventTypeInfo(BaseModel):
    event_type: str
    condition_fields: list[str]
    template_fields: list[str]
    subject_fields: list[str]
