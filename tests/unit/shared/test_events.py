"""The envelope and the catalog: every registered event type round-trips through bytes, and
whatever does not fit (unknown type or version, a payload with a missing, extra or wrong-typed
field, malformed JSON, a naive timestamp, a raw ID or phone number) is refused with a reason."""

from __future__ import annotations

import json
import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import annotated_types
import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from relocation_shared.events import CATALOG, Catalog, Envelope, EventPayload, InvalidEvent
from relocation_shared.events.employment import EmploymentEnded, WorkerEmployed
from relocation_shared.events.governance import ResidentMovedOut
from relocation_shared.events.vocab import EmploymentType, HouseholdKind
from relocation_shared.pii import check_digit
from relocation_shared.topics import DEAD_LETTER, EMPLOYMENT, GOVERNANCE, NOTIFICATIONS, PROJECTS
from tests.clock import NOW

PATH = ("520000", "520300", "520330", "520330001000", "520330001001")
WHEN = datetime(2025, 6, 2, 8, 30, 15, 123000, tzinfo=UTC)
_BASE17 = "52033019900101123"
RAW_ID = _BASE17 + check_digit(_BASE17)
RAW_PHONE = "13912345678"


# --- a valid payload of any registered model, from its fields --------------------------------------


def _number(info: FieldInfo, default: int) -> int:
    value = default
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            value = max(value, typing.cast(int, m.ge))
        elif isinstance(m, annotated_types.Gt):
            value = max(value, typing.cast(int, m.gt) + 1)
    for m in info.metadata:
        if isinstance(m, annotated_types.Le):
            value = min(value, typing.cast(int, m.le))
        elif isinstance(m, annotated_types.Lt):
            value = min(value, typing.cast(int, m.lt) - 1)
    return value


