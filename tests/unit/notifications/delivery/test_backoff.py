"""Retries: exponential backoff with jitter, and which gateway answers are worth another attempt."""

from __future__ import annotations

import random

from notifications_service.delivery.backoff import backoff_delay, retryable_status

# --- retries and quiet hours ---------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (10, 60.0), (30, 60.0)]:
        delays = [backoff_delay(attempt, base=2.0, cap=60.0, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempt
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not all the same
    assert backoff_delay(1, base=1, cap=10, rng=random.Random(1)) != backoff_delay(
        1, base=1, cap=10, rng=random.Random(2)
    )


def test_which_gateway_answers_are_worth_another_attempt() -> None:
    assert [s for s in (200, 400, 401, 404, 408, 409, 429, 500, 502, 503) if retryable_status(s)] == [
        408,
        429,
        500,
        502,
        503,
    ]
