"""One fake per repository Protocol, and each fake true to the real repository: for every
method of the Protocol, the real class and the fake both have it, both async or both not, with
the same parameter names, kinds and defaults (`self` aside)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import tests.fakes
from tests.fakes.registry import Pair


def all_pairs() -> list[Pair]:
    pairs: list[Pair] = []
    for info in pkgutil.iter_modules(tests.fakes.__path__):
        module = importlib.import_module(f"tests.fakes.{info.name}")
        pairs.extend(getattr(module, "PAIRS", []))
    return pairs


PAIRS = all_pairs()


def protocol_methods(protocol: type) -> list[str]:
    return sorted(
        name for name, member in vars(protocol).items() if not name.startswith("_") and inspect.isfunction(member)
    )


def shape(fn: object) -> tuple[bool, list[tuple[str, object, object]]]:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    params = [(p.name, p.kind, p.default) for p in sig.parameters.values()]
    return inspect.iscoroutinefunction(fn), [p for p in params if p[0] != "self"]


def test_every_fake_is_registered_once() -> None:
    assert PAIRS, "no fake registered in tests/fakes/*.py PAIRS"
    protocols = [p.protocol for p in PAIRS]
    assert len(protocols) == len(set(protocols)), "a Protocol has more than one fake"


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_the_fake_and_the_real_repository_have_the_protocol_s_methods(pair: Pair) -> None:
    methods = protocol_methods(pair.protocol)
    assert methods, f"{pair.protocol.__name__} declares no method"
    for name in methods:
        expected = shape(getattr(pair.protocol, name))
        for cls in (pair.real, pair.fake):
            assert hasattr(cls, name), f"{cls.__name__} lacks {name}"
            assert shape(getattr(cls, name)) == expected, f"{cls.__name__}.{name} differs from the Protocol"
