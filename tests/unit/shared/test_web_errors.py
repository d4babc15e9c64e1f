"""Errors the framework raises before a route runs, and exceptions nobody expected, in the
platform's error shape with the request id: an unexpected exception is a JSON 500 whose body
quotes the x-request-id header, its traceback is in the (masked) JSON log; bodies that cannot be
read (bad UTF-8, JSON nested too deep, a 5,000-digit number), unknown routes and wrong methods
answer {error, message, field} instead of FastAPI's {"detail": ...}."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator

import pytest
import structlog
from fastapi import FastAPI

from relocation_shared.logging import configure_logging
from relocation_shared.web import install
from tests.unit.shared.test_logging import MASKED_ID, PHONE, RAW_ID, _json_lines, restore_logging  # noqa: F401
from tests.unit.shared.test_web import GOOD, LIMIT, Worker

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx versions
    from fastapi.testclient import TestClient

JSON = {"content-type": "application/json"}


def make_app(max_body_bytes: int = 100_000) -> FastAPI:
    app = FastAPI()
    install(app, max_body_bytes=max_body_bytes)

    @app.post("/workers")
    async def create(body: Worker) -> dict[str, object]:
        return {"name": body.name}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"居民 {RAW_ID} 电话 {PHONE} 的记录坏了")

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app(), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.usefixtures("restore_logging")
def test_an_unexpected_exception_is_a_json_500_with_the_request_id_and_a_logged_traceback(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("governance", "INFO")
    structlog.configure(cache_logger_on_first_use=False)  # web's module logger must not keep this test's stdout
    r = client.get("/boom")

    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["error"] == "internal" and body["message"]
    assert r.headers["x-request-id"] and body["request_id"] == r.headers["x-request-id"]

    out = capsys.readouterr().out
    assert RAW_ID not in out and PHONE not in out
    assert "<traceback object" not in out
    (error,) = [line for line in _json_lines(out) if line["event"] == "unhandled error"]
    assert error["level"] == "error" and error["request_id"] == body["request_id"]
    trace = error["exception"]
    assert trace.startswith("Traceback (most recent call last):")
    assert ", in boom\n" in trace and 'raise RuntimeError(f"居民 {RAW_ID}' in trace  # the frames, with source
    assert trace.rstrip().endswith(f"RuntimeError: 居民 {MASKED_ID} 电话 139****5678 的记录坏了")
    (access,) = [line for line in _json_lines(out) if line["event"] == "request"]
    assert access["status"] == 500 and access["route"] == "/boom"


@pytest.mark.usefixtures("restore_logging")
def test_a_standard_library_record_with_an_exception_logs_its_traceback_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What uvicorn and aiokafka log (logger.error(..., exc_info=...)): the traceback's text, not
    the repr of the exc_info tuple."""
    configure_logging("employment", "INFO")
    try:
        raise ValueError(f"bad row {RAW_ID}")
    except ValueError:
        logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=True)
    out = capsys.readouterr().out
    assert "<traceback object" not in out and RAW_ID not in out
    (line,) = _json_lines(out)
    assert line["event"] == "Exception in ASGI application" and "exc_info" not in line
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "in test_a_standard_library_record" in line["exception"]
    assert f"ValueError: bad row {MASKED_ID}" in line["exception"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"name": "\xff\xfe", "monthly_wage": 1, "started_on": "2025-03-01"}', "请求体应为 UTF-8 编码的文本"),
        (b"[" * 1000 + b"]" * 1000, "JSON 嵌套层数过多"),
        (b'{"name":' * 1000 + b"1" + b"}" * 1000, "JSON 嵌套层数过多"),
        (b'{"name": "a", "monthly_wage": ' + b"9" * 5000 + b', "started_on": "2025-03-01"}', "数字位数过多"),
    ],
    ids=["invalid-utf8", "nested-lists", "nested-objects", "5000-digits"],
)
def test_a_body_that_cannot_be_read_is_a_422_naming_the_body(client: TestClient, raw: bytes, message: str) -> None:
    r = client.post("/workers", content=raw, headers=JSON)
    assert r.status_code == 422, r.text
    assert r.json() == {
        "error": "invalid",
        "message": f"body: {message}",
        "field": "body",
        "errors": [{"field": "body", "message": message}],
    }
    assert r.headers["x-request-id"]


def test_an_unknown_route_is_a_404_in_the_platform_shape(client: TestClient) -> None:
    r = client.get("/no/such/route")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "请求的接口不存在"}
    assert r.headers["x-request-id"]


def test_a_wrong_method_is_a_405_in_the_platform_shape_with_allow(client: TestClient) -> None:
    r = client.delete("/workers")
    assert r.status_code == 405
    assert r.json() == {"error": "method_not_allowed", "message": "该接口不支持此请求方法"}
    assert r.headers["allow"] == "POST" and r.headers["x-request-id"]


def test_a_good_body_still_passes(client: TestClient) -> None:
    r = client.post("/workers", json=GOOD)
    assert r.status_code == 200 and r.json() == {"name": "张三"}


def _chunks(total: int) -> Iterator[bytes]:
    yield b'{"monthly_wage": 1, "started_on": "2025-03-01", "name": "'
    yield from (b"a" * 100 for _ in range(total // 100))
    yield b'"}'


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_a_413_carries_the_request_id_too(streamed: bool) -> None:
    with TestClient(make_app(max_body_bytes=LIMIT)) as c:
        content = _chunks(3_000) if streamed else b"x" * (LIMIT + 1)
        r = c.post("/workers", content=content, headers=JSON | {"x-request-id": "req-413"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert r.headers["x-request-id"] == "req-413"
