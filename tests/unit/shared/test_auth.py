"""Bearer tokens and area scope: a token round-trips into a Principal; an expired, foreign or
malformed one is a 401; roles allow actions; area paths decide what a principal covers (403 for
writes naming the field, 404 for reads of one record)."""

from __future__ import annotations

import jwt
import pytest

from relocation_shared.auth import (
    ROLE_ACTIONS,
    Action,
    Principal,
    Role,
    TokenVerifier,
    Unauthorized,
    mint_token,
)
from relocation_shared.clock import system_clock
from relocation_shared.errors import DomainError, Forbidden, NotFound

SECRET = "s3cret-for-unit-tests-only-0123456789abcdef"  # ≥ 32 bytes for HS256
assert len(SECRET.encode()) >= 32
ISSUER, AUDIENCE = "relocation-idp", "relocation-platform"

# 贵州省 → 遵义市 → 习水县 → 东皇街道 → 安置社区
XISHUI_COMMUNITY = ("520000", "520300", "520330", "520330001000", "520330001001")
XISHUI_BUILDING = (*XISHUI_COMMUNITY, "520330001001-G01", "520330001001-G01-B01")
RENHUAI_COMMUNITY = ("520000", "520300", "520382", "520382001000", "520382001001")


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(secret=SECRET, issuer=ISSUER, audience=AUDIENCE)


def principal(*roles: Role, areas: tuple[str, ...] = ("520330",)) -> Principal:
    return Principal(subject="u-1", name="测试", roles=frozenset(roles), areas=frozenset(areas))


# --- tokens --------------------------------------------------------------------------------------


def test_a_minted_token_verifies_into_its_principal(verifier: TokenVerifier) -> None:
    token = mint_token(
        secret=SECRET,
        subject="officer-7",
        roles=["county_officer", "community_cadre"],
        areas=["520330", "520382"],
        name="王主任",
    )
    p = verifier.verify(token)
    assert p == Principal(
        subject="officer-7",
        name="王主任",
        roles=frozenset({Role.COUNTY_OFFICER, Role.COMMUNITY_CADRE}),
        areas=frozenset({"520330", "520382"}),
    )


def test_a_principal_is_immutable() -> None:
    p = principal(Role.GRID_WORKER)
    with pytest.raises(ValueError):
        p.subject = "someone-else"


def _refused(verifier: TokenVerifier, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as exc:
        verifier.verify(token)
    assert exc.value.status_code == 401 and exc.value.code == "unauthorized"
    assert isinstance(exc.value, DomainError)
    return exc.value


def test_an_expired_token_is_refused(verifier: TokenVerifier) -> None:
    token = mint_token(secret=SECRET, subject="u", roles=["county_officer"], areas=["520330"], ttl_seconds=-5)
    assert "过期" in _refused(verifier, token).message


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"audience": "another-platform"}, "audience"),
        ({"issuer": "someone-else"}, "issuer"),
        ({"secret": "another-secret-of-at-least-32-bytes!!"}, "secret"),
    ],
)
def test_a_foreign_token_is_refused(verifier: TokenVerifier, kwargs: dict[str, str], why: str) -> None:
    args = {"secret": SECRET, "subject": "u", "roles": ["county_officer"], "areas": ["520330"]} | kwargs
    assert "无效" in _refused(verifier, mint_token(**args)).message, why


@pytest.mark.parametrize("token", ["", "not.a.jwt", "a.b.c", "Bearer x"])
def test_garbage_is_refused(verifier: TokenVerifier, token: str) -> None:
    _refused(verifier, token)


def test_a_token_signed_with_none_is_refused(verifier: TokenVerifier) -> None:
    claims = {"sub": "u", "roles": ["city_officer"], "areas": ["520300"], "iss": ISSUER, "aud": AUDIENCE}
    token = jwt.encode(claims | {"exp": int(system_clock().timestamp()) + 60}, key="", algorithm="none")
    _refused(verifier, token)


