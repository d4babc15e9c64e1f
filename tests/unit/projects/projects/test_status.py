"""The project status machine and the area paths derived from area codes, without I/O."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from projects_service.ledger.models import DisbursementIn
from projects_service.projects.domain import TRANSITIONS, check_transition, community_path, project_area_path
from projects_service.projects.models import ProjectIn, StatusIn
from projects_service.sources.models import FundingSourceIn
from projects_service.wiring import Services
from relocation_shared.areas import path_of_code
from relocation_shared.auth import Principal, Role
from relocation_shared.errors import Conflict, Forbidden, InvalidInput
from relocation_shared.events.projects import ProjectStatus as S
from tests.context import ctx
from tests.fakes.projects import FakeProjectsDb, fake_services
from tests.fakes.uow import FakeUnitOfWork

ALLOWED = {
    (S.APPROVED, S.UNDER_CONSTRUCTION),
    (S.APPROVED, S.CANCELLED),
    (S.UNDER_CONSTRUCTION, S.OPERATING),
    (S.UNDER_CONSTRUCTION, S.CANCELLED),
    (S.OPERATING, S.COMPLETED),
}
CITY = Principal(subject="city", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_machine_s_transitions_are_allowed(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        check_transition(current, target)
        return
    with pytest.raises(Conflict) as exc:
        check_transition(current, target)
    assert exc.value.field == "status" and exc.value.context["current"] == current.value
    assert exc.value.status_code == 409


def test_completed_and_cancelled_are_final() -> None:
    assert TRANSITIONS[S.COMPLETED] == frozenset() and TRANSITIONS[S.CANCELLED] == frozenset()


def test_area_paths_follow_the_structure_of_the_codes() -> None:
    # The projects read area codes through the shared `path_of_code`.
    assert path_of_code("520000") == ("520000",)
    assert path_of_code("520300") == ("520000", "520300")
    assert path_of_code("520330") == ("520000", "520300", "520330")
    assert path_of_code("520330001000") == ("520000", "520300", "520330", "520330001000")
    assert path_of_code("520330001001") == ("520000", "520300", "520330", "520330001000", "520330001001")
    for bad in ("52033", "5203300010010", "52033A", "520330000001", "000000"):
        with pytest.raises(ValueError):
            path_of_code(bad)
    # Every one of them, and a code whose city digits are 00, is refused as a community.
    for bad in ("52033", "5203300010010", "52033A", "520330000001", "000000", "520030001001"):
        with pytest.raises(ValueError):
            community_path(bad)
    with pytest.raises(ValueError):
        community_path("520330001000")  # a town


def test_a_project_is_placed_at_its_community_or_what_its_communities_share() -> None:
    assert project_area_path(["520330001001"])[-1] == "520330001001"
    assert project_area_path(["520330001001", "520330001002"])[-1] == "520330001000"
    assert project_area_path(["520330001001", "520330002001"])[-1] == "520330"
    with pytest.raises(ValueError):
        project_area_path(["520330001001", "520382001001"])  # two counties


@pytest.fixture
def service() -> tuple[Services, FakeUnitOfWork, FakeProjectsDb]:
    return fake_services()


async def approved(service: Services) -> tuple[str, str]:
    source = await service.sources.register_source(
        ctx=ctx(CITY),
        data=FundingSourceIn(
            kind="city_special", name="市级专项资金", area_code="520300", budgets=[{"year": 2024, "amount_fen": 10**9}]
        ),
    )
    project = await service.projects.approve(
        ctx=ctx(CITY),
        data=ProjectIn(
            name="社区集体经济标准化厂房",
            kind="collective_economy",
            community_codes=["520330001001"],
            allocations=[{"source_id": source.id, "year": 2024, "amount_fen": 5 * 10**8}],
            approved_on=date(2024, 5, 1),
        ),
    )
    return source.id, project.id


async def test_a_refused_transition_changes_nothing_and_publishes_nothing(service: Any) -> None:
    svc, uow, repo = service
    _, pid = await approved(svc)
    state, events = copy.deepcopy(repo.data), list(uow.published)
    with pytest.raises(Conflict) as exc:
        await svc.projects.change_status(ctx=ctx(CITY), project_id=pid, data=StatusIn(status="operating"))
    assert exc.value.context["current"] == "approved" and "已批复" in exc.value.message
    with pytest.raises(InvalidInput) as exc2:
        await svc.projects.change_status(ctx=ctx(CITY), project_id=pid, data=StatusIn(status="cancelled"))
    assert exc2.value.field == "reason"
    with pytest.raises(InvalidInput) as exc3:
        await svc.projects.change_status(
            ctx=ctx(CITY), project_id=pid, data=StatusIn(status="under_construction", changed_on=date(2024, 4, 1))
        )
    assert exc3.value.field == "changed_on"  # before the approval
    assert repo.data == state and uow.published == events


async def test_the_history_and_events_follow_each_step(service: Any) -> None:
    svc, uow, _ = service
    _, pid = await approved(svc)
    for status, on in (
        ("under_construction", date(2024, 6, 1)),
        ("operating", date(2024, 12, 1)),
        ("completed", date(2025, 12, 31)),
    ):
        await svc.projects.change_status(ctx=ctx(CITY), project_id=pid, data=StatusIn(status=status, changed_on=on))
    project = await svc.projects.get_project(ctx=ctx(CITY), project_id=pid)
    assert [s.status for s in project.status_history] == ["approved", "under_construction", "operating", "completed"]
    changes = [e.payload for e in uow.published if e.type == "projects.status_changed"]
    assert [(c["from_status"], c["to_status"]) for c in changes] == [
        ("approved", "under_construction"),
        ("under_construction", "operating"),
        ("operating", "completed"),
    ]
    assert all(c["kind"] == "collective_economy" and c["source_kinds"] == ["city_special"] for c in changes)


async def test_cancelling_gives_back_what_was_not_disbursed(service: Any) -> None:
    svc, uow, _ = service
    sid, pid = await approved(svc)
    await svc.projects.change_status(
        ctx=ctx(CITY), project_id=pid, data=StatusIn(status="under_construction", changed_on=date(2024, 6, 1))
    )
    await svc.ledger.disburse(
        ctx=ctx(CITY),
        project_id=pid,
        data=DisbursementIn(source_id=sid, year=2024, amount_fen=2 * 10**8, disbursed_on=date(2024, 7, 1)),
    )
    await svc.projects.change_status(
        ctx=ctx(CITY),
        project_id=pid,
        data=StatusIn(status="cancelled", changed_on=date(2024, 8, 1), reason="选址调整"),
    )
    project = await svc.projects.get_project(ctx=ctx(CITY), project_id=pid)
    assert project.allocated.fen == 2 * 10**8 and project.allocations[0].released.fen == 3 * 10**8
    assert project.allocations[0].remaining.fen == 0
    cancelled = [e.payload for e in uow.published if e.type == "projects.status_changed"][-1]
    assert cancelled["released"] == [
        {"source_id": sid, "source_kind": "city_special", "year": 2024, "amount_fen": 3 * 10**8}
    ]
    summary = await svc.reports.summary(ctx=ctx(CITY), area="520330")
    assert summary.total.projects == 0 and summary.projects_by_status["cancelled"] == 1
    assert summary.total.allocated.fen == 2 * 10**8 == summary.total.disbursed.fen
    with pytest.raises(Conflict):  # no money moves on a cancelled project
        await svc.ledger.disburse(
            ctx=ctx(CITY),
            project_id=pid,
            data=DisbursementIn(source_id=sid, year=2024, amount_fen=1, disbursed_on=date(2024, 9, 1)),
        )


async def test_a_county_officer_approves_only_in_their_county(service: Any) -> None:
    svc, _, _ = service
    sid, _ = await approved(svc)
    renhuai = Principal(subject="r", roles=frozenset({Role.COUNTY_OFFICER}), areas=frozenset({"520382"}))
    body = ProjectIn(
        name="x",
        kind="public_service",
        community_codes=["520330001001"],
        allocations=[{"source_id": sid, "year": 2024, "amount_fen": 1}],
        approved_on=date(2024, 5, 1),
    )
    with pytest.raises(Forbidden) as exc:
        await svc.projects.approve(ctx=ctx(renhuai), data=body)
    assert exc.value.field == "community_codes"
    with pytest.raises(InvalidInput) as exc2:
        await svc.projects.approve(ctx=ctx(CITY), data=ProjectIn(**{**body.model_dump(), "kind": "industry"}))
    assert exc2.value.field == "chain"
