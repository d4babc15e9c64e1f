"""Services as real processes over HTTP, against the real broker and MongoDB-protocol server."""

from __future__ import annotations

import asyncio
import secrets
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


@pytest.fixture(scope="session")
def platform(stack_env: dict[str, str]) -> Iterator[Platform]:
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
