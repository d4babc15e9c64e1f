"""UUIDv7 ids: version and variant bits, the millisecond prefix, and strict order (MongoDB
sorts them as strings) even within one millisecond, across a counter overflow and when the
clock steps back."""

from __future__ import annotations

import itertools
import time
import uuid
from types import SimpleNamespace

import pytest

from relocation_shared import ids
from relocation_shared.ids import new_id, uuid7


def test_version_and_variant_bits() -> None:
    for _ in range(100):
        u = uuid7()
        assert u.version == 7
        assert u.variant == uuid.RFC_4122
        assert (u.int >> 76) & 0xF == 0x7
        assert (u.int >> 62) & 0b11 == 0b10


def test_new_id_is_the_canonical_lowercase_string() -> None:
    s = new_id()
    assert len(s) == 36 and s == s.lower() and s.count("-") == 4
    assert uuid.UUID(s).version == 7 and str(uuid.UUID(s)) == s


def test_the_time_prefix_is_now_in_unix_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    u = uuid7()
    after = time.time_ns() // 1_000_000
    ms = u.int >> 80
    # the counter may borrow a millisecond or so when ids are made very fast
    assert before <= ms <= after + 50


def test_ten_thousand_consecutive_ids_strictly_increase_as_uuids_and_as_strings() -> None:
    made = [uuid7() for _ in range(10_000)]
    assert all(a.int < b.int for a, b in itertools.pairwise(made))
    strings = [str(u) for u in made]
    assert all(a < b for a, b in itertools.pairwise(strings))
    assert len(set(strings)) == len(strings)
    assert strings == sorted(strings)


class FrozenClock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def time_ns(self) -> int:
        return self.ms * 1_000_000


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """A clock of its own for the ids module (the real `time` module stays untouched)."""
    frozen = FrozenClock(ids._last_ms + 10_000)
    monkeypatch.setattr(ids, "time", SimpleNamespace(time_ns=frozen.time_ns))
    return frozen


def test_ids_of_one_millisecond_are_ordered_by_the_counter(clock: FrozenClock) -> None:
    made = [uuid7() for _ in range(500)]
    assert all(a.int < b.int for a, b in itertools.pairwise(made))
    assert {u.int >> 80 for u in made} == {clock.ms}  # nobody borrowed: the counter had room


def test_an_exhausted_counter_borrows_the_next_millisecond(clock: FrozenClock) -> None:
    made = [uuid7() for _ in range(5_000)]  # more than the 12-bit counter holds
    assert all(a.int < b.int for a, b in itertools.pairwise(made))
    prefixes = [u.int >> 80 for u in made]
    assert prefixes[0] == clock.ms and prefixes[-1] > clock.ms
    assert prefixes == sorted(prefixes)


def test_a_clock_stepping_back_does_not_break_the_order(clock: FrozenClock) -> None:
    first = uuid7()
    clock.ms -= 5_000  # NTP step
    second = uuid7()
    assert second.int > first.int and str(second) > str(first)
    clock.ms += 10_000
    third = uuid7()
    assert third.int > second.int and third.int >> 80 == clock.ms
