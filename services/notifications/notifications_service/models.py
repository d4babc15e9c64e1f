"""Models of the notifications service and its rules, without I/O.

A rule maps an event type and a condition on the event's payload to the cadres who must be
told (by role and area level, or by a subject named in the payload), a Chinese template and an
urgency. Rules are data: they are checked against the payload model in the event catalog when
an officer saves them (an unknown event type or field is refused with the reason), compiled
once per version, and evaluated without `eval`: a condition is a list of {field, op, value}
that must all hold. Templates may use only masked (`*_masked`) or non-personal fields.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
import types
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import Enum, StrEnum
from typing import Any, Protocol, Union, get_args, get_origin

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from relocation_shared.areas import LEVEL_LABELS, LEVELS, Level
from relocation_shared.auth import ROLE_LABELS, Role
from relocation_shared.batch import Input
from relocation_shared.errors import InvalidInput
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.pii import scrub
from relocation_shared.topics import EMPLOYMENT, GOVERNANCE, PROJECTS

Doc = dict[str, Any]
ROUTED_TOPICS = (GOVERNANCE, EMPLOYMENT, PROJECTS)  # the topics the service consumes
CST = timezone(timedelta(hours=8), "CST")  # China has one time zone and no daylight saving


class Channel(StrEnum):
    INBOX = "inbox"  # 站内消息 (always on)
    WEBHOOK = "webhook"  # 政务协同平台消息网关
    SMS = "sms"  # 短信网关


CHANNEL_LABELS = {Channel.INBOX: "站内消息", Channel.WEBHOOK: "政务消息推送", Channel.SMS: "短信"}


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


ORDERING = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})
ORDERABLE = (int, float, date, datetime)


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    SENDING = "sending"  # claimed by a dispatcher until lease_until
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up: in the dead-letter list until an operator replays it


DELIVERY_STATE_LABELS = {
    DeliveryState.PENDING: "待发送",
    DeliveryState.SENDING: "发送中",
    DeliveryState.DELIVERED: "已送达",
    DeliveryState.DEAD: "发送失败(待人工重发)",
}


class Escalation(StrEnum):
    NONE = "none"  # not urgent: never escalates
    PENDING = "pending"  # urgent, waiting for its acknowledgement
    ESCALATED = "escalated"  # the next level up was told
    EXHAUSTED = "exhausted"  # nobody above to tell
    ACKNOWLEDGED = "acknowledged"


# The role assigned at each level (governance's staffing), and the role told when a
# notification climbs to that level. Towns have no staff of their own in the registry.
ROLE_LEVEL: dict[str, Level] = {
    Role.BUILDING_HEAD.value: Level.BUILDING,
    Role.GRID_WORKER.value: Level.GRID,
    Role.COMMUNITY_CADRE.value: Level.COMMUNITY,
    Role.PARTY_SECRETARY.value: Level.COMMUNITY,
    Role.COUNTY_OFFICER.value: Level.COUNTY,
    Role.CITY_OFFICER.value: Level.CITY,
}
LEVEL_ROLE: dict[Level, str] = {
    Level.BUILDING: Role.BUILDING_HEAD.value,
    Level.GRID: Role.GRID_WORKER.value,
    Level.COMMUNITY: Role.COMMUNITY_CADRE.value,
    Level.COUNTY: Role.COUNTY_OFFICER.value,
    Level.CITY: Role.CITY_OFFICER.value,
}


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role or "相关人员"


# --- rule input ----------------------------------------------------------------------------------


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
    name: str = Field(min_length=1, max_length=60, description="规则名称")
    event_type: str = Field(min_length=1, max_length=100)
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=10)
    audience: list[AudienceIn] = Field(min_length=1, max_length=10)
    title: str = Field(min_length=1, max_length=40)
    template: str = Field(min_length=1, max_length=500, description="正文模板,用 {字段} 引用事件字段")
    urgency: Urgency = Urgency.NORMAL
    ack_window_minutes: int | None = Field(None, ge=1, le=10080, description="紧急通知的确认时限(分钟)")
    enabled: bool = True


class RuleUpdate(RuleIn):
    expected_version: int | None = Field(None, ge=1, description="乐观锁:当前版本号")


# --- what templates and conditions may use --------------------------------------------------------

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


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without None, whether None is allowed)."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        return (args[0] if len(args) == 1 else Union[tuple(args)]), optional  # noqa: UP007
    return annotation, False


def payload_fields(model: type[EventPayload]) -> dict[str, Any]:
    return {name: info.annotation for name, info in model.model_fields.items()}


def template_fields(model: type[EventPayload]) -> list[str]:
    """The payload fields a template may name: everything that is not personal data."""
    fields = payload_fields(model)
    return sorted(f for f in fields if not is_personal(f, fields))


# --- templates -----------------------------------------------------------------------------------

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
        return value.astimezone(CST).strftime("%Y-%m-%d %H:%M")
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


# --- conditions ----------------------------------------------------------------------------------


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


def _typed(annotation: Any, value: Any, where: str) -> Any:
    try:
        typed = TypeAdapter(annotation).validate_python(value)
    except ValidationError as exc:
        raise InvalidInput(f"条件的取值与字段类型不符:{exc.errors()[0].get('msg', '')}", field=where) from exc
    if isinstance(typed, datetime) and typed.tzinfo is None:
        raise InvalidInput("时间应带时区(如 2025-06-30T08:00:00+08:00)", field=where)
    return typed


def compile_condition(model: type[EventPayload], c: ConditionIn, index: int) -> Condition:
    where = f"conditions.{index}"
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
    is_list = get_origin(annotation) is list
    if c.op is Op.EXISTS:
        if not isinstance(c.value, bool):
            raise InvalidInput("exists 的取值应为 true 或 false", field=f"{where}.value")
        return Condition(field=c.field, op=c.op, value=c.value)
    if is_list:
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


# --- audience and compiled rules -----------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    role: str | None = None
    level: Level | None = None
    subject_field: str | None = None


def compile_audience(model: type[EventPayload], a: AudienceIn, index: int) -> Audience:
    where = f"audience.{index}"
    if (a.role is None) == (a.subject_field is None):
        raise InvalidInput("接收人应指定角色(role)或事件中的人员字段(subject_field),二者取一", field=where)
    if a.subject_field is not None:
        fields = payload_fields(model)
        if a.subject_field not in fields:
            raise InvalidInput(f"事件 {model.event_type} 没有字段 {a.subject_field}", field=f"{where}.subject_field")
        if not a.subject_field.endswith("subject"):
            raise InvalidInput("subject_field 应为人员标识字段(…_subject)", field=f"{where}.subject_field")
        return Audience(subject_field=a.subject_field)
    assert a.role is not None
    own = ROLE_LEVEL.get(a.role)
    if own is None:
        raise InvalidInput(f"角色 {a.role} 不是可分配到区域的人员角色", field=f"{where}.role")
    if a.level is not None and a.level is not own:
        raise InvalidInput(f"{role_label(a.role)}只分配到{own.label},不能按{a.level.label}通知", field=f"{where}.level")
    return Audience(role=a.role, level=own)


@dataclass(frozen=True)
class CompiledRule:
    id: str
    version: int
    name: str
    event_type: str
    model: type[EventPayload]
    conditions: tuple[Condition, ...]
    audience: tuple[Audience, ...]
    title: str
    template: str
    fields: tuple[str, ...]
    urgency: Urgency
    ack_window: timedelta | None

    def matches(self, env: Envelope, payload: EventPayload) -> bool:
        return env.type == self.event_type and all(c.holds(env, payload) for c in self.conditions)

    def render(self, env: Envelope, payload: EventPayload, area_names: dict[str, str]) -> str:
        ctx = area_context(env.area_path, area_names)
        ctx["occurred_at"] = format_value("occurred_at", env.occurred_at)
        for name in self.fields:
            if name not in DERIVED:
                ctx[name] = format_value(name, getattr(payload, name, None))
        return render(self.template, ctx)


def compile_rule(data: RuleIn, *, rule_id: str = "(new)", version: int = 1) -> CompiledRule:
    """Check a rule against the event catalog and compile it. InvalidInput names the field."""
    if data.event_type not in CATALOG.types:
        raise InvalidInput(f"未知的事件类型 {data.event_type}", field="event_type")
    if CATALOG.topic_of(data.event_type) not in ROUTED_TOPICS:
        raise InvalidInput(f"事件 {data.event_type} 不在通知服务订阅的主题中", field="event_type")
    model = latest_model(data.event_type)
    conditions = tuple(compile_condition(model, c, i) for i, c in enumerate(data.conditions))
    audience = tuple(compile_audience(model, a, i) for i, a in enumerate(data.audience))
    try:
        names = placeholders(data.template)
    except ValueError as exc:
        raise InvalidInput(f"模板格式错误:{exc}", field="template") from exc
    fields = payload_fields(model)
    for name in names:
        if name in DERIVED:
            continue
        if name not in fields:
            allowed = ", ".join([*template_fields(model), "community_name", "grid_name", "building_name", "…"])
            raise InvalidInput(f"事件 {data.event_type} 没有字段 {name}(模板可用:{allowed})", field="template")
        if is_personal(name, fields):
            raise InvalidInput(f"模板不能使用个人信息字段 {name},请用脱敏字段(…_masked)", field="template")
    if data.urgency is Urgency.URGENT and data.ack_window_minutes is None:
        raise InvalidInput("紧急通知应设置确认时限", field="ack_window_minutes")
    if data.urgency is Urgency.NORMAL and data.ack_window_minutes is not None:
        raise InvalidInput("只有紧急通知需要确认时限", field="ack_window_minutes")
    return CompiledRule(
        id=rule_id,
        version=version,
        name=data.name,
        event_type=data.event_type,
        model=model,
        conditions=conditions,
        audience=audience,
        title=data.title,
        template=data.template,
        fields=tuple(dict.fromkeys(names)),
        urgency=data.urgency,
        ack_window=timedelta(minutes=data.ack_window_minutes) if data.ack_window_minutes else None,
    )


def latest_model(event_type: str) -> type[EventPayload]:
    version = 1
    while True:
        try:
            CATALOG.model_for(event_type, version + 1)
        except Exception:
            return CATALOG.model_for(event_type, version)
        version += 1


RULE_FIELDS = tuple(RuleIn.model_fields)


def rule_input(doc: Doc) -> RuleIn:
    return RuleIn.model_validate({k: doc[k] for k in RULE_FIELDS if k in doc})


class RuleCache:
    """Compiled rules by (id, version): a version never changes, so it is compiled once."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, int], CompiledRule] = {}

    def get(self, doc: Doc) -> CompiledRule:
        key = (doc["_id"], int(doc["version"]))
        rule = self._compiled.get(key)
        if rule is None:
            rule = compile_rule(rule_input(doc), rule_id=doc["_id"], version=int(doc["version"]))
            if len(self._compiled) > 10_000:
                self._compiled.clear()
            self._compiled[key] = rule
        return rule


