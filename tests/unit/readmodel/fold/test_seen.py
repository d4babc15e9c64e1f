"""The in-memory filter of folded event ids: each known id points to the documents holding it."""

from __future__ import annotations

import numpy as np

from readmodel_service.fold.seen import SeenFilter, id_hash


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
