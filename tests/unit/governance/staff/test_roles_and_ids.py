"""The small rules of staffing, points and roles the community work relies on: stable ids, the
level each role is assigned at, the role a person with several acts in. No I/O."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from governance_service.points.domain import points_entry_id
from governance_service.points.models import RedeemIn
from governance_service.staff.domain import STAFF_ROLE_LEVEL, StaffRole, actor_of, staff_id_for
from relocation_shared.areas import Level
from relocation_shared.auth import ROLE_ACTIONS, Action, Principal, Role


def test_staff_and_points_ids_are_stable() -> None:
    assert staff_id_for(StaffRole.GRID_WORKER, "g", "u") == staff_id_for("grid_worker", "g", "u")
    assert staff_id_for(StaffRole.GRID_WORKER, "g", "u") != staff_id_for(StaffRole.GRID_WORKER, "g", "v")
    assert points_entry_id("h", None) is None
    assert points_entry_id("h", "k") == points_entry_id("h", "k") != points_entry_id("h2", "k")
    assert STAFF_ROLE_LEVEL[StaffRole.GRID_WORKER] is Level.GRID
    assert STAFF_ROLE_LEVEL[StaffRole.BUILDING_HEAD] is Level.BUILDING
    with pytest.raises(ValidationError):
        RedeemIn(household_id="h", goods="米", points=0)


def test_roles_for_community_work_extend_and_keep_the_registry_ones() -> None:
    assert Action.REGISTRY_WRITE in ROLE_ACTIONS[Role.GRID_WORKER]  # unchanged
    assert Action.REQUEST_HANDLE in ROLE_ACTIONS[Role.GRID_WORKER]
    assert Action.REQUEST_DISPATCH in ROLE_ACTIONS[Role.COMMUNITY_CADRE]
    assert Action.REQUEST_HANDLE not in ROLE_ACTIONS[Role.COMMUNITY_CADRE]
    assert Action.REQUEST_RATE in ROLE_ACTIONS[Role.PARTY_SECRETARY]
    assert ROLE_ACTIONS[Role.COMMISSION_VIEWER] == frozenset({Action.READ})
    assert Action.REGISTRY_WRITE not in ROLE_ACTIONS[Role.BUILDING_HEAD]
    both = Principal(
        subject="u", roles=frozenset({Role.COMMUNITY_CADRE, Role.GRID_WORKER}), areas=frozenset({"520330"})
    )
    assert actor_of(both, Action.REQUEST_HANDLE).role == "grid_worker"
    assert actor_of(both, Action.REQUEST_DISPATCH).role == "community_cadre"