# --- recipients ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    subject: str
    role: str
    depth: int  # the level they answer for: province 0 … building 6
    area_code: str
    staff_id: str | None = None
    name_masked: str = ""


class Directory(Protocol):
    """The cadres known from the registry's staffing events (active assignments only)."""

    async def at(self, area_code: str, role: str) -> list[Doc]: ...

    async def by_subject(self, subject: str) -> list[Doc]: ...


class MemoryDirectory:
    """A directory read ahead of time (for a batch of events), answered from memory."""

    def __init__(self, docs: list[Doc]) -> None:
        self.by_area: dict[tuple[str, str], list[Doc]] = {}
        self.by_subj: dict[str, list[Doc]] = {}
        for d in sorted(docs, key=lambda d: d["_id"]):
            if d.get("active", True):
                self.by_area.setdefault((d["area_code"], d["role"]), []).append(d)
                self.by_subj.setdefault(d["subject"], []).append(d)

    async def at(self, area_code: str, role: str) -> list[Doc]:
        return self.by_area.get((area_code, role), [])

    async def by_subject(self, subject: str) -> list[Doc]:
        return self.by_subj.get(subject, [])


def _recipient(doc: Doc) -> Recipient:
    return Recipient(
        subject=doc["subject"],
        role=doc["role"],
        depth=Level(doc["area_level"]).depth,
        area_code=doc["area_code"],
        staff_id=doc["_id"],
        name_masked=doc.get("name_masked", ""),
    )


