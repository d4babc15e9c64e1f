"""Templates of the rules: their `{field}` placeholders, which fields may be named (never
personal data: only masked (`*_masked`) or non-personal fields, and the event's area and time),
and how a value reads to an officer (labels for codes, yuan for fen, Beijing time, 是/否)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any

from relocation_shared.areas import LEVELS
from relocation_shared.clock import CHINA_TZ
from relocation_shared.events import EventPayload
from relocation_shared.pii import scrub

PERSONAL_TOKENS = frozenset({"name", "phone", "mobile", "national", "address", "room", "birth", "subject", "idcard"})


def is_personal(field_name: str, siblings: Iterable[str] = ()) -> bool:
    """A field that may carry personal data: a name, phone, ID number, address or room, a birth
    date, a login subject, or anything that has a masked twin (`x` beside `x_masked`)."""
    if field_name.endswith("_masked"):
        return False
    if f"{field_name}_masked" in set(siblings):
        return True
    return any(token in PERSONAL_TOKENS for token in field_name.split("_"))


def derived_fields() -> list[str]:
    """Fields every template may use besides the payload's: the event's area and time."""
    out = ["area_code", "area_name", "occurred_at"]
    for level in LEVELS:
        out += [f"{level.value}_code", f"{level.value}_name"]
    return out


DERIVED = frozenset(derived_fields())


def payload_fields(model: type[EventPayload]) -> dict[str, Any]:
    return {name: info.annotation for name, info in model.model_fields.items()}


def template_fields(model: type[EventPayload]) -> list[str]:
    """The payload fields a template may name: everything that is not personal data."""
    fields = payload_fields(model)
    return sorted(f for f in fields if not is_personal(f, fields))


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def placeholders(template: str) -> list[str]:
    """The {field} names of a template; `{{` and `}}` are literal braces. ValueError when a brace
    is unbalanced or a placeholder is not a field name."""
    names: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if template.startswith("{{", i) or template.startswith("}}", i):
            i += 2
            continue
        if ch == "}":
            raise ValueError(f"第{i + 1}个字符处的 }} 没有对应的 {{")
        if ch == "{":
            end = template.find("}", i + 1)
            if end < 0:
                raise ValueError(f"第{i + 1}个字符处的 {{ 没有闭合")
            name = template[i + 1 : end].strip()
            if not _IDENT.match(name):
                raise ValueError(f"{{{name}}} 不是字段名")
            names.append(name)
            i = end + 1
            continue
        i += 1
    return names


def render(template: str, context: dict[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(template):
        if template.startswith("{{", i):
            out.append("{")
            i += 2
        elif template.startswith("}}", i):
            out.append("}")
            i += 2
        elif template[i] == "{":
            end = template.index("}", i + 1)
            out.append(context.get(template[i + 1 : end].strip(), ""))
            i = end + 1
        else:
            out.append(template[i])
            i += 1
    return scrub("".join(out))  # belt and braces: no ID or phone number ever leaves in a text


def _labels_for(enum_type: type[Enum]) -> dict[Any, str]:
    """The Chinese labels of an enum, from the `*_LABELS` dict beside it in its module."""
    module = sys.modules.get(enum_type.__module__)
    for name, value in vars(module).items() if module else ():
        if (
            name.endswith("LABELS")
            and isinstance(value, dict)
            and value
            and all(isinstance(k, enum_type) for k in value)
        ):
            return value
    return {}


def format_value(name: str, value: Any) -> str:
    """How an officer reads a field: labels for codes, yuan for fen, Beijing time, 是/否."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Enum):
        return str(_labels_for(type(value)).get(value, value.value))
    if isinstance(value, int) and name.endswith("_fen"):
        yuan, fen = divmod(value, 100)
        return f"{yuan:,}.{fen:02d}元"
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(format_value(name, v) for v in value)
    return str(value)


def area_context(area_path: tuple[str, ...] | list[str], names: dict[str, str]) -> dict[str, str]:
    ctx = {}
    for depth, level in enumerate(LEVELS):
        code = area_path[depth] if depth < len(area_path) else ""
        ctx[f"{level.value}_code"] = code
        ctx[f"{level.value}_name"] = names.get(code, code) if code else ""
    lowest = area_path[-1] if area_path else ""
    ctx["area_code"] = lowest
    ctx["area_name"] = names.get(lowest, lowest)
    return ctx
