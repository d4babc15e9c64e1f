"""The area hierarchy: province → city → county → town → community → grid → building.

Every record carries its area path, the codes from the province down to the lowest area it
belongs to, so a figure can be rolled up at any level and a user limited to the areas they
are responsible for. Province, city and county use GB/T 2260 six-digit codes (520000, 520300,
520330); towns and communities twelve-digit statistical codes; grids and buildings extend
their community's code (520330001001-G01, 520330001001-G01-B03).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


def within(path: Sequence[str], scope: set[str] | frozenset[str]) -> bool:
    """True when any code of the path is one of the scope's codes."""
    return any(code in scope for code in path)


def at_level(path: AreaPath | list[str], level: Level) -> str | None:
    """The code at `level` in the path, or None when the path does not reach that level."""
    return path[level.depth] if len(path) > level.depth else None


# The shape of a code at each level (full match). A town's statistical code is its county's 6
# digits, 3 of its own (not 000) and 000; a community's (居委会/村委会) ends in 3 digits that are
# not 000, so neither is ever taken for the other (path_of_code reads them so).
_TOWN = r"[0-9]{6}(?!000)[0-9]{3}000"
_COMMUNITY = r"[0-9]{6}(?!000)[0-9]{3}(?!000)[0-9]{3}"
_GRID = _COMMUNITY + r"-G[0-9]{2,3}"
_CODE_SHAPES = {
    Level.PROVINCE: re.compile(r"[0-9]{2}0000"),
    Level.CITY: re.compile(r"[0-9]{4}00"),
    Level.COUNTY: re.compile(r"[0-9]{6}"),
    Level.TOWN: re.compile(_TOWN),
    Level.COMMUNITY: re.compile(_COMMUNITY),
    Level.GRID: re.compile(_GRID),
    Level.BUILDING: re.compile(_GRID + r"-B[0-9]{2,3}"),
}

CODE_SHAPE_LABELS = {
    Level.PROVINCE: "6位数字,后4位为0",
    Level.CITY: "6位数字,后2位为0",
    Level.COUNTY: "6位数字",
    Level.TOWN: "12位数字,第7–9位不为000,后3位为000",
    Level.COMMUNITY: "12位数字,第7–9位和后3位均不为000",
    Level.GRID: "社区代码加 -Gnn",
    Level.BUILDING: "网格代码加 -Bnn",
}


def code_fits_level(code: str, level: Level) -> bool:
    """True when the code has the shape of a code at that level."""
    return bool(_CODE_SHAPES[level].fullmatch(code))


def path_of_code(code: str) -> AreaPath:
    """The area path a code implies by its shape alone, from the province down: 520000 →
    (520000,), 520300 → (520000, 520300), 520330001001-G01 → (520000, 520300, 520330,
    520330001000, 520330001001, 520330001001-G01). For scope checks and roll-ups on a bare code;
    a ValueError (its message for officials) for a code of no level's shape."""
    base, *rest = code.split("-")
    shaped = any(code_fits_level(code, level) for level in LEVELS[Level.COUNTY.depth :])
    if not shaped or base.startswith("00"):
        raise ValueError(
            f"区划代码 {code} 无效:应为6位(省、市、县)或12位(镇、社区)数字,网格、楼栋在社区代码后加 -Gnn、-Bnn"
        )
    path = [base[:2] + "0000", base[:4] + "00", base[:6]]
    if len(base) == 12:
        path += [base[:9] + "000", base]
    for part in rest:
        path.append(path[-1] + "-" + part)
    out: list[str] = []
    for c in path:  # 520000 is its own province and city level code only once
        if not out or out[-1] != c:
            out.append(c)
    return tuple(out)