def _value(annotation: Any, info: FieldInfo, name: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return _value(next(a for a in typing.get_args(annotation) if a is not type(None)), info, name)
    if origin is list:
        return [_value(typing.get_args(annotation)[0], FieldInfo(), name)]
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return list(annotation)[-1]
        if issubclass(annotation, bool):
            return True
        if issubclass(annotation, int):
            return _number(info, 3)
        if issubclass(annotation, float):
            return float(_number(info, 2)) + 0.5
        if issubclass(annotation, datetime):
            return WHEN - timedelta(hours=1)
        if issubclass(annotation, date):
            return date(2025, 5, 31)
        if issubclass(annotation, str):
            return f"{name} 值"
        if issubclass(annotation, BaseModel):
            return annotation(**_fields(annotation))
    raise AssertionError(f"no sample value for {name}: {annotation!r}")


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {name: _value(f.annotation, f, name) for name, f in model.model_fields.items()}


def sample(model: type[EventPayload]) -> EventPayload:
    return model(**_fields(model))


REGISTERED = sorted(CATALOG._models.items())  # every (type, version) → model the services registered


def test_the_catalog_registers_the_services_events() -> None:
    types_ = set(CATALOG.types)
    assert {
        "governance.household_registered",
        "governance.resident_registered",
        "governance.resident_moved_out",
        "employment.worker_employed",
        "employment.household_zero_employment_raised",
        "projects.project_approved",
    } <= types_
    assert {t for (t, _v) in CATALOG._models} == types_
    assert len(REGISTERED) >= 40


@pytest.mark.parametrize(("key", "model"), REGISTERED, ids=[f"{t}.v{v}" for (t, v), _ in REGISTERED])
def test_every_registered_event_round_trips_through_bytes(key: tuple[str, int], model: type[EventPayload]) -> None:
    payload = sample(model)
    assert (model.event_type, model.schema_version) == key
    env = CATALOG.envelope(
        payload, producer="test", area_path=list(PATH), aggregate_id="agg-1", correlation_id="req-9", occurred_at=WHEN
    )
    assert (env.type, env.schema_version, env.area_path) == (key[0], key[1], PATH)

    parsed_env, parsed_payload = CATALOG.parse(env.to_bytes())

    assert parsed_env == env
    assert parsed_env.occurred_at == WHEN and parsed_env.correlation_id == "req-9"
    assert type(parsed_payload) is model
    assert parsed_payload == payload


def test_parse_accepts_text_as_well_as_bytes() -> None:
    env = CATALOG.envelope(
        sample(WorkerEmployed), producer="employment", area_path=PATH, aggregate_id="h-1", occurred_at=NOW
    )
    assert CATALOG.parse(env.to_bytes().decode())[0] == env


def test_an_envelope_gets_a_fresh_time_ordered_id_and_keeps_its_instant() -> None:
    a = CATALOG.envelope(
        sample(WorkerEmployed), producer="employment", area_path=PATH, aggregate_id="h-1", occurred_at=NOW
    )
    b = CATALOG.envelope(
        sample(WorkerEmployed), producer="employment", area_path=PATH, aggregate_id="h-1", occurred_at=NOW
    )
    assert a.id != b.id and a.id < b.id
    assert a.occurred_at == b.occurred_at == NOW and a.occurred_at.tzinfo is not None


def test_occurred_at_in_another_zone_is_kept_in_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    env = CATALOG.envelope(
        sample(WorkerEmployed),
        producer="employment",
        area_path=PATH,
        aggregate_id="h-1",
        occurred_at=datetime(2025, 6, 2, 16, 30, tzinfo=beijing),
    )
    assert env.occurred_at == datetime(2025, 6, 2, 8, 30, tzinfo=UTC)
    assert env.occurred_at.utcoffset() == timedelta(0)


def test_the_key_is_the_aggregate_id_as_bytes() -> None:
    env = CATALOG.envelope(
        sample(WorkerEmployed), producer="employment", area_path=PATH, aggregate_id="户-0193a", occurred_at=NOW
    )
    assert env.key == "户-0193a".encode()


# --- refusals ----------------------------------------------------------------------------------


def _raw(**changes: Any) -> dict[str, Any]:
    env = CATALOG.envelope(
        sample(WorkerEmployed), producer="employment", area_path=PATH, aggregate_id="h-1", occurred_at=NOW
    )
    doc = json.loads(env.to_bytes())
    doc.update(changes)
    return doc


def _refused(doc: dict[str, Any] | bytes) -> str:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    with pytest.raises(InvalidEvent) as exc:
        CATALOG.parse(raw)
    assert exc.value.reason == str(exc.value)
    return exc.value.reason


def test_a_well_formed_envelope_parses() -> None:
    env, payload = CATALOG.parse(json.dumps(_raw()).encode())
    assert isinstance(payload, WorkerEmployed) and env.type == "employment.worker_employed"


def test_an_unknown_type_is_refused() -> None:
    reason = _refused(_raw(type="employment.worker_teleported"))
    assert "unknown event type" in reason and "employment.worker_teleported" in reason


def test_an_unknown_schema_version_is_refused() -> None:
    reason = _refused(_raw(schema_version=7))
    assert "unknown schema version 7" in reason and "employment.worker_employed" in reason


def test_a_payload_missing_a_field_is_refused_naming_it() -> None:
    doc = _raw()
    del doc["payload"]["employer"]
    reason = _refused(doc)
    assert "employment.worker_employed" in reason and "employer" in reason and "required" in reason.lower()


def test_a_payload_with_an_extra_field_is_refused_naming_it() -> None:
    doc = _raw()
    doc["payload"]["national_id"] = "x"
    reason = _refused(doc)
    assert "national_id" in reason and "extra" in reason.lower()


@pytest.mark.parametrize(
    ("field", "value"),
    [("monthly_wage", "三千五"), ("started_on", "not-a-date"), ("employment_type", "astronaut"), ("monthly_wage", -1)],
)
def test_a_payload_with_a_wrong_typed_field_is_refused_naming_it(field: str, value: Any) -> None:
    doc = _raw()
    doc["payload"][field] = value
    reason = _refused(doc)
    assert reason.startswith("bad employment.worker_employed v1 payload") and field in reason


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b'{"type": "employment.worker_employed",', b"\xff\xfe"])
def test_malformed_json_is_refused(raw: bytes) -> None:
    assert _refused(raw).startswith("malformed envelope")


def test_an_envelope_missing_its_own_fields_is_refused_naming_them() -> None:
    doc = _raw()
    del doc["aggregate_id"]
    assert "aggregate_id" in _refused(doc)
    assert "producer" in _refused(_raw(producer=""))
    assert "surprise" in _refused(_raw(surprise=1))


def test_a_naive_occurred_at_is_refused() -> None:
    reason = _refused(_raw(occurred_at="2025-06-02T08:30:00"))
    assert "occurred_at" in reason and "time zone" in reason
    with pytest.raises(ValueError, match="time zone"):
        Envelope(
            type="employment.worker_employed",
            schema_version=1,
            occurred_at=datetime(2025, 6, 2, 8, 30),
            producer="employment",
            area_path=PATH,
            aggregate_id="h-1",
            payload={},
        )


def test_envelope_refuses_a_naive_occurred_at_argument() -> None:
    with pytest.raises(ValueError, match="time zone"):
        CATALOG.envelope(
            sample(WorkerEmployed),
            producer="employment",
            area_path=PATH,
            aggregate_id="h-1",
            occurred_at=datetime(2025, 6, 2, 8, 30),
        )


def test_envelope_refuses_an_unregistered_payload_model() -> None:
    class Stray(EventPayload):
        x: int

    with pytest.raises(InvalidEvent):
        CATALOG.envelope(Stray(x=1), producer="test", area_path=PATH, aggregate_id="a", occurred_at=NOW)


# --- personal data never travels -------------------------------------------------------------


