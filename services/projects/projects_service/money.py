"""Money in fen, the only unit the projects service stores: the request types that refuse
fractions, negatives and typos of many zeros, and the display in yuan and 万元."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

MAX_FEN = 10**13  # 1000亿元: above any budget this platform will see; refuses typos of many zeros
FEN_PER_YUAN = 100
FEN_PER_WAN_YUAN = 1_000_000


def _fen(v: object, *, allow_zero: bool) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError("金额应为以“分”为单位的整数,不能有小数或文字")
    if v < 0:
        raise ValueError("金额不能为负数")
    if v == 0 and not allow_zero:
        raise ValueError("金额应大于 0")
    if v > MAX_FEN:
        raise ValueError("金额过大(上限 1000 亿元)")
    return v


def _positive_fen(v: object) -> int:
    return _fen(v, allow_zero=False)


def _non_negative_fen(v: object) -> int:
    return _fen(v, allow_zero=True)


PositiveFen = Annotated[int, BeforeValidator(_positive_fen), Field(description="金额(分),正整数")]
NonNegativeFen = Annotated[int, BeforeValidator(_non_negative_fen), Field(description="金额(分),非负整数")]
Year = Annotated[int, Field(strict=True, ge=2000, le=2100, description="资金年度")]
ID_FIELD = Field(min_length=1, max_length=64)


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exactly: 144917000000 → '1449170000.00'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def wan_yuan(fen: int) -> str:
    """Fen in 万元 (ten thousand yuan), rounded half up to two decimals, as the reports write it."""
    value = (Decimal(fen) / FEN_PER_WAN_YUAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:.2f}"


class Money(BaseModel):
    fen: int
    yuan: str
    wan_yuan: str = Field(description="万元")

    @classmethod
    def of(cls, fen: int) -> Money:
        return cls(fen=fen, yuan=yuan(fen), wan_yuan=wan_yuan(fen))
