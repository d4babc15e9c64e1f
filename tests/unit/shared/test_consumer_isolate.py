"""`isolate`: a batch is applied in as few all-or-nothing calls as its refusals allow, in order,
and only the refused items are given back."""

from __future__ import annotations

import pytest

from relocation_shared.consumer import Refused, isolate
from relocation_shared.errors import NotFound


class Store:
    """An all-or-nothing `apply`: a call either commits its whole list or raises `Refused`.
    `named` poisons are refused with their index (a handler refused them); the others make the
    call fail as a whole (`Refused(None, ...)`)."""

    def __init__(self, *, named: frozenset[int] = frozenset(), anonymous: frozenset[int] = frozenset()) -> None:
        self.named = named
        self.anonymous = anonymous
        self.committed: list[int] = []
        self.calls: list[list[int]] = []

    async def apply(self, items: list[int]) -> None:
        self.calls.append(list(items))
        for n, item in enumerate(items):
            if item in self.named:
                raise Refused(n, NotFound(f"no {item}"))
        if self.anonymous & set(items):
            raise Refused(None, ValueError("the batch as a whole"))
        self.committed += items


async def test_a_clean_batch_is_applied_in_one_call() -> None:
    store = Store()
    assert await isolate(list(range(50)), store.apply) == []
    assert store.calls == [list(range(50))]
    assert store.committed == list(range(50))


async def test_nothing_to_apply_makes_no_call() -> None:
    store = Store()
    assert await isolate([], store.apply) == []
    assert store.calls == []


async def test_a_named_refusal_drops_only_that_item_and_applies_the_rest_together() -> None:
    store = Store(named=frozenset({4}))
    refused = await isolate(list(range(9)), store.apply)
    assert [(item, str(err)) for item, err in refused] == [(4, "no 4")]
    assert store.committed == [0, 1, 2, 3, 5, 6, 7, 8]  # in order, once each
    assert len(store.calls) == 2


async def test_several_named_refusals_come_back_in_the_batch_order() -> None:
    store = Store(named=frozenset({7, 2, 5}))
    refused = await isolate(list(range(10)), store.apply)
    assert [item for item, _ in refused] == [2, 5, 7]
    assert store.committed == [0, 1, 3, 4, 6, 8, 9]
    assert len(store.calls) == 4


async def test_a_failure_naming_no_item_is_found_by_halving() -> None:
    store = Store(anonymous=frozenset({37}))
    refused = await isolate(list(range(64)), store.apply)
    assert [item for item, _ in refused] == [37]
    assert isinstance(refused[0][1], ValueError)
    assert sorted(store.committed) == [n for n in range(64) if n != 37]
    # each half is committed before the next: the batch's order is kept
    assert store.committed == sorted(store.committed)
    assert len(store.calls) <= 2 * 6 + 1  # two calls per halving, log2(64) halvings, plus the first


async def test_named_and_anonymous_poisons_together() -> None:
    store = Store(named=frozenset({1}), anonymous=frozenset({6}))
    refused = await isolate(list(range(8)), store.apply)
    assert [item for item, _ in refused] == [1, 6]
    assert store.committed == [0, 2, 3, 4, 5, 7]


async def test_an_error_that_is_not_a_refusal_goes_up_unapplied() -> None:
    async def broken(items: list[int]) -> None:
        raise ConnectionError("not for isolate to judge")

    with pytest.raises(ConnectionError):
        await isolate([1, 2, 3], broken)
