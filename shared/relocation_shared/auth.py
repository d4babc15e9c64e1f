"""Authentication and area scope.

Bearer JWTs from the government identity provider (HS256 with a shared secret for local runs
and tests; RS256/ES256 with a configured public key or a JWKS endpoint in production). A token
carries the user's roles and an `areas` claim: the area codes they are responsible for. Every
endpoint checks the action against the roles and the record's area path against the scope.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any, Protocol, TypeVar

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from relocation_shared.areas import within
from relocation_shared.clock import Clock, system_clock
from relocation_shared.errors import DomainError, Forbidden, NotFound


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Role(StrEnum):
    CITY_OFFICER = "city_officer"  # 市级后续扶持办
    COUNTY_OFFICER = "county_officer"  # 县级后续扶持办
    COMMUNITY_CADRE = "community_cadre"  # 社区干部
    GRID_WORKER = "grid_worker"  # 网格员
    COMMISSION_VIEWER = "commission_viewer"  # 发改委 (read only)
    BUREAU_SYSTEM = "bureau_system"  # 人社局 / 民政局 systems
    BUILDING_HEAD = "building_head"  # 楼栋长
    PARTY_SECRETARY = "party_secretary"  # 社区党组织书记 (党组织评单)


class Action(StrEnum):
    READ = "read"
    REGISTRY_WRITE = "registry_write"  # areas, households, residents
    EMPLOYMENT_WRITE = "employment_write"  # employment spells, training
    PROJECTS_WRITE = "projects_write"  # funding sources, projects, disbursements, jobs, dividends
    COLLECTIVE_WRITE = "collective_write"  # a community's collective-economy income and assets
    # community work: staffing, party organisations, the 四单 requests, disputes, visits, points
    STAFF_WRITE = "staff_write"  # assign grid workers, building heads, cadres to their areas
    PARTY_WRITE = "party_write"  # party organisations (党总支 / 党支部 / 党小组)
    REQUEST_SUBMIT = "request_submit"  # 群众点单 (a resident through a cadre, or a cadre)
    REQUEST_DISPATCH = "request_dispatch"  # 社区派单
    REQUEST_HANDLE = "request_handle"  # 网格员接单 and resolve
    REQUEST_RATE = "request_rate"  # 党组织评单
    REQUEST_REOPEN = "request_reopen"  # the resident disputes the outcome
    REQUEST_ESCALATE = "request_escalate"  # 吹哨 to a county department
    REQUEST_REPORT = "request_report"  # 部门报到
    DISPUTE_WRITE = "dispute_write"  # 矛盾纠纷调解
    VISIT_WRITE = "visit_write"  # 上门服务
    POINTS_WRITE = "points_write"  # 积分超市: award and redeem


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.CITY_OFFICER: frozenset(
        {Action.READ, Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE, Action.PROJECTS_WRITE, Action.COLLECTIVE_WRITE}
    ),
    Role.COUNTY_OFFICER: frozenset(
        {Action.READ, Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE, Action.PROJECTS_WRITE, Action.COLLECTIVE_WRITE}
    ),
    Role.COMMUNITY_CADRE: frozenset(
        {Action.READ, Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE, Action.COLLECTIVE_WRITE}
    ),
    Role.GRID_WORKER: frozenset({Action.READ, Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE}),
    Role.COMMISSION_VIEWER: frozenset({Action.READ}),
    Role.BUREAU_SYSTEM: frozenset(
        {Action.READ, Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE, Action.PROJECTS_WRITE, Action.COLLECTIVE_WRITE}
    ),
}

# Community work, by role. Kept apart from the table above and merged into it.
COMMUNITY_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.CITY_OFFICER: frozenset({Action.STAFF_WRITE, Action.PARTY_WRITE}),
    Role.COUNTY_OFFICER: frozenset(
        {
            Action.STAFF_WRITE,
            Action.PARTY_WRITE,
            Action.REQUEST_SUBMIT,
            Action.REQUEST_ESCALATE,
            Action.REQUEST_REPORT,
        }
    ),
    Role.COMMUNITY_CADRE: frozenset(
        {
            Action.STAFF_WRITE,
            Action.PARTY_WRITE,
            Action.REQUEST_SUBMIT,
            Action.REQUEST_DISPATCH,
            Action.REQUEST_RATE,
            Action.REQUEST_REOPEN,
            Action.REQUEST_ESCALATE,
            Action.DISPUTE_WRITE,
            Action.VISIT_WRITE,
            Action.POINTS_WRITE,
        }
    ),
    Role.GRID_WORKER: frozenset(
        {Action.REQUEST_SUBMIT, Action.REQUEST_HANDLE, Action.REQUEST_REOPEN, Action.DISPUTE_WRITE, Action.VISIT_WRITE}
    ),
    Role.BUILDING_HEAD: frozenset({Action.READ, Action.REQUEST_SUBMIT, Action.REQUEST_REOPEN, Action.VISIT_WRITE}),
    Role.PARTY_SECRETARY: frozenset({Action.READ, Action.PARTY_WRITE, Action.REQUEST_RATE, Action.REQUEST_REOPEN}),
    Role.BUREAU_SYSTEM: frozenset({Action.REQUEST_REPORT}),
}
ROLE_ACTIONS = {role: ROLE_ACTIONS.get(role, frozenset()) | COMMUNITY_ACTIONS.get(role, frozenset()) for role in Role}

ROLE_LABELS = {
    Role.CITY_OFFICER: "市级后续扶持工作人员",
    Role.COUNTY_OFFICER: "县级后续扶持工作人员",
    Role.COMMUNITY_CADRE: "社区干部",
    Role.GRID_WORKER: "网格员",
    Role.COMMISSION_VIEWER: "发改委监测(只读)",
    Role.BUREAU_SYSTEM: "部门系统",
    Role.BUILDING_HEAD: "楼栋长",
    Role.PARTY_SECRETARY: "社区党组织书记",
}


class Located(Protocol):
    """Anything that lies in an area: a record with its area path."""

    @property
    def area_path(self) -> Sequence[str]: ...


L = TypeVar("L", bound=Located)


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    name: str = ""
    roles: frozenset[Role]
    areas: frozenset[str]

    def can(self, action: Action) -> bool:
        return any(action in ROLE_ACTIONS[r] for r in self.roles)

    def require(self, action: Action) -> None:
        if not self.can(action):
            raise Forbidden("当前角色无权执行此操作", action=str(action))

    def covers(self, area_path: Sequence[str]) -> bool:
        return within(area_path, self.areas)

    def require_area(self, area_path: tuple[str, ...] | list[str], *, field: str | None = None) -> None:
        """For writes and explicit area queries: outside the scope is a 403 naming the field."""
        if not self.covers(area_path):
            raise Forbidden("无权访问该区域的数据", field=field)

    def require_visible(self, area_path: tuple[str, ...] | list[str], what: str = "记录") -> None:
        """For reads of one record: outside the scope it does not exist for this user (404)."""
        if not self.covers(area_path):
            raise NotFound(f"{what}不存在")

    def found(self, record: L | None, what: str, *, field: str | None = None) -> L:
        """The record, when it exists and lies in this user's areas; otherwise the same 404 for
        both (`{what}不存在`, naming the field), so a record elsewhere cannot be told from none."""
        if record is None or not self.covers(record.area_path):
            raise NotFound(f"{what}不存在", field=field)
        return record


class TokenVerifier:
    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        jwks_url: str | None = None,
        issuer: str,
        audience: str,
    ) -> None:
        if not (secret or public_key or jwks_url):
            raise ValueError("configure JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL")
        self.secret = secret
        self.public_key = public_key
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self.issuer = issuer
        self.audience = audience

    def verify(self, token: str) -> Principal:
        try:
            if self.jwks is not None:
                key: Any = self.jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256", "ES256"]
            elif self.public_key:
                key, algorithms = self.public_key, ["RS256", "ES256"]
            else:
                key, algorithms = self.secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("登录已过期,请重新登录") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("身份令牌无效") from exc
        try:
            roles = frozenset(Role(r) for r in claims.get("roles", []))
        except ValueError as exc:
            raise Unauthorized("身份令牌中的角色无效") from exc
        areas = frozenset(str(a) for a in claims.get("areas", []))
        if not roles or not areas:
            raise Unauthorized("身份令牌缺少角色或管辖区域")
        return Principal(subject=str(claims["sub"]), name=str(claims.get("name", "")), roles=roles, areas=areas)


def mint_token(
    *,
    secret: str,
    subject: str,
    roles: list[str],
    areas: list[str],
    name: str = "",
    ttl_seconds: int = 12 * 3600,
    issuer: str = "relocation-idp",
    audience: str = "relocation-platform",
    clock: Clock = system_clock,
) -> str:
    now = int(clock().timestamp())
    claims = {
        "sub": subject,
        "name": name,
        "roles": roles,
        "areas": areas,
        "iat": now,
        "exp": now + ttl_seconds,
        "iss": issuer,
        "aud": audience,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized("请先登录(缺少 Bearer 身份令牌)")
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(creds.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def token_cli(argv: list[str] | None = None) -> None:
    """Mint a local HS256 token: relocation-token --role county_officer --area 520330."""
    p = argparse.ArgumentParser(prog="relocation-token", description="Mint a local bearer token")
    p.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    p.add_argument("--area", action="append", required=True, help="area code in scope (repeatable)")
    p.add_argument("--sub", default="local-user")
    p.add_argument("--name", default="")
    p.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    p.add_argument("--secret", default=os.environ.get("JWT_SECRET"))
    args = p.parse_args(argv)
    if not args.secret:
        sys.exit("relocation-token: give --secret or set JWT_SECRET")
    print(
        mint_token(
            secret=args.secret,
            subject=args.sub,
            roles=args.role,
            areas=args.area,
            name=args.name,
            ttl_seconds=args.ttl,
        )
    )
