"""Batches: bureau systems and loaders send many rows at once. Good rows are kept, each bad
row is reported with its index, the field at fault and the reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from relocation_shared.errors import DomainError, InvalidInput
from relocation_shared.web import validation_errors

M = TypeVar("M", bound=BaseModel)


class Input(BaseModel):
    """Base of request bodies: unknown fields are refused, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BatchIn(BaseModel):
    # Any JSON value per row: a row that is not an object is that row's error, not the batch's.
    items: list[Any] = Field(min_length=1, description="每一行为一个 JSON 对象")


class Accepted(BaseModel):
    index: int
    id: str


class Rejected(BaseModel):
    index: int
    field: str
    error: str
    message: str


class BatchResult(BaseModel):
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []


class Outcome:
    """What a batch use case did: ids of the rows it wrote, domain errors of those it did not."""

    def __init__(self) -> None:
        self.accepted: list[Accepted] = []
        self.errors: list[tuple[int, DomainError]] = []

    def accept(self, index: int, id_: str) -> None:
        self.accepted.append(Accepted(index=index, id=id_))

    def reject(self, index: int, error: DomainError) -> None:
        self.errors.append((index, error))

    def single(self) -> str:
        """For one-row calls: the new id, or the row's error raised as it is."""
        if self.errors:
            raise self.errors[0][1]
        return self.accepted[0].id

    def result(self, parse_errors: list[Rejected]) -> BatchResult:
        rejected = [
            *parse_errors,
            *(Rejected(index=i, field=e.field or "body", error=e.code, message=e.message) for i, e in self.errors),
        ]
        return BatchResult(accepted=self.accepted, rejected=sorted(rejected, key=lambda r: r.index))


NOT_AN_OBJECT = "每一行应为一个对象"


def parse_rows(rows: list[Any], model: type[M], *, max_items: int) -> tuple[list[tuple[int, M]], list[Rejected]]:
    if len(rows) > max_items:
        raise InvalidInput(f"每批最多 {max_items} 条", field="items")
    good: list[tuple[int, M]] = []
    bad: list[Rejected] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            bad.append(Rejected(index=i, field="body", error="invalid", message=NOT_AN_OBJECT))
            continue
        try:
            good.append((i, model.model_validate(row)))
        except ValidationError as exc:
            first = validation_errors(list(exc.errors()))[0]
            bad.append(Rejected(index=i, field=first["field"], error="invalid", message=first["message"]))
    return good, bad


# A batch use case: applies the parsed rows (index, model) in one unit of work and says which it
# wrote and which it refused.
ApplyRows = Callable[[list[tuple[int, M]]], Awaitable[Outcome]]


async def apply_one(data: M, apply: ApplyRows[M]) -> str:
    """A single-row call through the batch use case: the new id, or the row's error raised."""
    outcome = await apply([(0, data)])
    return outcome.single()


async def apply_many(rows: list[Any], model: type[M], apply: ApplyRows[M], *, max_items: int) -> BatchResult:
    """A batch call: rows that do not parse are reported with the rest, the others applied together."""
    good, bad = parse_rows(rows, model, max_items=max_items)
    outcome = await apply(good)
    return outcome.result(bad)
