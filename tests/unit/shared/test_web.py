"""The web plumbing every service installs, driven in-process through TestClient: validation
errors as 422 naming the field in Chinese, domain errors as their status with {error, message,
field}, the body-size limit (413), request ids, and the health routes."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from relocation_shared.auth import Unauthorized
from relocation_shared.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from relocation_shared.web import health_router, install, validation_errors

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx versions
    from fastapi.testclient import TestClient

LIMIT = 1000


class Worker(BaseModel):
    name: str = Field(min_length=1, max_length=5000)
    monthly_wage: int = Field(ge=0)
    started_on: date


class Teapot(DomainError):
    status_code = 418
    code = "teapot"


def make_app() -> FastAPI:
    app = FastAPI()
    install(app, max_body_bytes=LIMIT)

    @app.post("/workers")
    async def create(body: Worker) -> dict[str, object]:
        return {"name": body.name, "wage": body.monthly_wage}

    @app.post("/fail/{kind}")
    async def fail(kind: str) -> None:
        errors: dict[str, DomainError] = {
            "invalid": InvalidInput("开始日期不能晚于今天", field="started_on"),
            "missing": NotFound("居民不存在", field="resident_id"),
            "conflict": Conflict("该居民已有在岗就业记录", field="resident_id", state="open"),
            "forbidden": Forbidden("无权访问该区域的数据", field="community_code"),
            "unauthorized": Unauthorized("请先登录"),
            "teapot": Teapot("我是茶壶"),
        }
        raise errors[kind]

    async def ok() -> None:
        return None

    async def down() -> None:
        raise ConnectionError("mongo away")

    checks = {"mongo": ok}
    app.include_router(health_router(lambda: checks))
    app.state.checks = checks
    app.state.down = down
    return app


@pytest.fixture
def app() -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


GOOD = {"name": "张三", "monthly_wage": 3500, "started_on": "2025-03-01"}


def test_a_good_body_passes(client: TestClient) -> None:
    r = client.post("/workers", json=GOOD)
    assert r.status_code == 200 and r.json() == {"name": "张三", "wage": 3500}


def test_malformed_json_is_a_422_in_chinese(client: TestClient) -> None:
    r = client.post("/workers", content=b'{"name": "a", ', headers={"content-type": "application/json"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid"
    assert "JSON 格式错误" in body["message"]
    assert body["field"] and body["errors"][0]["message"] == "JSON 格式错误"


def test_malformed_json_names_the_body_not_a_byte_offset(client: TestClient) -> None:
    """Fails today: pydantic locates a JSON error at ("body", <offset>), and _field turns the
    offset into the field name: {"field": "14", "message": "14: JSON 格式错误"}."""
    r = client.post("/workers", content=b'{"name": "a", ', headers={"content-type": "application/json"})
    body = r.json()
    assert body["field"] == "body", body
    assert body["message"] == "body: JSON 格式错误"


def test_a_missing_field_is_a_422_naming_it(client: TestClient) -> None:
    r = client.post("/workers", json={"name": "张三", "started_on": "2025-03-01"})
    assert r.status_code == 422
    body = r.json()
    assert body == {
        "error": "invalid",
        "message": "monthly_wage: 缺少必填字段",
        "field": "monthly_wage",
        "errors": [{"field": "monthly_wage", "message": "缺少必填字段"}],
    }


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"monthly_wage": "三千五"}, "monthly_wage", "应为整数"),
        ({"monthly_wage": -1}, "monthly_wage", "数值过小"),
        ({"started_on": "2025/03/01"}, "started_on", "日期格式应为 YYYY-MM-DD"),
        ({"name": ""}, "name", "内容过短或为空"),
    ],
)
def test_a_wrong_value_is_a_422_naming_the_field(client: TestClient, change: dict, field: str, message: str) -> None:
    r = client.post("/workers", json=GOOD | change)
    assert r.status_code == 422
    assert r.json()["field"] == field and r.json()["message"] == f"{field}: {message}"


def test_every_error_of_the_body_is_listed(client: TestClient) -> None:
    r = client.post("/workers", json={"monthly_wage": "x"})
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"name", "monthly_wage", "started_on"}


def test_a_value_error_message_is_scrubbed_of_personal_data() -> None:
    errors = validation_errors(
        [{"type": "value_error", "loc": ("body", "note"), "msg": "x", "ctx": {"error": "号码13912345678无效"}}]
    )
    assert errors == [{"field": "note", "message": "号码139****5678无效"}]


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("invalid", 422, {"error": "invalid", "message": "开始日期不能晚于今天", "field": "started_on"}),
        ("missing", 404, {"error": "not_found", "message": "居民不存在", "field": "resident_id"}),
        (
            "conflict",
            409,
            {"error": "conflict", "message": "该居民已有在岗就业记录", "field": "resident_id", "state": "open"},
        ),
        ("forbidden", 403, {"error": "forbidden", "message": "无权访问该区域的数据", "field": "community_code"}),
        ("unauthorized", 401, {"error": "unauthorized", "message": "请先登录"}),
        ("teapot", 418, {"error": "teapot", "message": "我是茶壶"}),
    ],
)
def test_a_domain_error_becomes_its_status_and_body(client: TestClient, kind: str, status: int, body: dict) -> None:
    r = client.post(f"/fail/{kind}")
    assert r.status_code == status
    assert r.json() == body
    assert (r.headers.get("www-authenticate") == "Bearer") is (status == 401)


def test_a_body_over_the_limit_by_content_length_is_a_413(client: TestClient) -> None:
    big = GOOD | {"name": "张" * 400}  # 1,200 bytes of name alone
    r = client.post("/workers", json=big)
    assert r.status_code == 413
    assert r.json() == {"error": "too_large", "message": f"请求体过大(上限 {LIMIT} 字节)", "field": "body"}


def test_a_body_at_the_limit_passes(client: TestClient) -> None:
    body = GOOD | {"name": "a"}
    raw = json.dumps(body).encode()
    body["name"] = "a" * (LIMIT - len(raw) + 1)
    raw = json.dumps(body).encode()
    assert len(raw) == LIMIT
    r = client.post("/workers", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 200


def _chunks(total: int) -> Iterator[bytes]:
    yield b'{"monthly_wage": 1, "started_on": "2025-03-01", "name": "'
    for _ in range(total // 100):
        yield b"a" * 100
    yield b'"}'


def test_a_small_streamed_body_passes(client: TestClient) -> None:
    r = client.post("/workers", content=_chunks(300), headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["wage"] == 1


def test_a_streamed_body_over_the_limit_is_a_413(client: TestClient) -> None:
    """No content-length (chunked): the limit is enforced while reading. Fails today with 400
    {"detail": "There was an error parsing the body"}: BodyLimit raises _TooLarge from inside
    `receive`, and FastAPI's body reader turns any exception there into HTTPException(400)
    before BodyLimit's `except _TooLarge` can see it."""
    r = client.post("/workers", content=_chunks(3_000), headers={"content-type": "application/json"})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in r.request.headers
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "too_large"


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    a = client.post("/workers", json=GOOD)
    b = client.post("/fail/conflict")
    c = client.post("/workers", json={})
    ids = [r.headers.get("x-request-id") for r in (a, b, c)]
    assert all(ids) and len(set(ids)) == 3


def test_a_given_request_id_is_echoed(client: TestClient) -> None:
    r = client.post("/workers", json=GOOD, headers={"x-request-id": "req-from-gateway-1"})
    assert r.headers["x-request-id"] == "req-from-gateway-1"


def test_health_and_readiness(app: FastAPI, client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "checks": {"mongo": "ok"}}
    app.state.checks["kafka"] = app.state.down
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {
        "error": "unavailable",
        "message": "服务暂不可用:依赖 kafka 无法访问",
        "field": "kafka",
        "status": "unavailable",
        "checks": {"mongo": "ok", "kafka": "unavailable: ConnectionError"},
    }
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "http_requests_total" in metrics.text
