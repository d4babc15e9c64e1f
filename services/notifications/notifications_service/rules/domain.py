"""Rules as data, compiled once per version. A rule is checked against the payload model in the
event catalog when an officer saves it (an unknown event type or field is refused with the
reason); its audience names a role assigned to areas (told at the role's own level) or a
subject field of the payload; an urgent rule has an acknowledgement window, a normal one none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from notifications_service.rules.conditions import Condition, compile_condition
from notifications_service.rules.models import AudienceIn, EventTypeInfo, RuleIn, Urgency
from notifications_service.rules.templates import (
    DERIVED,
    area_context,
    derived_fields,
    format_value,
    is_personal,
    payload_fields,
    placeholders,
    render,
    template_fields,
)
from relocation_shared.areas import Level
from relocation_shared.auth import ROLE_LABELS, Role
from relocation_shared.errors import InvalidInput
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.mongo import Doc
from relocation_shared.pii import scrub
from relocation_shared.topics import EMPLOYMENT, GOVERNANCE, PROJECTS

ROUTED_TOPICS = (GOVERNANCE, EMPLOYMENT, PROJECTS)  # the topics the service consumes

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


def _check_template(data: RuleIn, model: type[EventPayload]) -> list[str]:
    """The template's placeholders, each a derived or non-personal payload field."""
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
    return names


def compile_rule(data: RuleIn, *, rule_id: str = "(new)", version: int = 1) -> CompiledRule:
    """Check a rule against the event catalog and compile it. InvalidInput names the field."""
    if data.event_type not in CATALOG.types:
        raise InvalidInput(f"未知的事件类型 {data.event_type}", field="event_type")
    if CATALOG.topic_of(data.event_type) not in ROUTED_TOPICS:
        raise InvalidInput(f"事件 {data.event_type} 不在通知服务订阅的主题中", field="event_type")
    model = latest_model(data.event_type)
    conditions = tuple(compile_condition(model, c, i) for i, c in enumerate(data.conditions))
    audience = tuple(compile_audience(model, a, i) for i, a in enumerate(data.audience))
    names = _check_template(data, model)
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
        title=scrub(data.title),  # belt and braces: the title goes into inbox items and SMS as is
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
TEXT_FIELDS = ("name", "title", "template")


def rule_input(doc: Doc) -> RuleIn:
    """The officer's input of a stored rule (its other fields are the version's bookkeeping)."""
    fields = {k: doc[k] for k in RULE_FIELDS if k in doc}
    # a rule stored before texts were checked loads with its numbers masked, not refused
    fields.update({k: scrub(fields[k]) for k in TEXT_FIELDS if isinstance(fields.get(k), str)})
    return RuleIn.model_validate(fields)


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


def event_type_info(event_type: str) -> EventTypeInfo:
    model = latest_model(event_type)
    fields = payload_fields(model)
    return EventTypeInfo(
        event_type=event_type,
        condition_fields=sorted([*fields, "area_path"]),
        template_fields=[*template_fields(model), *derived_fields()],
        subject_fields=sorted(f for f in fields if f.endswith("subject")),
    )