@pytest.mark.parametrize("claim", ["exp", "sub", "iss", "aud"])
def test_a_token_missing_a_required_claim_is_refused(verifier: TokenVerifier, claim: str) -> None:
    claims = {
        "sub": "u",
        "roles": ["county_officer"],
        "areas": ["520330"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": int(system_clock().timestamp()) + 60,
    }
    del claims[claim]
    _refused(verifier, jwt.encode(claims, SECRET, algorithm="HS256"))


@pytest.mark.parametrize(
    ("roles", "areas"), [([], ["520330"]), (["county_officer"], []), ([], [])], ids=["no-roles", "no-areas", "neither"]
)
def test_a_token_without_roles_or_areas_is_refused(verifier: TokenVerifier, roles: list[str], areas: list[str]) -> None:
    token = mint_token(secret=SECRET, subject="u", roles=roles, areas=areas)
    assert "缺少角色或管辖区域" in _refused(verifier, token).message


def test_a_token_with_an_unknown_role_is_refused(verifier: TokenVerifier) -> None:
    token = mint_token(secret=SECRET, subject="u", roles=["county_officer", "superuser"], areas=["520330"])
    assert "角色无效" in _refused(verifier, token).message


def test_a_verifier_needs_a_key() -> None:
    with pytest.raises(ValueError, match="JWT_SECRET"):
        TokenVerifier(issuer=ISSUER, audience=AUDIENCE)


# --- roles ----------------------------------------------------------------------------------------


def test_the_commission_viewer_only_reads() -> None:
    viewer = principal(Role.COMMISSION_VIEWER, areas=("520300",))
    assert viewer.can(Action.READ)
    for action in Action:
        if action is not Action.READ:
            assert not viewer.can(action), action
            with pytest.raises(Forbidden) as exc:
                viewer.require(action)
            assert exc.value.status_code == 403 and exc.value.context == {"action": str(action)}


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (
            Role.COUNTY_OFFICER,
            {Action.READ, Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE, Action.PROJECTS_WRITE, Action.STAFF_WRITE},
            {Action.REQUEST_DISPATCH, Action.REQUEST_RATE, Action.POINTS_WRITE},
        ),
        (
            Role.CITY_OFFICER,
            {Action.READ, Action.REGISTRY_WRITE, Action.PROJECTS_WRITE, Action.PARTY_WRITE},
            {Action.REQUEST_SUBMIT, Action.DISPUTE_WRITE},
        ),
        (
            Role.COMMUNITY_CADRE,
            {Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE, Action.COLLECTIVE_WRITE, Action.REQUEST_DISPATCH},
            {Action.PROJECTS_WRITE, Action.REQUEST_HANDLE, Action.REQUEST_REPORT},
        ),
        (
            Role.GRID_WORKER,
            {Action.READ, Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE, Action.REQUEST_HANDLE},
            {Action.PROJECTS_WRITE, Action.COLLECTIVE_WRITE, Action.STAFF_WRITE, Action.REQUEST_DISPATCH},
        ),
        (
            Role.BUREAU_SYSTEM,
            {Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE, Action.REQUEST_REPORT},
            {Action.REQUEST_SUBMIT, Action.STAFF_WRITE},
        ),
        (Role.BUILDING_HEAD, {Action.READ, Action.VISIT_WRITE}, {Action.REGISTRY_WRITE, Action.EMPLOYMENT_WRITE}),
        (
            Role.PARTY_SECRETARY,
            {Action.READ, Action.REQUEST_RATE, Action.PARTY_WRITE},
            {Action.REGISTRY_WRITE, Action.REQUEST_HANDLE},
        ),
    ],
)
def test_what_each_role_may_do(role: Role, allowed: set[Action], refused: set[Action]) -> None:
    p = principal(role)
    for action in allowed:
        assert p.can(action), (role, action)
        p.require(action)
    for action in refused:
        assert not p.can(action), (role, action)
        with pytest.raises(Forbidden):
            p.require(action)


def test_every_role_has_an_entry_and_may_read() -> None:
    assert set(ROLE_ACTIONS) == set(Role)
    assert all(Action.READ in ROLE_ACTIONS[r] for r in Role)


def test_several_roles_add_up() -> None:
    p = principal(Role.COMMISSION_VIEWER, Role.GRID_WORKER)
    assert p.can(Action.REGISTRY_WRITE) and p.can(Action.REQUEST_HANDLE)
    assert not p.can(Action.PROJECTS_WRITE)
    assert not principal().can(Action.READ)  # no roles at all: nothing


# --- area scope ---------------------------------------------------------------------------------


def test_a_county_officer_covers_the_paths_below_the_county() -> None:
    xishui = principal(Role.COUNTY_OFFICER, areas=("520330",))
    assert xishui.covers(XISHUI_COMMUNITY) and xishui.covers(list(XISHUI_BUILDING))
    assert xishui.covers(("520000", "520300", "520330"))
    assert not xishui.covers(("520000", "520300"))  # the city above is not theirs
    assert not xishui.covers(RENHUAI_COMMUNITY)  # nor is 仁怀市 next door
    assert not xishui.covers(())


def test_a_grid_worker_covers_their_grid_only() -> None:
    worker = principal(Role.GRID_WORKER, areas=("520330001001-G01",))
    assert worker.covers(XISHUI_BUILDING)
    assert not worker.covers(XISHUI_COMMUNITY)
    assert not worker.covers((*XISHUI_COMMUNITY, "520330001001-G02", "520330001001-G02-B01"))


def test_a_city_officer_covers_both_counties_and_a_code_prefix_is_not_a_match() -> None:
    city = principal(Role.CITY_OFFICER, areas=("520300",))
    assert city.covers(XISHUI_COMMUNITY) and city.covers(RENHUAI_COMMUNITY)
    near_miss = principal(Role.COUNTY_OFFICER, areas=("52033",))
    assert not near_miss.covers(XISHUI_COMMUNITY)


def test_require_area_is_a_403_naming_the_field() -> None:
    xishui = principal(Role.COUNTY_OFFICER, areas=("520330",))
    xishui.require_area(XISHUI_BUILDING, field="building_code")
    with pytest.raises(Forbidden) as exc:
        xishui.require_area(RENHUAI_COMMUNITY, field="community_code")
    assert exc.value.status_code == 403 and exc.value.field == "community_code" and exc.value.code == "forbidden"
    with pytest.raises(Forbidden) as exc:
        xishui.require_area(RENHUAI_COMMUNITY)
    assert exc.value.field is None


def test_require_visible_is_a_404_so_a_record_elsewhere_does_not_exist() -> None:
    renhuai = principal(Role.COUNTY_OFFICER, areas=("520382",))
    renhuai.require_visible(RENHUAI_COMMUNITY)
    with pytest.raises(NotFound) as exc:
        renhuai.require_visible(XISHUI_BUILDING, "居民")
    assert exc.value.status_code == 404 and exc.value.message == "居民不存在"
    with pytest.raises(NotFound, match="记录不存在"):
        renhuai.require_visible(XISHUI_COMMUNITY)
