"""The fold's plan: a change rolls up to every level and takes effect on its business day, and
the documents written add the batch to what is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime

from readmodel_service.fold.plan import FoldPlan, storage_id
from readmodel_service.fold.repository import documents
from relocation_shared.events import CATALOG
from relocation_shared.events.employment import EmploymentEnded, HouseholdLabourChanged, WorkerEmployed
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.mongo import Doc
from tests.clock import NOW
from tests.unit.readmodel.helpers import PATH, envelope


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
    views, daily = documents(plan, views={}, daily={}, now=datetime(2025, 7, 1, tzinfo=UTC))
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
    stored_views: dict[str, Doc] = {
        "520330": {"_id": "520330", "name": "习水县", "counters": {"labour_force": 10, "employed": 7}},
        PATH[4]: {"_id": PATH[4], "counters": {"labour_force": 4}, "sub": {PATH[5]: {"counters": {"labour_force": 4}}}},
    }
    day = "2025-06-30"
    stored_daily: dict[str, Doc] = {f"5203|{day}": {"_id": f"5203|{day}", "areas": {"520330": {"labour_force": 1}}}}
    views, daily = documents(plan, views=stored_views, daily=stored_daily, now=NOW)
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
