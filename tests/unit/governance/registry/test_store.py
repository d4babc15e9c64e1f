"""The fake store is true to the real one: every public method of `MongoRegistryStore` exists
in `FakeRegistryStore` and no other, with the same parameter names, kinds and default values
(beyond the Protocol check of tests/unit/test_fakes_match.py)."""

from __future__ import annotations

import inspect

from governance_service.registry.repository import MongoRegistryStore
from tests.fakes.governance import FakeRegistryStore


def public_signatures(cls: type) -> dict[str, list[tuple[str, object, object]]]:
    return {
        name: [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]
        for name, fn in vars(cls).items()
        if inspect.iscoroutinefunction(fn) and not name.startswith("_")
    }


def test_the_fake_repository_has_exactly_the_real_ones_methods() -> None:
    assert public_signatures(FakeRegistryStore) == public_signatures(MongoRegistryStore)
