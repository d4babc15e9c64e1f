"""The fold, pure: from parsed events to one batch's effect. `FoldPlan.add` does the least per
event (a batch folds tens of thousands); the views of every level, the daily ledger and the feed
are drawn from its sums when asked for. Where each area's view and ledger entry is kept
(`storage_id`, `bucket_of`, `daily_id`) is decided here too, for the fold and the queries."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from readmodel_service.fold.feed import EVENT_LABELS
from readmodel_service.indicators import FOLDS, Counters, EventHead
from relocation_shared.areas import LEVELS
from relocation_shared.events import EventPayload
from relocation_shared.events.employment import HouseholdZeroEmploymentCleared, HouseholdZeroEmploymentRaised
from relocation_shared.events.governance import AreaRegistered
from relocation_shared.mongo import Doc

FEED_PER_BATCH = 20
DAILY_LEVELS = 5  # province, city, county, town, community
LEVEL_NAMES = [level.value for level in LEVELS]


@dataclass(frozen=True, slots=True)
class ZeroChange:
    """A household entering the zero-employment list (`since` set) or leaving it (`since` None)."""

    household_id: str
    area_path: tuple[str, ...] = ()
    labour_count: int = 0
    since: datetime | None = None


@dataclass
class FoldPlan:
    """One batch's effect. `add` does the least per event (a batch folds tens of thousands):
    it sums the counter deltas per area path and business day; the views of every level, the
    daily ledger and the feed are drawn from those sums when asked for."""

    households: list[ZeroChange] = field(default_factory=list)
    folded: int = 0
    duplicates: int = 0
    names: dict[str, str] = field(default_factory=dict)
    paths: dict[tuple[str, ...], None] = field(default_factory=dict)  # in order of arrival
    sums: dict[tuple[tuple[str, ...], date], Counters] = field(default_factory=dict)  # by path and day
    latest: deque[tuple[EventHead, EventPayload]] = field(default_factory=lambda: deque(maxlen=FEED_PER_BATCH))
    # the roll-ups below, drawn once and kept until the next add
    rolled_views: dict[str, Counters] | None = field(default=None, repr=False)
    rolled_daily: dict[tuple[str, str], dict[str, Counters]] | None = field(default=None, repr=False)

    def add(self, env: EventHead, payload: EventPayload) -> None:
        path, kind = env.area_path, env.type
        self.rolled_views = self.rolled_daily = None
        self.paths[path] = None
        if kind in _SPECIAL:
            self._special(env, payload)
        fold = FOLDS.get(kind)
        if fold is not None:
            deltas = fold.deltas(payload)
            key = (path, fold.effective(env, payload))
            sums = self.sums.get(key)
            if sums is None:
                sums = self.sums[key] = {}
            for k, v in deltas.items():
                if v:
                    sums[k] = sums.get(k, 0) + v
        self.folded += 1
        if kind in EVENT_LABELS:  # the feed shows what officials follow, not the plumbing
            self.latest.append((env, payload))

    @property
    def view_meta(self) -> dict[str, Doc]:
        """Every area the batch touched, with its level, parent, path and (if registered) name."""
        meta: dict[str, Doc] = {}
        for path in self.paths:
            for i, code in enumerate(path):
                m = meta.setdefault(
                    code,
                    {
                        "level": LEVEL_NAMES[i] if i < len(LEVEL_NAMES) else "other",
                        "parent": path[i - 1] if i else None,
                    },
                )
                m["path"] = list(path[: i + 1])
        for code, name in self.names.items():
            if code in meta:
                meta[code]["name"] = name
        return meta

    @property
    def views(self) -> dict[str, Counters]:
        """Area → counter deltas, rolled up the path to the province."""
        if self.rolled_views is not None:
            return self.rolled_views
        views: dict[str, Counters] = defaultdict(lambda: defaultdict(int))
        for path, sums in roll_up((path, sums) for (path, _day), sums in self.sums.items()).items():
            views[path[-1]].update(sums)
        self.rolled_views = views
        return views

    @property
    def daily(self) -> dict[tuple[str, str], dict[str, Counters]]:
        """(bucket, day) → area → counter deltas: one ledger document per city and day, down
        to the community (trends and as-of are not kept per grid or building)."""
        if self.rolled_daily is not None:
            return self.rolled_daily
        by_day: dict[str, list[tuple[tuple[str, ...], Counters]]] = defaultdict(list)
        for (path, on), sums in self.sums.items():
            by_day[on.isoformat()].append((path[:DAILY_LEVELS], sums))
        daily: dict[tuple[str, str], dict[str, Counters]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        for day, items in by_day.items():
            for path, sums in roll_up(items).items():
                daily[(bucket_of(path[-1]), day)][path[-1]].update(sums)
        self.rolled_daily = daily
        return daily

    def _special(self, env: EventHead, p: EventPayload) -> None:
        """An area's name; the zero-employment list: a household is in it from its alert to
        its clearing."""
        if isinstance(p, AreaRegistered):
            self.names[p.code] = p.name
        elif isinstance(p, HouseholdZeroEmploymentRaised):
            self.households.append(ZeroChange(p.household_id, env.area_path, p.labour_count, p.since))
        elif isinstance(p, HouseholdZeroEmploymentCleared):
            self.households.append(ZeroChange(p.household_id))

    def daily_ids(self) -> list[str]:
        return [daily_id(bucket, day) for bucket, day in self.daily]

    def storage_ids(self) -> list[str]:
        return list(dict.fromkeys(storage_id(code) for path in self.paths for code in path))


def roll_up(items: Iterable[tuple[tuple[str, ...], Counters]]) -> dict[tuple[str, ...], Counters]:
    """Counter sums for every path and every prefix of it (a building's sums go into its grid,
    community, ... province), added up one level at a time: each area's sums are added into
    its parent once, not once for every path below it."""
    acc: dict[tuple[str, ...], Counters] = {}
    for path, sums in items:
        _add_into(acc.setdefault(path, {}), sums)
    for depth in range(max((len(p) for p in acc), default=0), 1, -1):
        for path in [p for p in acc if len(p) == depth]:
            _add_into(acc.setdefault(path[:-1], {}), acc[path])
    return acc


_SPECIAL = frozenset(
    {AreaRegistered.event_type, HouseholdZeroEmploymentRaised.event_type, HouseholdZeroEmploymentCleared.event_type}
)


def _add_into(into: Counters, deltas: Counters) -> None:
    for k, v in deltas.items():
        into[k] = into.get(k, 0) + v


def storage_id(code: str) -> str:
    """The view document an area's view is kept in: its own, or for a grid or a building
    (520330001001-G01-B02) its community's (520330001001)."""
    return code.split("-", 1)[0]


def daily_id(bucket: str, day: str) -> str:
    return f"{bucket}|{day}"


def bucket_of(code: str) -> str:
    """The daily ledger keeps one document per city and day, holding the city, its counties,
    towns and communities (their codes share its four-digit prefix); the province has its own.
    A batch writes each of its days once, whichever counties it touched."""
    return code[:4]
