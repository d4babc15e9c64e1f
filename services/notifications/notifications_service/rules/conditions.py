"""The conditions of a rule: a list of {field, op, value} that must all hold, checked against the
payload model in the event catalog when an officer saves the rule (an unknown field, or an
operator the field's type does not allow, is refused with the reason) and evaluated without
`eval`."""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Union, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

from notifications_service.rules.models import ConditionIn, Op
from notifications_service.rules.templates import payload_fields
from relocation_shared.errors import InvalidInput
from relocation_shared.events import Envelope, EventPayload

ORDERING = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})
ORDERABLE = (int, float, date, datetime)


@dataclass(frozen=True)
class Condition:
    field: str
    op: Op
    value: Any

    def holds(self, env: Envelope, payload: EventPayload) -> bool:
        if self.field == "area_path":
            return self.value in env.area_path
        actual = getattr(payload, self.field, None)
        op = self.op
        if op is Op.EXISTS:
            return (actual is not None) is bool(self.value)
        if op is Op.CONTAINS:
            return actual is not None and self.value in actual
        if op is Op.EQ:
            return bool(actual == self.value)
        if op is Op.NE:
            return bool(actual != self.value)
        if op is Op.IN:
            return actual in self.value
        if op is Op.NOT_IN:
            return actual not in self.value
        if actual is None:
            return False
        if op is Op.GT:
            return bool(actual > self.value)
        if op is Op.GTE:
            return bool(actual >= self.value)
        if op is Op.LT:
            return bool(actual < self.value)
        return bool(actual <= self.value)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without None, whether None is allowed)."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        return (args[0] if len(args) == 1 else Union[tuple(args)]), optional  # noqa: UP007
    return annotation, False


def _typed(annotation: Any, value: Any, where: str) -> Any:
    try:
        typed = TypeAdapter(annotation).validate_python(value)
    except ValidationError as exc:
        raise InvalidInput(f"条件的取值与字段类型不符:{exc.errors()[0].get('msg', '')}", field=where) from exc
    if isinstance(typed, datetime) and typed.tzinfo is None:
        raise InvalidInput("时间应带时区(如 2025-06-30T08:00:00+08:00)", field=where)
    return typed


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _storable(value: Any, where: str) -> None:
    """A value MongoDB can store: integers in the signed 64-bit range, finite floats (in lists too)."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            _storable(v, f"{where}.{i}")
    elif isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        raise InvalidInput("条件的取值超出整数范围(-2^63 至 2^63-1)", field=where)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput("条件的取值应为有限的数", field=where)


def compile_condition(model: type[EventPayload], c: ConditionIn, index: int) -> Condition:
    where = f"conditions.{index}"
    _storable(c.value, f"{where}.value")
    if c.field == "area_path":
        if c.op is not Op.CONTAINS or not isinstance(c.value, str) or not c.value:
            raise InvalidInput("area_path 只能用 contains 和一个区域代码", field=f"{where}.op")
        return Condition(field=c.field, op=c.op, value=c.value)
    fields = payload_fields(model)
    if c.field not in fields:
        raise InvalidInput(
            f"事件 {model.event_type} 没有字段 {c.field}(可用:{', '.join(sorted(fields))})", field=f"{where}.field"
        )
    annotation, optional = _unwrap(fields[c.field])
    if c.op is Op.EXISTS:
        if not isinstance(c.value, bool):
            raise InvalidInput("exists 的取值应为 true 或 false", field=f"{where}.value")
        return Condition(field=c.field, op=c.op, value=c.value)
    if get_origin(annotation) is list:
        if c.op is not Op.CONTAINS:
            raise InvalidInput(f"{c.field} 是列表,只能用 contains 或 exists", field=f"{where}.op")
        (item,) = get_args(annotation) or (Any,)
        return Condition(field=c.field, op=c.op, value=_typed(item, c.value, f"{where}.value"))
    if c.op is Op.CONTAINS:
        raise InvalidInput(f"{c.field} 不是列表,不能用 contains", field=f"{where}.op")
    if c.op in (Op.IN, Op.NOT_IN):
        if not isinstance(c.value, list) or not c.value:
            raise InvalidInput(f"{c.op.value} 的取值应为非空列表", field=f"{where}.value")
        target = fields[c.field] if optional else annotation
        return Condition(
            field=c.field, op=c.op, value=tuple(_typed(target, v, f"{where}.value.{i}") for i, v in enumerate(c.value))
        )
    if c.op in ORDERING:
        base = annotation if isinstance(annotation, type) else None
        if base is None or not issubclass(base, ORDERABLE) or issubclass(base, bool):
            raise InvalidInput(f"{c.field} 不是数值或日期,不能比较大小", field=f"{where}.op")
        return Condition(field=c.field, op=c.op, value=_typed(annotation, c.value, f"{where}.value"))
    if c.value is None and optional:
        return Condition(field=c.field, op=c.op, value=None)
    return Condition(field=c.field, op=c.op, value=_typed(annotation, c.value, f"{where}.value"))
