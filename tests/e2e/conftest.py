"""Services as real processes over HTTP, against the real broker and MongoDB-protocol server."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from relocation_shared.auth import mint_token
from relocation_shared.topics import EMPLOYMENT, GOVERNANCE
from tests.integration.kafka_helpers import start_at_end

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
sys.path.insert(0, str(ROOT / "scripts"))

from procs import ServiceProcess, start_service  # noqa: E402  (the project's launcher script)


@dataclass
class Platform:
    governance: ServiceProcess
    employment: ServiceProcess
    secret: str
    run_id: str

    def token(self, role: str, *areas: str, sub: str = "e2e-user") -> str:
        return mint_token(secret=self.secret, subject=sub, roles=[role], areas=list(areas))

    def headers(self, role: str, *areas: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, *areas)}"}

    @property
    def logs(self) -> list[Path]:
        return [self.governance.log, self.employment.log]


@contextmanager
def running(name: str, env: dict[str, str]) -> Iterator[ServiceProcess]:
    """A service as a process, ready when the `with` is entered, stopped when it is left (its log
    in test-artifacts/e2e)."""
    proc = start_service(name, env, log_dir=ARTIFACTS)
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


def add_place(gov: Callable[..., httpx.Response], county: str, town: str, community: str) -> dict[str, str]:
    """A town, a community, its grid G01 and building B01 under `county`, through the registry
    (`gov` is a client's call to it: method, path, body); an area already there is fine."""
    grid, building = f"{community}-G01", f"{community}-G01-B01"
    for code, level, parent, name in [
        (town, "town", county, "测试街道"),
        (community, "community", town, "测试安置社区"),
        (grid, "grid", community, "一网格"),
        (building, "building", grid, "1栋"),
    ]:
        r = gov("POST", "/api/v1/areas", {"code": code, "name": name, "level": level, "parent": parent})
        assert r.status_code in (201, 409), r.text
    return {"community_code": community, "grid_code": grid, "building_code": building}


async def sse(url: str, headers: dict[str, str]) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The events of a Server-Sent Events stream, as (event name, decoded data)."""
    async with httpx.AsyncClient(timeout=None) as client, client.stream("GET", url, headers=headers) as resp:
        assert resp.status_code == 200, await resp.aread()
        kind = ""
        async for line in resp.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                yield kind, json.loads(line[6:])


@pytest.fixture(scope="session")
def platform(stack_env: dict[str, str]) -> Iterator[Platform]:
    """The registry and the employment service for the whole session. Tests share them rather than
    start their own employment service: two would both consume the registry's events and both
    publish employment events for them, and every figure the read models fold would count twice."""
    run_id = uuid.uuid4().hex[:8]
    secret = secrets.token_hex(32)
    common = {**stack_env, "JWT_SECRET": secret, "PII_HASH_KEY": secrets.token_hex(32), "LOG_LEVEL": "INFO"}
    for old in ARTIFACTS.glob("*.log"):
        old.unlink()
    governance = start_service("governance", {**common, "MONGODB_DATABASE": f"e2e_gov_{run_id}"}, log_dir=ARTIFACTS)
    # the employment service's new group starts at the topics' end, not at other runs' history
    asyncio.run(
        start_at_end(stack_env["KAFKA_BOOTSTRAP_SERVERS"], f"e2e-employment-{run_id}", [GOVERNANCE, EMPLOYMENT])
    )
    employment = start_service(
        "employment",
        {**common, "MONGODB_DATABASE": f"e2e_emp_{run_id}", "CONSUMER_GROUP": f"e2e-employment-{run_id}"},
        log_dir=ARTIFACTS,
    )
    try:
        governance.wait_ready()
        employment.wait_ready()
        yield Platform(governance=governance, employment=employment, secret=secret, run_id=run_id)
    finally:
        governance.stop()
        employment.stop()


@pytest.fixture(scope="session")
def readmodel(platform: Platform, stack_env: dict[str, str]) -> Iterator[ServiceProcess]:
    """The read model as a process, verifying the platform's tokens. Like in production it folds
    every topic from the beginning: tests compare views before and after their own changes."""
    env = {
        **stack_env,
        "JWT_SECRET": platform.secret,
        "MONGODB_DATABASE": f"e2e_rm_{platform.run_id}",
        "CONSUMER_GROUP": f"e2e-readmodel-{platform.run_id}",
    }
    with running("readmodel", env) as rm:
        yield rm


def view_of(readmodel: ServiceProcess, area: str, headers: dict[str, str]) -> dict[str, Any]:
    """The read model's view of an area: {"counters": {...}, "values": {key: value}}."""
    r = httpx.get(f"{readmodel.url}/api/v1/views/{area}", headers=headers, timeout=10)
    if r.status_code == 404:  # nothing folded there yet
        return {"counters": {}, "values": {}}
    assert r.status_code == 200, r.text
    body = r.json()
    return {"counters": body["counters"], "values": {i["key"]: i["value"] for i in body["indicators"]}}


def wait_view(
    readmodel: ServiceProcess,
    area: str,
    headers: dict[str, str],
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 60,
) -> dict[str, Any]:
    """Polls the view until `done(view)`; the read model may first be folding other runs' history."""
    deadline = time.monotonic() + timeout
    view = view_of(readmodel, area, headers)
    while not done(view):
        assert time.monotonic() < deadline, f"the view of {area} never got there: {view['counters']}"
        time.sleep(0.1)
        view = view_of(readmodel, area, headers)
    return view


def wait_caught_up(readmodel: ServiceProcess, timeout: float = 120) -> None:
    """Until the read model has folded everything on the broker (its lag gauges all at zero, twice in
    a row): a fresh read model first folds the shared broker's history, other runs' events too."""
    deadline = time.monotonic() + timeout
    zero_in_a_row = 0
    while zero_in_a_row < 2:
        assert time.monotonic() < deadline, "the read model never caught up with the broker"
        text = httpx.get(f"{readmodel.url}/metrics", timeout=10).text
        lags = [
            float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("readmodel_consumer_lag{")
        ]
        zero_in_a_row = zero_in_a_row + 1 if lags and all(v == 0 for v in lags) else 0
        time.sleep(0.3)
