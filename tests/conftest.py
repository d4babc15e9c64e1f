"""Fixtures shared by the integration and e2e tests: a real Kafka broker and a real
MongoDB-protocol server, taken from KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI when set, and
otherwise started by the project's own script (scripts/stack.py) for this test run."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog

ROOT = Path(__file__).resolve().parent.parent

# the library's debug lines would drown the test output
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))


@pytest.fixture(scope="session")
def stack_env() -> Iterator[dict[str, str]]:
    sys.path.insert(0, str(ROOT / "scripts"))
    import stack  # the project's own start/stop script

    with stack.stack_from_env(ROOT / ".stack" / "pytest", kafka_port=19292, mongo_port=27317) as env:
        yield env


@pytest.fixture(scope="session")
def bootstrap(stack_env: dict[str, str]) -> str:
    return stack_env["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="session")
def mongo_uri(stack_env: dict[str, str]) -> str:
    return stack_env["MONGODB_URI"]


@pytest.fixture(scope="session")
async def topics(bootstrap: str) -> None:
    """Every catalog topic and the dead-letter topic exist before tests publish."""
    from relocation_shared.events import CATALOG
    from relocation_shared.kafka import ensure_topics
    from relocation_shared.topics import DEAD_LETTER

    await ensure_topics(bootstrap, [*CATALOG.topics(), DEAD_LETTER], partitions=3, replication=1)


@pytest.fixture
async def mongo_client(mongo_uri: str) -> AsyncIterator[object]:
    from relocation_shared.mongo import make_client

    client = make_client(mongo_uri, app_name="tests")
    try:
        yield client
    finally:
        await client.close()
