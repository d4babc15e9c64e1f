"""MongoDB helpers the projects' repositories share: reads by many ids in chunks, and the
conditional drawdown of a balance (an allocation's or a budget's remaining amount).

Bulk reads by id go in chunks: the MongoDB-protocol server answers `$in` queries in time that
grows with the square of the list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from relocation_shared.mongo import Doc

Session = AsyncClientSession | None

CHUNK = 100


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def by_ids(coll: AsyncCollection[Doc], ids: Iterable[str], session: Session) -> dict[str, Doc]:
    unique = sorted(set(ids))
    out: dict[str, Doc] = {}
    for part in chunks(unique):
        async for d in coll.find({"_id": {"$in": list(part)}}, session=session):
            out[d["_id"]] = d
    return out


async def draw(coll: AsyncCollection[Doc], draws: dict[str, int], session: Session) -> bool:
    """Draw from allocations or budgets: each only if enough remains (the conditional update
    that makes overspending impossible even if a check were skipped). True when all drew."""
    if not draws:
        return True
    ops = [
        UpdateOne(
            {"_id": key, "remaining_fen": {"$gte": amount}},
            {"$inc": {"remaining_fen": -amount, "disbursed_fen": amount}},
        )
        for key, amount in draws.items()
    ]
    result = await coll.bulk_write(ops, ordered=False, session=session)
    return result.matched_count == len(ops)


async def give_back(coll: AsyncCollection[Doc], key: str, amount: int, *, released: bool, session: Session) -> None:
    """A reversed disbursement: the amount is undisbursed again (released if the project was cancelled)."""
    inc = {"disbursed_fen": -amount, ("released_fen" if released else "remaining_fen"): amount}
    await coll.update_one({"_id": key}, {"$inc": inc}, session=session)
