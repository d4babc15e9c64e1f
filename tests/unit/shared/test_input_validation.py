"""Bad input a new user sends while trying the APIs: person names made of zero-width, control or
bidi characters (PersonName), NUL and bidi overrides in free text (FreeText), national IDs whose
region is no province, integers sent as strings or floats, and batch rows that are not objects."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing
import unicodedata
import warnings
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter, ValidationError

from employment_service.models import EmploymentIn
from governance_service.disputes.models import DisputeIn, DisputePartyIn
from governance_service.party.models import PartyOrgIn
from governance_service.points.models import AwardIn
from governance_service.registry.models import MoveOut, ResidentIn
from governance_service.staff.models import StaffIn
from relocation_shared.batch import BatchIn, BatchResult, Input, Outcome, apply_many
from relocation_shared.pii import FreeText, InvalidNationalId, PersonName, check_digit, parse_national_id
from relocation_shared.web import install
from tests.clock import TODAY

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx versions
    from fastapi.testclient import TestClient

NAME = TypeAdapter(PersonName)
TEXT = TypeAdapter(FreeText)


def _message(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(exc.value.errors()[0]["ctx"]["error"])


# ---------------------------------------------------------------- person names


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("张三", "张三"),
        ("  欧阳娜娜\u3000", "欧阳娜娜"),  # ideographic space trimmed
        ("阿依古丽·买买提", "阿依古丽·买买提"),  # the middle dot of minority names
        ("Jose\u0301", "José"),  # NFC: the combining accent composed
        ("王" * 50, "王" * 50),
    ],
)
def test_a_real_name_is_kept_normalised(raw: str, stored: str) -> None:
    assert NAME.validate_python(raw) == stored
    assert unicodedata.is_normalized("NFC", NAME.validate_python(raw))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("\u200b\u200b", "姓名不能为空(不可见字符不算)"),  # zero-width spaces only
        ("\u200d\ufeff \u2060", "姓名不能为空(不可见字符不算)"),  # joiner, BOM, word joiner
        ("张\x00三", "姓名不得包含控制字符、零宽字符或改变文字方向的字符"),
        ("张三\x1b[31m", "姓名不得包含控制字符、零宽字符或改变文字方向的字符"),
        ("张\u200b三", "姓名不得包含控制字符、零宽字符或改变文字方向的字符"),
        ("\u202e三张", "姓名不得包含控制字符、零宽字符或改变文字方向的字符"),  # right-to-left override
        ("张\u2067三", "姓名不得包含控制字符、零宽字符或改变文字方向的字符"),  # right-to-left isolate
        ("张\ue000", "姓名不得包含控制字符、零宽字符或改变文字方向的字符"),  # private use
        ("张\u2028三", "姓名不得包含控制字符、零宽字符或改变文字方向的字符"),  # line separator
        ("张三13912345678", "不得填写身份证号码或手机号码(联系方式请登记在居民信息中)"),
    ],
)
def test_a_name_of_hidden_characters_is_refused_in_chinese(raw: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        NAME.validate_python(raw)
    assert _message(exc) == message


@pytest.mark.parametrize("raw", ["", "王" * 51])
def test_a_name_is_1_to_50_characters(raw: str) -> None:
    with pytest.raises(ValidationError):
        NAME.validate_python(raw)


# Every person-name field of a request body, and where it sits.
NAME_FIELDS = [
    (ResidentIn, "name"),
    (DisputePartyIn, "name"),
    (DisputeIn, "mediator_name"),
    (StaffIn, "name"),
    (PartyOrgIn, "secretary_name"),
]


@pytest.mark.parametrize(("model", "field"), NAME_FIELDS, ids=[f"{m.__name__}.{f}" for m, f in NAME_FIELDS])
@pytest.mark.parametrize("raw", ["\u200b", "张\x00三", "\u202e三张"], ids=["zero-width", "nul", "rtl-override"])
def test_every_person_name_field_refuses_hidden_characters(model: type[BaseModel], field: str, raw: str) -> None:
    with pytest.raises(ValidationError) as exc:
        model.model_validate({field: raw})
    (error,) = [e for e in exc.value.errors() if e["loc"] == (field,)]
    assert error["type"] == "value_error" and "姓名" in str(error["ctx"]["error"])


# ---------------------------------------------------------------- free text


@pytest.mark.parametrize(
    "raw",
    ["", "第一行\n第二行\r\n\t缩进", "👨\u200d👩\u200d👧 一家三口", "楼道灯坏了(3 单元)"],
    ids=["empty", "line-breaks-and-tab", "emoji-with-joiners", "plain"],
)
def test_free_text_keeps_line_breaks_and_emoji(raw: str) -> None:
    assert TEXT.validate_python(raw) == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("楼道\x00灯坏了", "不得包含控制字符或改变文字方向的字符"),
        ("\x1b[2J清屏", "不得包含控制字符或改变文字方向的字符"),
        ("退款\u202e0001", "不得包含控制字符或改变文字方向的字符"),
        ("\u2066隔离\u2069", "不得包含控制字符或改变文字方向的字符"),
        ("\u200b\u200b", "内容不能为空(不可见字符不算)"),
    ],
)
def test_free_text_refuses_control_and_bidi_characters(raw: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TEXT.validate_python(raw)
    assert _message(exc) == message


def test_a_request_field_of_free_text_refuses_a_nul() -> None:
    with pytest.raises(ValidationError) as exc:
        MoveOut.model_validate({"moved_out_on": "2025-03-01", "reason": "外出\x00务工"})
    assert [e["loc"] for e in exc.value.errors()] == [("reason",)]


# ---------------------------------------------------------------- national ID region


def _id(region: str, born: str = "19900101", seq: str = "123") -> str:
    first17 = region + born + seq
    return first17 + check_digit(first17)


@pytest.mark.parametrize("region", ["000000", "990000", "100000", "160101", "200000", "710000", "810000", "820000"])
def test_a_region_code_outside_the_mainland_provinces_is_refused(region: str) -> None:
    with pytest.raises(InvalidNationalId, match=r"^身份证号码中的地区码无效$"):
        parse_national_id(_id(region), today=TODAY)


@pytest.mark.parametrize("region", ["110105", "150102", "230102", "310101", "370102", "460105", "520330", "650102"])
def test_a_region_code_of_a_province_is_accepted(region: str) -> None:
    assert parse_national_id(_id(region), today=TODAY).region_code == region


def test_a_resident_with_region_000000_is_a_422_naming_the_field() -> None:
    row = {"household_id": "h", "community_code": "520330001001", "name": "张三", "labour_capacity": True}
    with pytest.raises(ValidationError) as exc:
        ResidentIn.model_validate(row | {"national_id": _id("000000")})
    (error,) = exc.value.errors()
    assert error["loc"] == ("national_id",) and str(error["ctx"]["error"]) == "身份证号码中的地区码无效"


# ---------------------------------------------------------------- strict integers


def _request_models() -> list[type[Input]]:
    found: set[type[Input]] = set()
    for service in ("governance_service", "employment_service", "projects_service", "notifications_service"):
        package = importlib.import_module(service)
        for info in pkgutil.walk_packages(package.__path__, f"{service}."):
            if info.name.endswith(".models"):
                module = importlib.import_module(info.name)
                found |= {c for c in vars(module).values() if inspect.isclass(c) and issubclass(c, Input)}
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return union and int in typing.get_args(annotation)


INT_FIELDS = [(m, f) for m in _request_models() for f, info in m.model_fields.items() if _is_int(info.annotation)]


def test_the_walk_finds_the_integer_fields() -> None:
    names = {f"{m.__name__}.{f}" for m, f in INT_FIELDS}
    assert {"AwardIn.points", "EmploymentIn.monthly_wage", "RateIn.score", "RuleUpdate.expected_version"} <= names
    assert len(INT_FIELDS) >= 15


@pytest.mark.parametrize(("model", "field"), INT_FIELDS, ids=[f"{m.__name__}.{f}" for m, f in INT_FIELDS])
@pytest.mark.parametrize("value", ["1", 1.0, True], ids=["string", "float", "bool"])
def test_every_integer_field_of_a_request_is_strict(model: type[BaseModel], field: str, value: object) -> None:
    """A string, a float or a boolean where an integer belongs is refused, naming the field."""
    with pytest.raises(ValidationError) as exc:
        model.model_validate({field: value})
    assert [e for e in exc.value.errors() if e["loc"] == (field,)], exc.value.errors()


def _is_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return union and bool in typing.get_args(annotation)


BOOL_FIELDS = [(m, f) for m in _request_models() for f, info in m.model_fields.items() if _is_bool(info.annotation)]


def test_the_walk_finds_the_boolean_fields() -> None:
    names = {f"{m.__name__}.{f}" for m, f in BOOL_FIELDS}
    assert {"ResidentIn.labour_capacity", "EmploymentIn.organised_export", "RuleIn.enabled"} <= names


@pytest.mark.parametrize(("model", "field"), BOOL_FIELDS, ids=[f"{m.__name__}.{f}" for m, f in BOOL_FIELDS])
@pytest.mark.parametrize("value", ["yes", "true", 1, 0.0], ids=["yes", "true-string", "one", "float"])
def test_every_boolean_field_of_a_request_is_strict(model: type[BaseModel], field: str, value: object) -> None:
    """是否有劳动能力 and the like take JSON true or false only: "yes" or 1 is refused, naming the field."""
    with pytest.raises(ValidationError) as exc:
        model.model_validate({field: value})
    assert [e for e in exc.value.errors() if e["loc"] == (field,)], exc.value.errors()


def _app() -> FastAPI:
    app = FastAPI()
    install(app, max_body_bytes=100_000)

    @app.post("/awards")
    async def award(body: AwardIn) -> dict[str, int]:
        return {"points": body.points}

    @app.post("/employments")
    async def employ(body: EmploymentIn) -> dict[str, object]:
        return {"wage": body.monthly_wage, "started_on": body.started_on.isoformat(), "type": body.employment_type}

    @app.post("/batch")
    async def batch(body: BatchIn) -> BatchResult:
        async def apply(rows: list[tuple[int, AwardIn]]) -> Outcome:
            outcome = Outcome()
            for i, _row in rows:
                outcome.accept(i, f"id-{i}")
            return outcome

        return await apply_many(body.items, AwardIn, apply, max_items=10)

    return app


AWARD = {"household_id": "h1", "category": "civility", "points": 5, "reason": "帮助邻居"}
JOB = {
    "resident_id": "r1",
    "employment_type": "local",
    "employer": "遵义市某制衣厂",
    "monthly_wage": 3500,
    "started_on": "2025-03-01",
}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/awards", AWARD | {"points": "5"}, "points"),
        ("/awards", AWARD | {"points": 1.0}, "points"),
        ("/employments", JOB | {"monthly_wage": "3500"}, "monthly_wage"),
        ("/employments", JOB | {"monthly_wage": 3500.0}, "monthly_wage"),
    ],
)
def test_an_integer_sent_as_a_string_or_float_is_a_422_naming_the_field(path: str, body: dict, field: str) -> None:
    with TestClient(_app()) as client:
        r = client.post(path, json=body)
    assert r.status_code == 422
    assert r.json()["field"] == field and r.json()["message"] == f"{field}: 应为整数"


def test_dates_and_enums_still_parse_from_json_strings() -> None:
    with TestClient(_app()) as client:
        r = client.post("/employments", json=JOB)
        assert r.status_code == 200, r.text
        assert r.json() == {"wage": 3500, "started_on": "2025-03-01", "type": "local"}
        assert client.post("/awards", json=AWARD).json() == {"points": 5}


# ---------------------------------------------------------------- batches


def test_a_row_that_is_not_an_object_is_that_rows_error_and_the_good_rows_are_kept() -> None:
    rows = [AWARD, 5, "x", None, [AWARD], AWARD | {"points": "5"}, AWARD]
    with TestClient(_app()) as client:
        r = client.post("/batch", json={"items": rows})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [a["index"] for a in body["accepted"]] == [0, 6]
    assert body["rejected"] == [
        {"index": i, "field": "body", "error": "invalid", "message": "每一行应为一个对象"} for i in (1, 2, 3, 4)
    ] + [{"index": 5, "field": "points", "error": "invalid", "message": "应为整数"}]


def test_a_batch_still_needs_a_list_of_rows() -> None:
    with TestClient(_app()) as client:
        assert client.post("/batch", json={"items": []}).status_code == 422
        assert client.post("/batch", json={"items": {"a": 1}}).json()["field"] == "items"
