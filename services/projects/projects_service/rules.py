"""Rules every domain of the projects service applies to its input: plausible dates (from
2015-01-01 to today, `relocation_shared.dates`),
area codes read through the shared area paths, free text stored with ID and phone numbers masked."""

from __future__ import annotations

from datetime import date

from relocation_shared.areas import AreaPath, path_of_code
from relocation_shared.dates import plausible_day
from relocation_shared.errors import InvalidInput
from relocation_shared.pii import scrub


def not_future(day: date, field: str, what: str, *, today: date) -> None:
    """A day that has happened: not after today, nor before the programme began (2015-01-01)."""
    plausible_day(day, today=today, field=field, what=what)


def area_path_of(code: str, field: str = "area") -> AreaPath:
    """The path of an area code, or InvalidInput naming the field (the message is for officials)."""
    try:
        return path_of_code(code)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from exc


def clean_text(text: str | None) -> str | None:
    """Free text (memos, reasons) is stored and published with ID and phone numbers masked."""
    return scrub(text) if text else text