async def resolve_recipients(
    rule: CompiledRule, env: Envelope, payload: EventPayload, directory: Directory
) -> list[Recipient]:
    """The cadres a rule tells about an event, each once (the first audience entry wins)."""
    out: dict[str, Recipient] = {}
    path = env.area_path
    for a in rule.audience:
        if a.subject_field is not None:
            subject = getattr(payload, a.subject_field, None)
            if not subject or subject in out:
                continue
            entries = [d for d in await directory.by_subject(str(subject)) if d["area_code"] in path]
            if entries:
                deepest = max(entries, key=lambda d: Level(d["area_level"]).depth)
                out[subject] = _recipient(deepest)
            else:  # not (yet) in the directory: the inbox is keyed by subject, so tell them anyway
                out[subject] = Recipient(subject=str(subject), role="", depth=len(path) - 1, area_code=path[-1])
            continue
        assert a.role is not None and a.level is not None
        if a.level.depth >= len(path):
            continue  # the event does not reach that level (a county-wide event has no grid)
        for doc in await directory.at(path[a.level.depth], a.role):
            out.setdefault(doc["subject"], _recipient(doc))
    return list(out.values())


async def escalation_targets(
    area_path: tuple[str, ...] | list[str], from_depth: int, directory: Directory
) -> tuple[Level | None, list[Recipient]]:
    """The next level up from `from_depth` that has someone to tell, and whom (its role's staff)."""
    for depth in range(min(from_depth, len(area_path)) - 1, 0, -1):
        level = LEVELS[depth]
        role = LEVEL_ROLE.get(level)
        if role is None:
            continue
        docs = await directory.at(area_path[depth], role)
        if docs:
            return level, list({d["subject"]: _recipient(d) for d in docs}.values())
    return None, []


