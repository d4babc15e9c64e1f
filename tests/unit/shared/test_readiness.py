"""/readyz of an app whose dependency checks fail answers 503 in the platform's error shape,
naming the failed check; the checks' cache runs a probe at most once a second. In-process, no
servers (the real probes against a broker and a database: tests/integration/test_resilience.py)."""

from __future__ import annotations

import asyncio
import warnings

from fastapi import FastAPI

from relocation_shared.runtime import cached
from relocation_shared.web import ReadinessCheck, health_router, install

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx versions
    from fastapi.testclient import TestClient


async def ok() -> None:
    return None


async def refused() -> None:
    raise ConnectionRefusedError("nothing listens")


def app_with(checks: dict[str, ReadinessCheck]) -> FastAPI:
    app = FastAPI()
    install(app, max_body_bytes=1000)
    app.include_router(health_router(lambda: checks))
    return app


def test_ready_when_every_check_passes() -> None:
    with TestClient(app_with({"mongodb": ok, "kafka": ok})) as client:
        r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"mongodb": "ok", "kafka": "ok"}}


def test_a_failed_check_answers_503_in_the_error_shape_naming_it() -> None:
    with TestClient(app_with({"mongodb": ok, "kafka": refused})) as client:
        r = client.get("/readyz", headers={"x-request-id": "probe-1"})
    assert r.status_code == 503
    body = r.json()
    assert body["error"] == "unavailable" and body["field"] == "kafka"
    assert "kafka" in body["message"] and "不可用" in body["message"]
    assert body["checks"] == {"mongodb": "ok", "kafka": "unavailable: ConnectionRefusedError"}
    assert r.headers["x-request-id"] == "probe-1"


def test_both_failed_checks_are_named() -> None:
    with TestClient(app_with({"mongodb": refused, "kafka": refused})) as client:
        body = client.get("/readyz").json()
    assert body["field"] == "mongodb" and "mongodb、kafka" in body["message"]


def test_a_cached_check_runs_once_per_period_and_keeps_its_failure() -> None:
    calls = []

    async def probe() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError("down")

    check = cached(probe, seconds=0.2)

    async def scenario() -> list[bool]:
        outcomes = []
        for pause in (0, 0, 0.25, 0):
            await asyncio.sleep(pause)
            try:
                await check()
                outcomes.append(True)
            except ConnectionRefusedError:
                outcomes.append(False)
        return outcomes

    # down, down again from the cache (no second probe), then up after the period, cached again
    assert asyncio.run(scenario()) == [False, False, True, True]
    assert len(calls) == 2
