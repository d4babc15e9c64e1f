"""Which fake stands for which repository: every service's fakes module adds its
(Protocol, real class, fake class) triples to PAIRS, and tests/unit/test_fakes_match.py checks
that the real class and the fake both have every method of the Protocol, with the same
parameters, so a use case tested against a fake runs against the real repository too."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    protocol: type
    real: type
    fake: type

    @property
    def id(self) -> str:
        return f"{self.real.__module__}.{self.real.__name__}"
