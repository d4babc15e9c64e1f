"""The routers' shared dependencies and the one found-or-404 rule."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from relocation_shared.auth import Principal, Role
from relocation_shared.deps import from_state
from relocation_shared.errors import NotFound

XISHUI = Principal(subject="c-1", roles=frozenset({Role.COUNTY_OFFICER}), areas=frozenset({"520330"}))


@dataclass
class Record:
    area_path: tuple[str, ...]


def test_found_returns_a_record_in_scope() -> None:
    record = Record(("520000", "520300", "520330", "520330001000"))
    assert XISHUI.found(record, "诉求", field="request_id") is record


@pytest.mark.parametrize("record", [None, Record(("520000", "520300", "520382"))], ids=["missing", "elsewhere"])
def test_a_missing_record_and_one_elsewhere_are_the_same_404(record: Record | None) -> None:
    with pytest.raises(NotFound) as caught:
        XISHUI.found(record, "诉求", field="request_id")
    assert caught.value.message == "诉求不存在" and caught.value.field == "request_id"


def test_from_state_reads_a_dotted_name() -> None:
    app = FastAPI()
    app.state.community = SimpleNamespace(visits="the visits service")

    @app.get("/which")
    async def which(service: Annotated[Any, from_state("community.visits")]) -> str:
        return str(service)

    assert TestClient(app).get("/which").json() == "the visits service"
