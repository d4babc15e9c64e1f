"""The area hierarchy: province → city → county → town → community → grid → building.

Every record carries its area path, the codes from the province down to the lowest area it
belongs to, so a figure can be rolled up at any level and a user limited to the areas they
are responsible for. Province, city and county use GB/T 2260 six-digit codes (520000, 520300,
520330); towns and communities twelve-digit statistical codes; grids and buildings extend
their community's code (520330001001-G01, 520330001001-G01-B03).
"""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWN = "town"
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"

    @property
    def depth(self) -> int:
        return LEVELS.index(self)

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    def child(self) -> Level | None:
        i = LEVELS.index(self)
        return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


LEVELS: tuple[Level, ...] = tuple(Level)

LEVEL_LABELS = {
    Level.PROVINCE: "省",
    Level.CITY: "市",
    Level.COUNTY: "县(市、区)",
    Level.TOWN: "镇(街道)",
    Level.COMMUNITY: "安置社区",
    Level.GRID: "网格",
    Level.BUILDING: "楼栋",
}

AreaPath = tuple[str, ...]


def level_of_path(path: AreaPath) -> Level:
    return LEVELS[len(path) - 1]


def within(path: AreaPath | list[str], scope: set[str] | frozenset[str]) -> bool:
    """True when any code of the path is one of the scope's codes."""
    return any(code in scope for code in path)


def at_level(path: AreaPath | list[str], level: Level) -> str | None:
    """The code at `level` in the path, or None when the path does not reach that level."""
    return path[level.depth] if len(path) > level.depth else None
