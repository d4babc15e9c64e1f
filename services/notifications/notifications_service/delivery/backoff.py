"""Retries: which gateway answers are worth another attempt, and how long to wait before it."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempt + 1` after `attempt` failures: exponential (base·2^(n-1))
    up to `cap`, with 'equal jitter' (between half and all of it) so that retries of many
    deliveries after one gateway outage spread out instead of arriving together."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    r = (rng or random).random()
    return ceiling / 2 + r * ceiling / 2


def retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 425, 429)
