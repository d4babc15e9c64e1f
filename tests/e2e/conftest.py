"""Services as real processes over HTTP, against the real broker and MongoDB-protocol server."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from relocation_shared.auth import mint_token

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Platform:
    governance: Service
    employment: Service
    secret: str
    run_id: str

    def token(self, role: str, *areas: str, sub: str = "e2e-user") -> str:
        return mint_token(secret=self.secret, subject=sub, roles=[role], areas=list(areas))

    def headers(self, role: str, *areas: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, *areas)}"}

    @property
    def logs(self) -> list[Path]:
        return [self.governance.log, self.employment.log]


def start_service(name: str, env: dict[str, str]) -> Service:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = ARTIFACTS / f"{name}.log"
    out = log.open("wb")
    process = subprocess.Popen(
        [str(BIN / f"{name}-service")],
        env={**os.environ, **env, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Service(name=name, url=f"http://127.0.0.1:{port}", process=process, log=log)


def wait_ready(service: Service, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited: see {service.log}")
        try:
            if httpx.get(f"{service.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{service.name} not ready in {timeout}s: see {service.log}")


def stop(service: Service) -> None:
    service.process.terminate()
    try:
        service.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()


@pytest.fixture(scope="session")
def platform(stack_env: dict[str, str]) -> Iterator[Platform]:
    run_id = uuid.uuid4().hex[:8]
    secret = secrets.token_hex(32)
    common = {
        **stack_env,
        "JWT_SECRET": secret,
        "PII_HASH_KEY": secrets.token_hex(32),
        "LOG_LEVEL": "INFO",
    }
    governance = start_service("governance", {**common, "MONGODB_DATABASE": f"e2e_gov_{run_id}"})
    employment = start_service(
        "employment",
        {**common, "MONGODB_DATABASE": f"e2e_emp_{run_id}", "CONSUMER_GROUP": f"e2e-employment-{run_id}"},
    )
    try:
        wait_ready(governance)
        wait_ready(employment)
        yield Platform(governance=governance, employment=employment, secret=secret, run_id=run_id)
    finally:
        stop(governance)
        stop(employment)
