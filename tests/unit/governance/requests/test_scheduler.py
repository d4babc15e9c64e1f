"""The deadline scheduler's scan against in-memory fakes: what is due is handled once, what
another writer moved is left alone, a failing record does not stop the others and is tried
again next time, batches follow one another until nothing is due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from governance_service.disputes import repository as disputes_repo
from governance_service.disputes.domain import DisputeCase
from governance_service.requests import repository as requests_repo
from governance_service.requests.scheduler import DeadlineScheduler
from governance_service.staff.domain import Actor
from relocation_shared.events.disputes import DisputeKind
from relocation_shared.events.requests import RequestCategory, RequestSource, RequestState, Urgency
from tests.fakes.community import FakeDisputesStore, FakeRequestsStore
from tests.fakes.uow import FakeUnitOfWork
from tests.unit.governance.requests.cases import PATH, POLICY, T0, submitted

BY = Actor(subject="cadre", name="李社区", role="community_cadre")


def seed(repo: FakeRequestsStore, n: int, *, urgency: Urgency = Urgency.URGENT) -> list[str]:
    ids = []
    for i in range(n):
        case = submitted(
            request_id=f"r{i:03d}",
            category=RequestCategory.OTHER,
            urgency=urgency,
            source=RequestSource.CADRE,
            description="x",
            by=BY,
        )
        repo.docs[case.id] = requests_repo.to_doc(case)
        ids.append(case.id)
    return ids


def scheduler(**kw: Any) -> tuple[DeadlineScheduler, FakeRequestsStore, FakeDisputesStore, FakeUnitOfWork]:
    requests, disputes = FakeRequestsStore(), FakeDisputesStore()
    uow = FakeUnitOfWork([requests, disputes])
    s = DeadlineScheduler(uow=uow, requests=requests, disputes=disputes, policy=POLICY, clock=uow.clock, **kw)
    return s, requests, disputes, uow


async def test_due_requests_are_escalated_once_across_batches() -> None:
    s, repo, _, uow = scheduler(batch=3, concurrency=2)
    ids = seed(repo, 10)
    assert (await s.scan(now=T0 + timedelta(hours=3))).requests_due == 0
    result = await s.scan(now=T0 + timedelta(hours=4))
    assert (result.requests_due, result.requests_changed) == (10, 10)
    assert result.events == {"governance.request_overdue": 10, "governance.request_escalated": 10}
    assert (await s.scan(now=T0 + timedelta(hours=4))).requests_changed == 0
    for rid in ids:
        assert uow.types(rid) == ["governance.request_overdue", "governance.request_escalated"]
        assert repo.docs[rid]["level"] == "grid" and repo.docs[rid]["version"] == 2


async def test_a_request_moved_by_someone_else_is_left_alone() -> None:
    s, repo, _, uow = scheduler()
    (rid,) = seed(repo, 1)

    def dispatched_meanwhile(request_id: str) -> None:
        # the community dispatched it between the scan's query and its transaction
        doc = repo.docs[request_id]
        case = requests_repo.from_doc(doc)
        case.state = RequestState.DISPATCHED
        case.step_deadline_at = T0 + timedelta(hours=8)
        case.version += 1
        repo.docs[request_id] = requests_repo.to_doc(case)
        repo.on_read = None

    repo.on_read = dispatched_meanwhile
    result = await s.scan(now=T0 + timedelta(hours=4))
    assert result.requests_due == 1 and result.requests_changed == 0
    assert uow.types(rid) == [] and repo.docs[rid]["level"] == "building"


async def test_a_failing_record_does_not_stop_the_others_and_is_tried_again() -> None:
    s, repo, _, uow = scheduler(batch=2)
    ids = seed(repo, 5)
    repo.broken.add(ids[2])
    result = await s.scan(now=T0 + timedelta(hours=4))
    assert (result.requests_changed, result.failed) == (4, 1)
    assert uow.types(ids[2]) == [] and repo.docs[ids[2]]["version"] == 1
    repo.broken.clear()
    again = await s.scan(now=T0 + timedelta(hours=4))
    assert (again.requests_changed, again.failed) == (1, 0)
    assert uow.types(ids[2]) == ["governance.request_overdue", "governance.request_escalated"]


async def test_disputes_past_their_deadline_are_overdue_once() -> None:
    s, _, repo, uow = scheduler()
    d = DisputeCase.register(
        dispute_id="d1",
        kind=DisputeKind.LABOUR,
        summary="欠薪",
        community_code=PATH[4],
        building_code=None,
        area_path=PATH[:5],
        parties=[{"name_masked": "张*", "role": "applicant"}],
        mediator_name="调解员",
        mediator_subject=None,
        by=BY,
        now=T0,
        due_at=T0 + timedelta(days=30),
    )
    repo.docs[d.id] = disputes_repo.to_doc(d)
    assert (await s.scan(now=T0 + timedelta(days=29))).disputes_due == 0
    assert (await s.scan(now=T0 + timedelta(days=30))).disputes_changed == 1
    assert (await s.scan(now=T0 + timedelta(days=31))).disputes_changed == 0
    assert uow.types("d1") == ["governance.dispute_overdue"]
