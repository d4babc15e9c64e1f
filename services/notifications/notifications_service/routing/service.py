"""Routing: each consumed event is matched against the rules for its type (held in memory,
reloaded on change). Each matching rule's recipients get one notification per (event id,
recipient, rule id) through the notifier, inside the consuming transaction. The directory
(staffing) and the area names are kept from the registry's events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from prometheus_client import Counter

from notifications_service.inbox.domain import Plan
from notifications_service.inbox.notify import Notifier
from notifications_service.routing import repository
from notifications_service.routing.domain import Match, MemoryDirectory, directory_needs, resolve_recipients
from notifications_service.routing.models import StaffEntry
from notifications_service.routing.repository import DirectoryStore, Session
from notifications_service.rules.domain import RuleCache
from notifications_service.rules.repository import RulesStore
from relocation_shared.areas import path_of_code
from relocation_shared.auth import Action
from relocation_shared.clock import Clock, system_clock
from relocation_shared.context import Context
from relocation_shared.errors import InvalidInput
from relocation_shared.events import Envelope, EventPayload
from relocation_shared.events.governance import AreaRegistered
from relocation_shared.logging import get_logger
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx
from relocation_shared.tasks import cancel

log = get_logger(__name__)

UNROUTED = Counter("notifications_unrouted_total", "Matching rules that found nobody to tell", ["event_type"])


class Routing:
    """The rules in force and which events are worth a transaction: the directory's own, and
    those of event types that have an enabled rule and occurred after the service was
    installed (a new service does not flood cadres with the topics' history; it still learns
    the directory from it). Reloaded after each rule change here and every `refresh_seconds`
    (changes made on another instance take effect within that time)."""

    def __init__(self, store: RulesStore, *, clock: Clock = system_clock, refresh_seconds: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.since: datetime | None = None
        self.rules: dict[str, list[Doc]] = {}
        self.types: frozenset[str] = frozenset()
        self.on_reload: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> None:
        if self.since is None:
            self.since = await self.store.installed_at(self.clock())
        rules: dict[str, list[Doc]] = {}
        for doc in await self.store.all_active_rules():
            rules.setdefault(doc["event_type"], []).append(doc)
        self.rules = rules
        self.types = frozenset(rules)
        for hook in self.on_reload:
            hook()

    def routes(self, env: Envelope) -> bool:
        return self.since is not None and env.occurred_at >= self.since

    def wants(self, env: Envelope) -> bool:
        return env.type in self.types and self.routes(env)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.load()
            except Exception as exc:
                log.warning("rules reload failed", error=str(exc))

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="notifications-routing")

    async def stop(self) -> None:
        await cancel(self._task)


class RoutingService:
    def __init__(
        self,
        *,
        rules: RulesStore,
        directory: DirectoryStore,
        notifier: Notifier,
        clock: Clock = system_clock,
    ) -> None:
        self.directory = directory
        self.notifier = notifier
        self.clock = clock
        self.compiled = RuleCache()
        self.in_force = Routing(rules, clock=clock)
        self.names: dict[str, str] = {}  # area names for templates; emptied at each rules reload
        self.in_force.on_reload.append(self.names.clear)

    async def on_event(self, tx: Tx, env: Envelope, payload: EventPayload) -> None:
        """One event in its own unit of work (the consumer base's path)."""
        await self.apply_directory(env, payload, tx.session)
        if self.in_force.routes(env):
            await self.route_batch(tx, [(env, payload)])

    async def apply_directory(self, env: Envelope, payload: EventPayload, session: Session) -> None:
        """The registry's staffing and area names: idempotent upserts (a replay converges)."""
        await self.apply_directory_batch([(env, payload)], session)

    async def apply_directory_batch(self, items: list[tuple[Envelope, EventPayload]], session: Session = None) -> None:
        """Many staffing and area events at once, in their order (one bulk write per collection)."""
        for _, payload in items:
            if isinstance(payload, AreaRegistered):
                self.names[payload.code] = payload.name
        await self.directory.apply_staffing(items, session)

    async def route(self, tx: Tx, env: Envelope, payload: EventPayload) -> int:
        return await self.route_batch(tx, [(env, payload)])

    def _matches(self, items: list[tuple[Envelope, EventPayload]]) -> list[Match]:
        matches: list[Match] = []
        for env, payload in items:
            for doc in self.in_force.rules.get(env.type, []):
                try:
                    rule = self.compiled.get(doc)
                except InvalidInput as exc:  # the catalog changed under a saved rule: skip it, say so
                    log.warning("rule no longer compiles", rule_id=doc["_id"], reason=exc.message)
                    continue
                if rule.matches(env, payload):
                    matches.append((env, payload, rule))
        return matches

    async def route_batch(self, tx: Tx, items: list[tuple[Envelope, EventPayload]]) -> int:
        """Make the notifications the rules call for; returns how many were new. The rules, the
        directory, the area names and the preferences are read before (outside) the writes; the
        keys are checked and the notifications and deliveries written in the transaction."""
        matches = self._matches(items)
        if not matches:
            return 0
        directory = MemoryDirectory(await self.directory.directory_for(*directory_needs(matches)))
        names = await self._area_names({code for env, _, _ in matches for code in env.area_path})
        plans = []
        for env, payload, rule in matches:
            recipients = await resolve_recipients(rule, env, payload, directory)
            if not recipients:
                UNROUTED.labels(env.type).inc()
                log.info("rule matched but nobody to tell", rule_id=rule.id, event_id=env.id)
                continue
            plans.append(
                Plan(
                    event={
                        "id": env.id,
                        "type": env.type,
                        "occurred_at": env.occurred_at,
                        "area_path": list(env.area_path),
                    },
                    rule_id=rule.id,
                    rule_version=rule.version,
                    urgency=rule.urgency,
                    window=rule.ack_window,
                    recipients=recipients,
                    title=rule.title,
                    text=rule.render(env, payload, names),
                )
            )
        return await self.notifier.notify(tx, plans, now=self.clock())

    async def _area_names(self, codes: set[str]) -> dict[str, str]:
        missing = [c for c in codes if c not in self.names]
        if missing:
            found = await self.directory.area_names(missing)
            for code in missing:
                self.names[code] = found.get(code, "")
        return {c: self.names[c] for c in codes if self.names.get(c)}

    async def staff(self, *, ctx: Context, area: str, limit: int) -> list[StaffEntry]:
        """The cadres receiving notifications in an area (those the reader may see): an area
        outside the reader's is refused (403 naming `area`), as the other services' lists are."""
        principal = ctx.principal
        principal.require(Action.READ)
        try:
            path = path_of_code(area)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="area") from exc
        principal.require_area(path, field="area")
        docs = await self.directory.staff_in(area, limit=limit)
        return [repository.staff_from_doc(d) for d in docs if principal.covers(d.get("area_path", []))]
