"""Area codes by shape, and business days in China Standard Time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from relocation_shared.areas import Level, code_fits_level, path_of_code
from relocation_shared.clock import business_day


@pytest.mark.parametrize(
    ("code", "path"),
    [
        ("520300", ("520000", "520300")),
        ("520330", ("520000", "520300", "520330")),
        ("520330001000", ("520000", "520300", "520330", "520330001000")),
        ("520330001001", ("520000", "520300", "520330", "520330001000", "520330001001")),
        (
            "520330001001-G01-B02",
            (
                "520000",
                "520300",
                "520330",
                "520330001000",
                "520330001001",
                "520330001001-G01",
                "520330001001-G01-B02",
            ),
        ),
    ],
)
def test_the_path_a_code_implies(code: str, path: tuple[str, ...]) -> None:
    assert path_of_code(code) == path


@pytest.mark.parametrize("code", ["5203", "52033000100", "abc", "520330-G01x", "", "520330000001", "520330001000-G01"])
def test_a_code_of_no_known_shape_is_refused(code: str) -> None:
    with pytest.raises(ValueError):
        path_of_code(code)


@pytest.mark.parametrize(
    ("code", "level", "fits"),
    [
        ("520000", Level.PROVINCE, True),
        ("520300", Level.PROVINCE, False),
        ("520300", Level.CITY, True),
        ("520330", Level.COUNTY, True),
        ("520330001000", Level.TOWN, True),
        ("520330-G01", Level.TOWN, False),
        ("520330001001-G01", Level.GRID, True),
        ("520330001001-G012", Level.GRID, True),
        ("520330001001-G012", Level.BUILDING, False),
        ("520330001001-G01-B03", Level.BUILDING, True),
        # a town ends in 000 and a community does not: neither is taken for the other
        ("520330001001", Level.COMMUNITY, True),
        ("520330001000", Level.COMMUNITY, False),
        ("520330001001", Level.TOWN, False),
        ("520330000000", Level.TOWN, False),
        ("520330000001", Level.COMMUNITY, False),
        ("520330001000-G01", Level.GRID, False),
    ],
)
def test_code_shapes_by_level(code: str, level: Level, fits: bool) -> None:
    assert code_fits_level(code, level) is fits


def test_a_business_day_is_the_day_in_china() -> None:
    # 2 March 07:00 in Zunyi is still 1 March in UTC
    assert business_day(datetime(2025, 3, 1, 23, 0, tzinfo=UTC)) == date(2025, 3, 2)
    assert business_day(datetime(2025, 3, 1, 15, 59, tzinfo=UTC)) == date(2025, 3, 1)
    assert business_day(datetime(2025, 3, 1, 16, 0)) == date(2025, 3, 2)  # naive: UTC
