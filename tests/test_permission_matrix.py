"""S1, S3, S5: every URL pattern, method, role and own/other clinic answers as declared."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from commonground.audit.models import AuditEvent
from tests.access_matrix import (
    ANONYMOUS,
    MATRIX,
    METHODS,
    ROLES,
    THIRD_PARTY_PREFIXES,
    persona_key,
)


@pytest.fixture
def world(shared_world: Any) -> Any:
    """Thousands of short cases: one world per module (see ``module_world``)."""
    return shared_world


@pytest.fixture
def case_world(module_world: Any, db: Any) -> Any:
    """The module's world with an attribute dict of its own, for one matrix case.

    The kwargs builders create a case's objects and cache them on the world, so each case
    needs its own cache; they only read the world's objects, and requests load their own,
    so a shallow copy is enough. ``shared_world``'s deep copy took a tenth of a case."""
    return copy.copy(module_world)


@pytest.fixture(scope="module")
def signed_in(module_world: Any, django_db_blocker: Any) -> dict[str, str]:
    """A session key per role, made once in the module's world: signing in took a third of
    a short case's time, and the matrix is about what a signed-in person may reach. Each
    case's writes to its session roll back with the case."""
    keys = {}
    with django_db_blocker.unblock():
        for role in ROLES:
            if role != ANONYMOUS:
                client = Client()
                client.force_login(module_world.person(persona_key(role)))
                keys[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """(route, qualified name) of every pattern, recursing into includes."""
    found: list[tuple[str, str]] = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            found += _walk(entry.url_patterns, route, ns)
        elif isinstance(entry, URLPattern):
            name = entry.name or ""
            found.append((route, f"{namespace}:{name}" if namespace else name))
    return found


def _own_patterns() -> list[tuple[str, str]]:
    return [
        (route, name)
        for route, name in _walk(get_resolver().url_patterns)
        if not route.startswith(tuple(THIRD_PARTY_PREFIXES))
    ]


def test_every_url_pattern_has_a_matrix_entry():
    patterns = _own_patterns()
    missing = sorted(
        f"{name or '(unnamed)'} -> /{route}" for route, name in patterns if name not in MATRIX
    )
    assert not missing, f"URL patterns without an access-matrix entry: {missing}"
    stale = sorted(set(MATRIX) - {name for _, name in patterns})
    assert not stale, f"matrix entries for URLs that no longer exist: {stale}"


def test_third_party_url_sets_are_declared():
    routes = {route for route, _ in _walk(get_resolver().url_patterns)}
    for prefix in THIRD_PARTY_PREFIXES:
        assert any(route.startswith(prefix) for route in routes), prefix


CASES = [
    (name, method, role, scope)
    for name, entry in MATRIX.items()
    for method in METHODS
    for role in ROLES
    for scope in entry.scopes
]


@pytest.mark.parametrize(("name", "method", "role", "scope"), CASES)
def test_access_matrix(case_world, signed_in, name, method, role, scope):
    entry = MATRIX[name]
    client = Client()
    if role != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = signed_in[role]
    kwargs = entry.kwargs(case_world, scope) if entry.kwargs else {}
    url = reverse(name, kwargs=kwargs)
    denied_before = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).count()
    response = client.generic(method, url)
    expected = entry.expected(role, scope, method)
    assert response.status_code == expected, (
        f"{method} {url} as {role} ({scope}): got {response.status_code}, expected {expected}"
    )
    if expected == 302 and role == ANONYMOUS:
        assert response["Location"].startswith(reverse("account_login"))
    if entry.object_scoped and expected in (403, 404) and role != ANONYMOUS:
        denied = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).count()
        assert denied == denied_before + 1, "a refused request must leave one audit event"


def test_forbidden_and_missing_committees_look_the_same(world, carmen):
    """S4: another clinic's committee answers exactly like one that does not exist."""
    client = Client()
    client.force_login(carmen)
    forbidden = client.get(reverse("organizations:committee-detail", args=["ppc-richmond"]))
    missing = client.get(reverse("organizations:committee-detail", args=["no-such-committee"]))
    assert forbidden.status_code == missing.status_code == 404
    assert [t.name for t in forbidden.templates] == [t.name for t in missing.templates]
    assert b"Richmond" not in forbidden.content


def _dummy_path(route: str) -> str:
    values = {
        "int": "1",
        "slug": "x",
        "str": "x",
        "uuid": "00000000-0000-0000-0000-000000000000",
        "path": "x",
    }
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: values.get(m.group(1) or "str", "x"), route)
    # Regex routes from third-party apps: replace groups with a plain token.
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "x", path)
    return "/" + path.lstrip("^").rstrip("$").replace("\\", "")


@pytest.mark.parametrize("role", [ANONYMOUS, "clinician", "manager", "regional_admin", "staff"])
def test_third_party_urls_never_fail_and_admin_is_staff_only(world, role):
    client = Client()
    if role != ANONYMOUS:
        client.force_login(world.person(persona_key(role)))
    for route, name in _walk(get_resolver().url_patterns):
        if not route.startswith(tuple(THIRD_PARTY_PREFIXES)):
            continue
        url = _dummy_path(route)
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} ({name}) as {role}: {response.status_code}"
        if route.startswith("admin/") and role != "staff" and response.status_code == 200:
            pytest.fail(f"admin page {url} answered 200 to {role}")
    if role == "staff":
        assert client.get("/admin/").status_code == 200
