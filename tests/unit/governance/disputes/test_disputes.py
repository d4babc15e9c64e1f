"""Dispute mediation (矛盾纠纷调解) as a state machine with a deadline, and the Beijing business
days its sessions are held on. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from governance_service.disputes.domain import DisputeCase, DisputeState
from governance_service.disputes.models import DisputeIn, SessionIn
from governance_service.disputes.repository import from_doc, to_doc
from governance_service.staff.domain import Actor
from relocation_shared.clock import business_day
from relocation_shared.errors import Conflict, InvalidInput
from relocation_shared.events import CATALOG
from relocation_shared.events.disputes import DisputeKind, DisputeMediated, DisputeOutcome, DisputeOverdue
from tests.clock import NOW

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
PATH = ["520000", "520300", "520330", "520330001000", "520330001001"]
CADRE = Actor(subject="cadre-1", name="李社区", role="community_cadre")


def dispute() -> DisputeCase:
    return DisputeCase.register(
        dispute_id="d-1",
        kind=DisputeKind.NEIGHBOURHOOD,
        summary="噪音纠纷",
        community_code=PATH[-1],
        building_code=None,
        area_path=PATH,
        parties=[{"name_masked": "张*", "role": "applicant"}, {"name_masked": "李*", "role": "respondent"}],
        mediator_name="红帽子调解队",
        mediator_subject=None,
        by=CADRE,
        now=T0,
        due_at=T0 + timedelta(days=30),
    )


@pytest.mark.parametrize("outcome", list(DisputeOutcome), ids=str)
def test_each_outcome_concludes_once(outcome: DisputeOutcome) -> None:
    d = dispute()
    d.add_session(held_at=T0 + timedelta(days=1), note="第一次调解", by=CADRE, now=T0 + timedelta(days=1))
    referred_to = "县人民法院诉调对接中心" if outcome is DisputeOutcome.REFERRED else None
    d.conclude(outcome=outcome, referred_to=referred_to, note=None, by=CADRE, now=T0 + timedelta(days=5))
    assert d.state is DisputeState.CONCLUDED and d.next_deadline_at is None
    e = d.events[-1]
    assert isinstance(e, DisputeMediated)
    assert e.successful is (outcome is DisputeOutcome.MEDIATED_SUCCESSFULLY)
    assert (e.sessions, e.days_to_outcome, e.on_time) == (1, 5, True)
    CATALOG.envelope(e, producer="t", area_path=PATH, aggregate_id=d.id, occurred_at=NOW)
    before = to_doc(d)
    for attempt in (
        lambda: d.add_session(held_at=T0, note="x", by=CADRE, now=T0 + timedelta(days=6)),
        lambda: d.conclude(outcome=outcome, referred_to=referred_to, note=None, by=CADRE, now=T0 + timedelta(days=6)),
    ):
        with pytest.raises(Conflict) as err:
            attempt()
        assert err.value.context["state"] == "concluded" and "已结案" in err.value.message
    assert to_doc(d) == before


def test_outcome_rules() -> None:
    d = dispute()
    with pytest.raises(Conflict) as err:  # mediated without any session
        d.conclude(outcome=DisputeOutcome.FAILED, referred_to=None, note=None, by=CADRE, now=T0)
    assert err.value.field == "sessions"
    with pytest.raises(InvalidInput) as bad:
        d.conclude(outcome=DisputeOutcome.REFERRED, referred_to=None, note=None, by=CADRE, now=T0)
    assert bad.value.field == "referred_to"
    d.add_session(held_at=T0, note="调解", by=CADRE, now=T0)
    with pytest.raises(InvalidInput):
        d.conclude(outcome=DisputeOutcome.FAILED, referred_to="法院", note=None, by=CADRE, now=T0)
    with pytest.raises(InvalidInput) as future:
        d.add_session(held_at=T0 + timedelta(hours=1), note="调解", by=CADRE, now=T0)
    assert future.value.field == "held_at"
    # referred straight away, without a session, is allowed
    d2 = dispute()
    d2.conclude(outcome=DisputeOutcome.REFERRED, referred_to="县信访局", note=None, by=CADRE, now=T0)
    assert d2.state is DisputeState.CONCLUDED


def test_deadline_is_overdue_once_and_a_late_outcome_is_not_on_time() -> None:
    d = dispute()
    assert d.on_deadline(now=T0 + timedelta(days=29)) is False
    assert d.on_deadline(now=T0 + timedelta(days=30)) is True
    assert isinstance(d.events[-1], DisputeOverdue) and d.next_deadline_at is None
    assert d.on_deadline(now=T0 + timedelta(days=40)) is False
    d.add_session(held_at=T0 + timedelta(days=31), note="调解", by=CADRE, now=T0 + timedelta(days=31))
    d.conclude(
        outcome=DisputeOutcome.MEDIATED_SUCCESSFULLY, referred_to=None, note=None, by=CADRE, now=T0 + timedelta(days=32)
    )
    assert d.events[-1].on_time is False
    assert to_doc(from_doc(to_doc(d))) == to_doc(d)


def test_dispute_input_keeps_no_raw_identity() -> None:
    with pytest.raises(ValidationError) as err:
        DisputeIn(
            kind="family",
            summary="家庭纠纷",
            community_code=PATH[-1],
            parties=[{"name": "张三", "national_id": "520330199001011234"}],
            mediator_name="调解员",
        )
    assert err.value.errors()[0]["loc"] == ("parties", 0, "national_id")
    with pytest.raises(ValidationError):
        DisputeIn(
            kind="family",
            summary="电话 13912345678",
            community_code=PATH[-1],
            parties=[{"name": "张三"}],
            mediator_name="调解员",
        )


def test_business_days_are_beijing_days() -> None:
    late_evening_utc = datetime(2025, 6, 30, 23, 0, tzinfo=UTC)  # 07:00 on 1 July in Beijing
    assert business_day(late_evening_utc).isoformat() == "2025-07-01"
    held = SessionIn(held_at="2025-07-01T09:30:00", note="面谈").held_at
    assert held is not None and held.utcoffset() == timedelta(hours=8)
    assert held == datetime(2025, 7, 1, 1, 30, tzinfo=UTC)
