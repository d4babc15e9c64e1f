"""Use cases of the rules: city officers create, edit and delete them (each change a new
version, compare-and-set on the version), city and county officers read them; the standing
rules are seeded once each. After every change the rules in force are reloaded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from notifications_service.rules import repository
from notifications_service.rules.defaults import default_rules
from notifications_service.rules.domain import ROUTED_TOPICS, compile_rule, event_type_info
from notifications_service.rules.models import EventTypeInfo, Rule, RuleIn, RuleUpdate
from notifications_service.rules.repository import RulesStore
from relocation_shared.auth import Principal, Role
from relocation_shared.clock import Clock, system_clock
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, Forbidden, NotFound
from relocation_shared.events import CATALOG
from relocation_shared.idempotency import run_once
from relocation_shared.ids import new_id
from relocation_shared.logging import get_logger
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork

log = get_logger(__name__)


def require_rule_writer(principal: Principal) -> None:
    if Role.CITY_OFFICER not in principal.roles:
        raise Forbidden("只有市级后续扶持工作人员可以维护通知规则")


def require_officer(principal: Principal) -> None:
    if not principal.roles & {Role.CITY_OFFICER, Role.COUNTY_OFFICER}:
        raise Forbidden("只有市、县后续扶持工作人员可以查看通知规则")


async def _nothing() -> None:
    return None


class RulesService:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        store: RulesStore,
        clock: Clock = system_clock,
        reload: Callable[[], Awaitable[None]] = _nothing,
    ) -> None:
        self.uow = uow
        self.store = store
        self.clock = clock
        self.reload = reload

    async def create_rule(self, *, ctx: Context, data: RuleIn) -> Rule:
        require_rule_writer(ctx.principal)
        compile_rule(data)
        rule_id, at = new_id(), self.clock()

        async def work(tx: Tx) -> Rule:
            doc = await self.store.create_rule(rule_id, data, by=ctx.principal.subject, at=at, session=tx.session)
            return repository.from_doc(doc)

        rule = await run_once(self.uow, ctx=ctx, scope="rules.create", request=data, result_model=Rule, body=work)
        await self.reload()
        return rule

    async def update_rule(self, *, ctx: Context, rule_id: str, data: RuleUpdate) -> Rule:
        require_rule_writer(ctx.principal)
        rule_in = RuleIn.model_validate(data.model_dump(exclude={"expected_version"}))
        compile_rule(rule_in, rule_id=rule_id)
        return await self._new_version(ctx, rule_id, data.expected_version, rule_in, change="updated")

    async def delete_rule(self, *, ctx: Context, rule_id: str, expected_version: int | None) -> Rule:
        require_rule_writer(ctx.principal)
        return await self._new_version(ctx, rule_id, expected_version, None, change="deleted")

    async def _save_version(
        self, tx: Tx, ctx: Context, rule_id: str, expected: int | None, data: RuleIn | None, change: str
    ) -> Doc:
        current = await self.store.get_rule(rule_id, tx.session)
        if current is None or current.get("deleted"):
            raise NotFound("通知规则不存在", field="rule_id")
        if expected is not None and expected != current["version"]:
            raise Conflict(
                f"规则已被他人修改(当前版本 {current['version']}),请刷新后再改",
                field="expected_version",
                version=current["version"],
            )
        saved = await self.store.save_version(
            current, data, by=ctx.principal.subject, at=self.clock(), change=change, session=tx.session
        )
        if saved is None:
            raise Conflict("规则已被他人修改,请刷新后再改", field="expected_version")
        return saved

    async def _new_version(
        self, ctx: Context, rule_id: str, expected: int | None, data: RuleIn | None, *, change: str
    ) -> Rule:
        saved = await self.uow.run(
            lambda tx: self._save_version(tx, ctx, rule_id, expected, data, change), correlation_id=ctx.correlation_id
        )
        await self.reload()
        return repository.from_doc(saved)

    async def get_rule(self, *, ctx: Context, rule_id: str) -> Rule:
        require_officer(ctx.principal)
        doc = await self.store.get_rule(rule_id)
        if doc is None:
            raise NotFound("通知规则不存在", field="rule_id")
        return repository.from_doc(doc)

    async def list_rules(self, *, ctx: Context, include_deleted: bool, event_type: str | None) -> list[Rule]:
        require_officer(ctx.principal)
        docs = await self.store.list_rules(include_deleted=include_deleted, event_type=event_type)
        return [repository.from_doc(d) for d in docs]

    async def rule_versions(self, *, ctx: Context, rule_id: str) -> list[Rule]:
        require_officer(ctx.principal)
        docs = await self.store.rule_versions(rule_id)
        if not docs:
            raise NotFound("通知规则不存在", field="rule_id")
        return [repository.from_doc(d) for d in docs]

    def event_types(self, *, ctx: Context) -> list[EventTypeInfo]:
        require_officer(ctx.principal)
        return [event_type_info(t) for t in CATALOG.types if CATALOG.topic_of(t) in ROUTED_TOPICS]

    async def seed_default_rules(self) -> list[str]:
        """The standing rules, each once (an officer's later edit or deletion stays)."""
        seeded = []
        for rule_id, data in default_rules():
            compile_rule(data, rule_id=rule_id)
            if await self.store.seed_rule(rule_id, data, at=self.clock()):
                seeded.append(rule_id)
        if seeded:
            log.info("default rules seeded", rules=seeded)
        await self.reload()
        return seeded