def _employed(**changes: Any) -> WorkerEmployed:
    fields: dict[str, Any] = {
        "spell_id": "0193a0b0-0000-7000-8000-000000000001",
        "resident_id": "0193a0b0-0000-7000-8000-000000000002",
        "household_id": "0193a0b0-0000-7000-8000-000000000003",
        "employment_type": EmploymentType.LOCAL,
        "organised_export": False,
        "employer": "习水县红色旅游公司",
        "monthly_wage": 3500,
        "started_on": date(2025, 3, 1),
    } | changes
    return WorkerEmployed(**fields)


@pytest.mark.parametrize(
    "payload",
    [
        _employed(employer=f"联系人电话{RAW_PHONE}"),
        _employed(employer=f"老板身份证{RAW_ID}的工地"),
        _employed(employer=f"身份证{RAW_ID[:-1]}x"),
        _employed(destination=f"浙江宁波,{RAW_PHONE}"),
        EmploymentEnded(
            spell_id="s",
            resident_id="r",
            household_id="h",
            employment_type=EmploymentType.LOCAL,
            organised_export=False,
            monthly_wage=3000,
            started_on=date(2025, 1, 1),
            ended_on=date(2025, 2, 1),
            reason=f"回老家,电话{RAW_PHONE}",
        ),
        ResidentMovedOut(
            resident_id="r",
            household_id="h",
            household_kind=HouseholdKind.REGISTERED_POOR,
            labour_capacity=True,
            moved_out_on=date(2025, 1, 1),
            reason=f"投靠子女({RAW_ID})",
        ),
    ],
    ids=[
        "phone-in-employer",
        "id-in-employer",
        "id-lowercase-x",
        "phone-in-destination",
        "phone-in-reason",
        "id-in-reason",
    ],
)
def test_envelope_refuses_a_payload_carrying_a_raw_id_or_phone(payload: EventPayload) -> None:
    with pytest.raises(InvalidEvent) as exc:
        CATALOG.envelope(payload, producer="test", area_path=PATH, aggregate_id="h", occurred_at=NOW)
    assert payload.event_type in exc.value.reason
    assert "national ID or phone number" in exc.value.reason
    assert RAW_ID not in exc.value.reason and RAW_PHONE not in exc.value.reason  # the reason never repeats it


def test_amounts_ids_and_area_codes_are_not_mistaken_for_personal_data() -> None:
    payload = _employed(
        employer="社区帮扶车间 520330001001",
        destination="520330001001-G01-B03",
        monthly_wage=13_912_345_678,  # a number is an amount, never a phone number
        spell_id="0193a0b0-0000-7000-8000-13912345678a",
    )
    env = CATALOG.envelope(payload, producer="employment", area_path=PATH, aggregate_id="h", occurred_at=NOW)
    assert env.payload["monthly_wage"] == 13_912_345_678


# --- registration and topics -------------------------------------------------------------------


def test_registering_the_same_type_and_version_twice_raises() -> None:
    catalog = Catalog()

    @catalog.event("test.thing_happened", version=1, topic="relocation.test")
    class ThingHappened(EventPayload):
        n: int

    class ThingHappenedAgain(EventPayload):
        n: int

    with pytest.raises(ValueError, match=r"test\.thing_happened v1 registered twice"):
        catalog.event("test.thing_happened", version=1, topic="relocation.test")(ThingHappenedAgain)
    assert catalog.model_for("test.thing_happened", 1) is ThingHappened

    @catalog.event("test.thing_happened", version=2, topic="relocation.test")
    class ThingHappenedV2(EventPayload):
        n: int
        m: int

    assert catalog.model_for("test.thing_happened", 2) is ThingHappenedV2
    assert ThingHappened.schema_version == 1 and ThingHappenedV2.schema_version == 2


def test_the_platform_catalog_refuses_a_second_registration_too() -> None:
    class Impostor(EventPayload):
        x: int

    with pytest.raises(ValueError, match="registered twice"):
        CATALOG.event("employment.worker_employed", version=1, topic=EMPLOYMENT)(Impostor)
    assert CATALOG.model_for("employment.worker_employed", 1) is WorkerEmployed
    assert Impostor.event_type == ""


def test_topic_of_maps_each_service_prefix_to_its_topic() -> None:
    expected = {
        "governance": GOVERNANCE,
        "employment": EMPLOYMENT,
        "projects": PROJECTS,
        "notifications": NOTIFICATIONS,
    }
    prefixes = {t.split(".", 1)[0] for t in CATALOG.types}
    assert {"governance", "employment"} <= prefixes <= set(expected)
    for event_type in CATALOG.types:
        assert CATALOG.topic_of(event_type) == expected[event_type.split(".", 1)[0]], event_type
    assert CATALOG.topic_of("governance.resident_registered") == "relocation.governance"
    assert CATALOG.topic_of("governance.request_submitted") == "relocation.governance"
    assert CATALOG.topic_of("employment.household_zero_employment_raised") == "relocation.employment"
    assert DEAD_LETTER not in CATALOG.topics()


def test_topic_of_an_unknown_type_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="unknown event type"):
        CATALOG.topic_of("governance.nothing")
