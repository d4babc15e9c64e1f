"""What the benchmarks share: the stack (from the environment or started here), the services as
processes, tokens, valid national ID numbers, and percentile arithmetic."""

from __future__ import annotations

import random
import secrets
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import stack  # noqa: E402
from procs import ServiceProcess, start_service  # noqa: E402

from relocation_shared.auth import mint_token  # noqa: E402
from relocation_shared.pii import check_digit  # noqa: E402


@contextmanager
def stack_env() -> Iterator[dict[str, str]]:
    with stack.stack_from_env(ROOT / ".stack" / "bench", kafka_port=19492, mongo_port=27417) as env:
        yield env


@contextmanager
def services(env: dict[str, str], *names: str) -> Iterator[tuple[dict[str, ServiceProcess], str]]:
    run = uuid.uuid4().hex[:8]
    secret = secrets.token_hex(32)
    common = {**env, "JWT_SECRET": secret, "PII_HASH_KEY": secrets.token_hex(32), "LOG_LEVEL": "WARNING"}
    procs = {
        n: start_service(
            n,
            {**common, "MONGODB_DATABASE": f"bench_{n}_{run}", "CONSUMER_GROUP": f"bench-{n}-{run}"},
            log_dir=ROOT / ".stack" / "bench-logs",
        )
        for n in names
    }
    try:
        for p in procs.values():
            p.wait_ready()
        yield procs, secret
    finally:
        for p in procs.values():
            p.stop()


def token(secret: str, role: str = "city_officer", area: str = "520300") -> str:
    return mint_token(secret=secret, subject="bench", roles=[role], areas=[area])


def national_id(rng: random.Random, region: str = "520330") -> str:
    first17 = (
        f"{region}{rng.randint(1966, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    return first17 + check_digit(first17)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]
