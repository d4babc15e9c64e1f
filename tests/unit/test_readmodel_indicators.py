"""The read model's indicator arithmetic, rounding as officials read it, and the roll-up."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from readmodel_service.models import FOLDS, INDICATORS, rounded
from readmodel_service.service import FoldPlan, SeenFilter, evaluate, id_hash, storage_id, target_for
from relocation_shared.events import CATALOG
from relocation_shared.events.employment import EmploymentEnded, HouseholdLabourChanged, WorkerEmployed
from relocation_shared.events.governance import HouseholdRegistered
from tests.clock import NOW, TODAY

PATH = ("520000", "520300", "520330", "520330001000", "520330001001", "520330001001-G01", "520330001001-G01-B01")
TARGETS = {
    "employment_rate": {"default": 95.0, "520330": 98.0},
    "zero_employment_households": {"default": 0},
}


def value(key: str, counters: dict[str, int]) -> float | None:
    ind = INDICATORS[key]
    return rounded(ind.compute(counters), ind.decimals)


def test_the_seed_figures_round_as_officials_read_them() -> None:
    # 遵义 2025: 98,600 employed of 101,263 labour force in 44,018 households with labour
    counters = {"employed": 98_600, "labour_force": 101_263, "households_with_labour": 44_018}
    assert value("employment_rate", counters) == 97.37
    assert value("employed_per_household", counters) == 2.24
    # 2020: 2.12 per household, 92 % (rounding half up, not to even)
    assert value("employed_per_household", {"employed": 2125, "households_with_labour": 1000}) == 2.13
    assert value("employment_rate", {"employed": 92_125, "labour_force": 100_000}) == 92.13
    assert value("employment_rate", {"employed": 1, "labour_force": 8}) == 12.5


def test_ratios_without_a_denominator_are_absent_not_zero() -> None:
    assert value("employment_rate", {"employed": 0, "labour_force": 0}) is None
    assert value("average_monthly_wage", {}) is None
    assert value("average_monthly_wage", {"wage_sum": 10_501, "employed": 3}) == 3500


def test_away_and_local_add_up_to_employed() -> None:
    keys = [k for k in INDICATORS if k.startswith("employed:")]
    assert len(keys) == 6
    assert INDICATORS["employed:out_of_province"].label == "省外务工"
    assert INDICATORS["employment_rate"].label == "人均就业落实率"


def test_targets_by_area_then_level_then_default_and_the_gap() -> None:
    assert target_for(TARGETS, "employment_rate", code="520330", level="county") == 98.0
    assert target_for(TARGETS, "employment_rate", code="520382", level="county") == 95.0
    assert target_for(TARGETS, "households", code="520382", level="county") is None
    values = {
        v.key: v
        for v in evaluate(
            {"employed": 97, "labour_force": 100, "zero_employment_households": 2},
            code="520330",
            level="county",
            targets=TARGETS,
            on=TODAY,
        )
    }
    assert values["employment_rate"].gap == -1.0 and values["employment_rate"].met is False
    assert values["zero_employment_households"].gap == 2 and values["zero_employment_households"].met is False
    ok = {
        v.key: v
        for v in evaluate(
            {"employed": 99, "labour_force": 100}, code="520382", level="county", targets=TARGETS, on=TODAY
        )
    }
    assert ok["employment_rate"].met is True and ok["employment_rate"].gap == 4.0


def envelope(payload, at=datetime(2025, 6, 30, 8, tzinfo=UTC)):
    return CATALOG.envelope(payload, producer="t", area_path=PATH, aggregate_id="h1", occurred_at=at)


def test_a_community_change_rolls_up_to_every_level_and_takes_effect_on_its_business_day() -> None:
    plan = FoldPlan()
    events = [
        HouseholdRegistered(
            household_id="h1",
            kind="co_relocated",
            community_code=PATH[4],
            grid_code=PATH[5],
            building_code=PATH[6],
            registered_on=date(2024, 1, 2),
        ),
        HouseholdLabourChanged(household_id="h1", labour_count=2, previous_labour_count=0, employed_count=0),
        WorkerEmployed(
            spell_id="s1",
            resident_id="r1",
            household_id="h1",
            employment_type="public_welfare_post",
            organised_export=False,
            employer="社区",
            monthly_wage=1800,
            started_on=date(2025, 3, 1),
        ),
        EmploymentEnded(
            spell_id="s0",
            resident_id="r0",
            household_id="h1",
            employment_type="out_of_province",
            organised_export=True,
            monthly_wage=5000,
            started_on=date(2024, 3, 1),
            ended_on=date(2025, 6, 1),
            reason="返乡",
        ),
    ]
    for p in events:
        e = envelope(p)
        plan.add(e, CATALOG.payload_of(e))
    for code in PATH:
        assert plan.views[code]["households:co_relocated"] == 1
        assert plan.views[code]["labour_force"] == 2
        assert plan.views[code]["employed"] == 0  # one in, one out
        assert plan.views[code]["employed_local"] == 1 and plan.views[code]["employed_away"] == -1
        assert plan.views[code]["organised_export"] == -1
    assert plan.view_meta["520330"] == {"level": "county", "parent": "520300", "path": list(PATH[:3])}
    assert plan.view_meta[PATH[-1]]["level"] == "building"
    days = {day for (bucket, day), areas in plan.daily.items() if "520330" in areas}
    assert days == {"2024-01-02", "2025-06-30", "2025-03-01", "2025-06-01"}
    views, daily = plan.documents(views={}, daily={}, now=datetime(2025, 7, 1, tzinfo=UTC))
    # province, city, county, town and community documents; the grid and the building inside the community's
    assert [d["_id"] for d in views] == list(PATH[:5])
    community = views[-1]
    assert set(community["sub"]) == {PATH[5], PATH[6]}
    assert community["sub"][PATH[6]]["counters"]["labour_force"] == 2
    assert community["sub"][PATH[6]]["parent"] == PATH[5] and community["sub"][PATH[6]]["level"] == "building"
    assert all(d["updated_at"] == datetime(2025, 7, 1, tzinfo=UTC) for d in views)
    assert len(daily) == 2 * 4  # a ledger document per bucket (the province; the city) and business day
    assert any(d["areas"].get("520330001001", {}).get("labour_force") == 2 for d in daily)
    assert not any(PATH[5] in d["areas"] for d in daily)  # trends stop at the community


def test_documents_add_the_batch_to_what_is_stored() -> None:
    plan = FoldPlan()
    e = envelope(HouseholdLabourChanged(household_id="h1", labour_count=3, previous_labour_count=1, employed_count=0))
    plan.add(e, CATALOG.payload_of(e))
    stored_views = {
        "520330": {"_id": "520330", "name": "习水县", "counters": {"labour_force": 10, "employed": 7}},
        PATH[4]: {"_id": PATH[4], "counters": {"labour_force": 4}, "sub": {PATH[5]: {"counters": {"labour_force": 4}}}},
    }
    day = "2025-06-30"
    stored_daily = {f"5203|{day}": {"_id": f"5203|{day}", "areas": {"520330": {"labour_force": 1}}}}
    views, daily = plan.documents(views=stored_views, daily=stored_daily, now=NOW)
    by_id = {d["_id"]: d for d in views}
    assert by_id["520330"]["counters"] == {"labour_force": 12, "employed": 7}
    assert by_id["520330"]["name"] == "习水县"  # kept: this batch did not rename it
    assert by_id[PATH[4]]["counters"] == {"labour_force": 6}
    assert by_id[PATH[4]]["sub"][PATH[5]]["counters"] == {"labour_force": 6}
    assert by_id[PATH[4]]["sub"][PATH[6]]["counters"] == {"labour_force": 2}
    ledger = {d["_id"]: d for d in daily}
    assert ledger[f"5203|{day}"]["areas"]["520330"] == {"labour_force": 3}
    assert ledger[f"5203|{day}"]["areas"][PATH[4]] == {"labour_force": 2}
    assert ledger[f"5203|{day}"]["areas"]["520300"] == {"labour_force": 2}
    assert stored_views["520330"]["counters"]["labour_force"] == 10  # the stored documents are not changed


def test_storage_id_puts_grids_and_buildings_in_their_community() -> None:
    assert storage_id("520330001001-G01-B02") == "520330001001"
    assert storage_id("520330001001-G01") == "520330001001"
    assert storage_id("520330001001") == "520330001001"
    assert storage_id("520330") == "520330"


def _seen_doc(doc_id: str, tp: str, next_offset: int, ids: list[str]) -> dict:
    return {"_id": doc_id, "tp": tp, "next": next_offset, "h": np.array([id_hash(i) for i in ids], "<u8").tobytes()}


def test_seen_filter_points_each_known_id_to_its_document() -> None:
    f = SeenFilter()
    f.add(_seen_doc("t:0@0", "t:0", 3, ["a", "b", "c"]))
    f.add(_seen_doc("t:1@0", "t:1", 2, ["d", "e"]))
    f.add(_seen_doc("t:1@0", "t:1", 2, ["d", "e"]))  # the same document again: nothing new
    assert len(f) == 5
    assert f.covered == {"t:0": 3, "t:1": 2}
    got = f.maybe({i: id_hash(i) for i in ["a", "e", "z"]})
    assert got == {"a": ["t:0@0"], "e": ["t:1@0"]}


def test_seen_filter_answers_the_same_after_merging_into_sorted_arrays(monkeypatch) -> None:
    monkeypatch.setattr(SeenFilter, "MERGE_AT", 4)
    f = SeenFilter()
    f.add(_seen_doc("t:0@0", "t:0", 3, ["a", "b", "c"]))
    f.add(_seen_doc("t:0@3", "t:0", 5, ["d", "e"]))  # 5 pending ≥ 4: merged
    f.add(_seen_doc("t:0@5", "t:0", 6, ["g"]))
    assert [list(h) for h, _ in f.pending] == [[id_hash("g")]] and f.pending_ids == 1
    assert len(f.hashes) == 5 and list(f.hashes) == sorted(f.hashes) and len(f) == 6
    got = f.maybe({i: id_hash(i) for i in ["a", "d", "g", "q"]})
    assert got == {"a": ["t:0@0"], "d": ["t:0@3"], "g": ["t:0@5"]}


def test_seen_filter_keeps_every_document_of_a_colliding_hash() -> None:
    f = SeenFilter()
    f.add({"_id": "x", "tp": "t:0", "next": 1, "h": np.array([42], "<u8").tobytes()})
    f.add({"_id": "y", "tp": "t:0", "next": 2, "h": np.array([42], "<u8").tobytes()})
    assert f.maybe({"whatever": 42}) == {"whatever": ["x", "y"]}
    f._merge()
    assert sorted(f.maybe({"whatever": 42})["whatever"]) == ["x", "y"]


@pytest.mark.parametrize("event_type", sorted(FOLDS))
def test_every_fold_is_for_a_catalog_event(event_type: str) -> None:
    assert event_type in CATALOG.types