def notification_key(event_id: str, subject: str, rule_id: str, escalation_depth: int | None = None) -> str:
    key = f"{event_id}|{subject}|{rule_id}"
    return key if escalation_depth is None else f"{key}|escalated-to-{escalation_depth}"


def notification_id(key: str) -> str:
    """Deterministic: the same (event, recipient, rule) always makes the same id."""
    return "ntf-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def delivery_id(nid: str, channel: Channel | str) -> str:
    return f"{nid}:{Channel(channel).value}"


# --- retries and quiet hours ---------------------------------------------------------------------


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempt + 1` after `attempt` failures: exponential (base·2^(n-1))
    up to `cap`, with 'equal jitter' (between half and all of it) so that retries of many
    deliveries after one gateway outage spread out instead of arriving together."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    r = (rng or random).random()
    return ceiling / 2 + r * ceiling / 2


def retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 425, 429)


class QuietHours(Input):
    start: time = Field(description="免打扰开始时间(北京时间),如 22:00")
    end: time = Field(description="免打扰结束时间,如 07:00")


def quiet_until(now: datetime, quiet: QuietHours | None, *, utc_offset_hours: int = 8) -> datetime | None:
    """When quiet hours hold at `now`, the moment they end (UTC); otherwise None. A window whose
    end is before its start runs over midnight (22:00–07:00)."""
    if quiet is None or quiet.start == quiet.end:
        return None
    tz = timezone(timedelta(hours=utc_offset_hours))
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    start, end = quiet.start.replace(tzinfo=None), quiet.end.replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(UTC)


# --- API models ----------------------------------------------------------------------------------


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

    @classmethod
    def from_doc(cls, d: Doc) -> Rule:
        return cls(
            id=d.get("rule_id", d["_id"]),
            version=d["version"],
            name=d["name"],
            event_type=d["event_type"],
            conditions=d.get("conditions", []),
            audience=d["audience"],
            title=d["title"],
            template=d["template"],
            urgency=d["urgency"],
            ack_window_minutes=d.get("ack_window_minutes"),
            enabled=d.get("enabled", True),
            deleted=d.get("deleted", False),
            default=d.get("default", False),
            updated_at=d["updated_at"],
            updated_by=d.get("updated_by", ""),
        )


class EventTypeInfo(BaseModel):
    event_type: str
    condition_fields: list[str]
    template_fields: list[str]
    subject_fields: list[str]


def event_type_info(event_type: str) -> EventTypeInfo:
    model = latest_model(event_type)
    fields = payload_fields(model)
    return EventTypeInfo(
        event_type=event_type,
        condition_fields=sorted([*fields, "area_path"]),
        template_fields=[*template_fields(model), *derived_fields()],
        subject_fields=sorted(f for f in fields if f.endswith("subject")),
    )


class InboxItem(BaseModel):
    id: str
    title: str
    text: str
    urgency: Urgency
    urgency_label: str
    event_type: str
    event_id: str
    rule_id: str
    rule_version: int
    area_path: list[str]
    created_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None
    acked_at: datetime | None
    ack_due_at: datetime | None
    escalated_from: str | None

    @classmethod
    def from_doc(cls, d: Doc) -> InboxItem:
        return cls(
            id=d["_id"],
            title=d["title"],
            text=d["text"],
            urgency=d["urgency"],
            urgency_label=URGENCY_LABELS[Urgency(d["urgency"])],
            event_type=d["event_type"],
            event_id=d["event_id"],
            rule_id=d["rule_id"],
            rule_version=d["rule_version"],
            area_path=d["area_path"],
            created_at=d["created_at"],
            delivered_at=d.get("inbox_at"),
            read_at=d.get("read_at"),
            acked_at=d.get("acked_at"),
            ack_due_at=d.get("ack_due_at"),
            escalated_from=d.get("escalated_from"),
        )


class PreferencesIn(Input):
    channels: list[Channel] = Field(min_length=1, max_length=3, description="inbox 站内消息 / webhook / sms")
    quiet_hours: QuietHours | None = None


class Preferences(BaseModel):
    subject: str
    channels: list[Channel]
    quiet_hours: QuietHours | None
    available_channels: list[Channel]
    default: bool = Field(description="no preferences saved yet: the defaults apply")


class Attempt(BaseModel):
    attempt: int
    at: datetime
    outcome: str
    status: int | None = None
    error: str | None = None
    ms: float | None = None
    by: str | None = None


class Delivery(BaseModel):
    id: str
    channel: Channel
    channel_label: str
    state: DeliveryState
    state_label: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    replays: int
    history: list[Attempt] = []

    @classmethod
    def from_doc(cls, d: Doc, history: list[Doc] | None = None) -> Delivery:
        ch, st = Channel(d["channel"]), DeliveryState(d["state"])
        return cls(
            id=d["_id"],
            channel=ch,
            channel_label=CHANNEL_LABELS[ch],
            state=st,
            state_label=DELIVERY_STATE_LABELS[st],
            attempts=d.get("attempts", 0),
            next_attempt_at=d.get("next_attempt_at") if st is DeliveryState.PENDING else None,
            delivered_at=d.get("delivered_at"),
            last_error=d.get("last_error"),
            replays=d.get("replays", 0),
            history=[
                Attempt(
                    attempt=h["attempt"],
                    at=h["at"],
                    outcome=h["outcome"],
                    status=h.get("status"),
                    error=h.get("error"),
                    ms=h.get("ms"),
                    by=h.get("by"),
                )
                for h in history or []
            ],
        )


class NotificationStatus(BaseModel):
    notification: InboxItem
    recipient_subject: str
    recipient_role: str
    recipient_role_label: str
    escalation: Escalation
    deliveries: list[Delivery]


class DeadLetter(BaseModel):
    delivery: Delivery
    notification_id: str
    recipient_subject: str
    event_type: str
    title: str
    area_path: list[str]


class StaffEntry(BaseModel):
    staff_id: str
    subject: str
    name_masked: str
    role: str
    role_label: str
    area_code: str
    area_level: Level
    area_level_label: str
    area_path: list[str]

    @classmethod
    def from_doc(cls, d: Doc) -> StaffEntry:
        level = Level(d["area_level"])
        return cls(
            staff_id=d["_id"],
            subject=d["subject"],
            name_masked=d.get("name_masked", ""),
            role=d["role"],
            role_label=role_label(d["role"]),
            area_code=d["area_code"],
            area_level=level,
            area_level_label=LEVEL_LABELS[level],
            area_path=d.get("area_path", []),
        )


# --- what a channel sends ------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: str
    recipient: str  # the cadre's subject: gateways resolve it to an account or a phone number
    title: str
    text: str
    urgency: str
    event_type: str
    created_at: datetime
    ack_due_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "notification_id": self.notification_id,
            "recipient": self.recipient,
            "title": self.title,
            "text": self.text,
            "urgency": self.urgency,
            "event_type": self.event_type,
            "created_at": self.created_at.isoformat(),
            "ack_due_at": self.ack_due_at.isoformat() if self.ack_due_at else None,
        }

    @classmethod
    def from_doc(cls, d: Doc) -> OutgoingMessage:
        return cls(
            notification_id=d["_id"],
            recipient=d["recipient"],
            title=d["title"],
            text=d["text"],
            urgency=d["urgency"],
            event_type=d["event_type"],
            created_at=d["created_at"],
            ack_due_at=d.get("ack_due_at"),
            extra=d,
        )


Sleep = Callable[[float], Awaitable[None]]


# --- the rules seeded at start --------------------------------------------------------------------

_ZERO_PLACE = "{community_name}{grid_name}{building_name}"


def default_rules() -> list[tuple[str, RuleIn]]:
    """The platform's standing rules, by fixed id. Seeded once each (an officer may edit or delete
    them afterwards); rules for event types the catalog does not know yet are left out."""
    rules: list[tuple[str, RuleIn]] = [
        (
            "default-zero-employment-raised",
            RuleIn(
                name="零就业家庭预警",
                event_type="employment.household_zero_employment_raised",
                audience=[AudienceIn(role="community_cadre"), AudienceIn(role="grid_worker")],
                title="零就业家庭预警",
                template="零就业家庭预警:" + _ZERO_PLACE + "一户(户编号{household_id})出现零就业,"
                "劳动力{labour_count}人,请及时跟进帮扶",
                urgency=Urgency.URGENT,
                ack_window_minutes=240,
            ),
        ),
        (
            "default-zero-employment-cleared",
            RuleIn(
                name="零就业家庭清零",
                event_type="employment.household_zero_employment_cleared",
                audience=[AudienceIn(role="community_cadre"), AudienceIn(role="grid_worker")],
                title="零就业家庭已清零",
                template="零就业家庭清零:" + _ZERO_PLACE + "一户(户编号{household_id})已有{employed_count}人就业,"
                "零就业预警解除",
            ),
        ),
        (
            "default-request-dispatched",
            RuleIn(
                name="社区派单通知网格员",
                event_type="governance.request_dispatched",
                audience=[AudienceIn(subject_field="assignee_subject")],
                title="社区派单",
                template="社区派单:您有一条{category}诉求待接单(诉求编号{request_id}),请于{accept_due_at}前接单办理",
            ),
        ),
        (
            "default-request-overdue-building",
            RuleIn(
                name="诉求超期(楼栋)提醒网格员",
                event_type="governance.request_overdue",
                conditions=[ConditionIn(field="level", op=Op.EQ, value="building")],
                audience=[AudienceIn(role="grid_worker")],
                title="诉求超期提醒",
                template="诉求超期提醒:{building_name}一条{urgency}{category}诉求在{step}环节已超过期限"
                "({deadline_at}),请督促办理(诉求编号{request_id})",
                urgency=Urgency.URGENT,
                ack_window_minutes=120,
            ),
        ),
        (
            "default-request-overdue-grid",
            RuleIn(
                name="诉求超期(网格)提醒社区干部",
                event_type="governance.request_overdue",
                conditions=[ConditionIn(field="level", op=Op.EQ, value="grid")],
                audience=[AudienceIn(role="community_cadre")],
                title="诉求超期提醒",
                template="诉求超期提醒:{grid_name}一条{urgency}{category}诉求在{step}环节已超过期限"
                "({deadline_at}),请督促办理(诉求编号{request_id})",
                urgency=Urgency.URGENT,
                ack_window_minutes=120,
            ),
        ),
        (
            "default-request-overdue-community",
            RuleIn(
                name="诉求超期(社区及以上)提醒县级",
                event_type="governance.request_overdue",
                conditions=[ConditionIn(field="level", op=Op.IN, value=["community", "town", "county_department"])],
                audience=[AudienceIn(role="county_officer")],
                title="诉求超期提醒",
                template="诉求超期提醒:{community_name}一条{urgency}{category}诉求在{level}层级的{step}环节"
                "已超过期限({deadline_at}),请督办(诉求编号{request_id})",
                urgency=Urgency.URGENT,
                ack_window_minutes=240,
            ),
        ),
        (
            "default-dispute-failed",
            RuleIn(
                name="矛盾纠纷调解不成",
                event_type="governance.dispute_mediated",
                conditions=[ConditionIn(field="outcome", op=Op.EQ, value="failed")],
                audience=[AudienceIn(role="community_cadre")],
                title="纠纷调解不成",
                template="矛盾纠纷调解不成:{community_name}一起{kind}经{sessions}次调解未能化解,"
                "请社区研究处置(纠纷编号{dispute_id})",
            ),
        ),
        (
            "default-dividend-paid",
            RuleIn(
                name="项目分红发放",
                event_type="projects.dividend_paid",
                audience=[AudienceIn(role="community_cadre")],
                title="分红发放",
                template="分红发放:{community_name}的项目分红{amount_fen}已发放(对象:{recipient},"
                "发放日期{paid_on}),请做好公示和台账登记",
            ),
        ),
    ]
    return [(rid, r) for rid, r in rules if r.event_type in CATALOG.types]
