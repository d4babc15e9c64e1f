"""Fixtures of the registry's unit tests: `bare` (no area loaded yet) and `world` (the area
file loaded, its events cleared)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.governance.registry.world import World, bare_world


@pytest.fixture
def bare(tmp_path: Path) -> World:
    return bare_world(tmp_path)


@pytest.fixture
async def world(bare: World) -> World:
    await bare.svc.load_areas(path=bare.area_file)
    bare.uow.clear()
    return bare
