"""Named people per role and clinic, shared by every test.

Two clinics, Oakland (A) and Richmond (B), each with a PPC whose people are:

    role                      Oakland (A)        Richmond (B)
    clinician member          Carmen Reyes       Kenji Tanaka
    clinician co-chair        Diego Alvarez      Grace Okafor
    manager member            Maria Chen         Victor Salazar
    management co-chair       Omar Haddad        Priya Shah
    union rep (observer)      Ruth Jackson       Samuel Brooks

and, on the regional committee, Ada Park (regional admin), Dana Lee (data steward),
Farah Ahmed (regional clinician co-chair) and Hector Ibarra (regional management
co-chair). Nell Novak has an account and no seat anywhere.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import transaction

from commonground.organizations.models import Committee, Role, Side
from tests.factories import (
    ClinicFactory,
    CommitteeFactory,
    MembershipFactory,
    RegionFactory,
    UserFactory,
)

# persona key -> (username, first, last, side, role) on a clinic PPC
CLINIC_ROLES = {
    "clinician": (Side.CLINICIAN, Role.MEMBER),
    "cochair_clinician": (Side.CLINICIAN, Role.CO_CHAIR),
    "manager": (Side.MANAGEMENT, Role.MEMBER),
    "cochair_manager": (Side.MANAGEMENT, Role.CO_CHAIR),
    "union_rep": (Side.CLINICIAN, Role.UNION_REP),
}
NAMES = {
    "a": {
        "clinician": ("Carmen", "Reyes"),
        "cochair_clinician": ("Diego", "Alvarez"),
        "manager": ("Maria", "Chen"),
        "cochair_manager": ("Omar", "Haddad"),
        "union_rep": ("Ruth", "Jackson"),
    },
    "b": {
        "clinician": ("Kenji", "Tanaka"),
        "cochair_clinician": ("Grace", "Okafor"),
        "manager": ("Victor", "Salazar"),
        "cochair_manager": ("Priya", "Shah"),
        "union_rep": ("Samuel", "Brooks"),
    },
}


@dataclass
class World:
    region: Any
    clinic_a: Any
    clinic_b: Any
    ppc_a: Any
    ppc_b: Any
    regional: Any
    summit: Any
    people: dict[str, Any] = field(default_factory=dict)

    def person(self, key: str) -> Any:
        return self.people[key]


def _user(username: str, first: str, last: str, **extra: Any) -> Any:
    return UserFactory(username=username, first_name=first, last_name=last, **extra)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Throttle counters and used TOTP codes live in the cache: no test sees another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def build_world() -> World:
    """The region, its two clinics, their committees and the people in the table above."""
    region = RegionFactory(name="Northern California", slug="northern-california")
    clinic_a = ClinicFactory(
        region=region, name="Oakland Mental Health", slug="oakland", city="Oakland"
    )
    clinic_b = ClinicFactory(
        region=region, name="Richmond Behavioral Health", slug="richmond", city="Richmond"
    )
    ppc_a = CommitteeFactory(clinic=clinic_a, region=region, slug="ppc-oakland", name="Oakland PPC")
    ppc_b = CommitteeFactory(
        clinic=clinic_b, region=region, slug="ppc-richmond", name="Richmond PPC"
    )
    regional = CommitteeFactory(
        clinic=None, region=region, kind=Committee.Kind.REGIONAL, slug="regional", name="Regional"
    )
    summit = CommitteeFactory(
        clinic=None, region=region, kind=Committee.Kind.SUMMIT, slug="summit", name="Summit"
    )
    w = World(region, clinic_a, clinic_b, ppc_a, ppc_b, regional, summit)
    for suffix, ppc in (("a", ppc_a), ("b", ppc_b)):
        for key, (side, role) in CLINIC_ROLES.items():
            first, last = NAMES[suffix][key]
            person = _user(f"{first.lower()}.{last.lower()}", first, last)
            MembershipFactory(person=person, committee=ppc, side=side, role=role)
            w.people[f"{key}_{suffix}"] = person
    regional_people = {
        "regional_admin": ("Ada", "Park", Side.NEUTRAL, Role.REGIONAL_ADMIN),
        "data_steward": ("Dana", "Lee", Side.NEUTRAL, Role.DATA_STEWARD),
        "regional_cochair_clinician": ("Farah", "Ahmed", Side.CLINICIAN, Role.CO_CHAIR),
        "regional_cochair_manager": ("Hector", "Ibarra", Side.MANAGEMENT, Role.CO_CHAIR),
    }
    for key, (first, last, side, role) in regional_people.items():
        person = _user(f"{first.lower()}.{last.lower()}", first, last)
        MembershipFactory(person=person, committee=regional, side=side, role=role)
        w.people[key] = person
    MembershipFactory(
        person=w.people["regional_cochair_clinician"],
        committee=summit,
        side=Side.CLINICIAN,
        role=Role.CO_CHAIR,
    )
    MembershipFactory(
        person=w.people["regional_cochair_manager"],
        committee=summit,
        side=Side.MANAGEMENT,
        role=Role.CO_CHAIR,
    )
    w.people["no_seat"] = _user("nell.novak", "Nell", "Novak")
    w.people["staff"] = _user("sam.staff", "Sam", "Staff", is_staff=True, is_superuser=True)
    # Roles that must use two-step sign-in have an authenticator, as in production.
    for key in (
        "manager_a",
        "cochair_manager_a",
        "manager_b",
        "cochair_manager_b",
        "regional_admin",
        "data_steward",
        "regional_cochair_manager",
        "staff",
    ):
        TOTP.activate(w.people[key], generate_totp_secret())
    return w


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture(scope="module")
def module_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """One world for a whole module of short tests, built once and rolled back at its end.

    Each test still runs in its own transaction (a savepoint inside this one), so its
    writes vanish after it; a module overrides ``world`` with ``shared_world`` to use it.
    Building the world costs about a tenth of a second: the permission matrix's thousands
    of cases spent most of their time on it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def shared_world(module_world: World, db: Any) -> World:
    """A copy of ``module_world`` for one test: objects a test changes or caches on the
    world (the access matrix's kwargs builders do) do not reach the next test."""
    return copy.deepcopy(module_world)


@pytest.fixture
def carmen(world: World) -> Any:
    """Clinician member at Oakland."""
    return world.person("clinician_a")


@pytest.fixture
def diego(world: World) -> Any:
    """Clinician co-chair at Oakland."""
    return world.person("cochair_clinician_a")


@pytest.fixture
def maria(world: World) -> Any:
    """Manager member at Oakland."""
    return world.person("manager_a")


@pytest.fixture
def omar(world: World) -> Any:
    """Management co-chair at Oakland."""
    return world.person("cochair_manager_a")


@pytest.fixture
def ruth(world: World) -> Any:
    """Union representative (observer) at Oakland."""
    return world.person("union_rep_a")


@pytest.fixture
def ada(world: World) -> Any:
    """Regional admin."""
    return world.person("regional_admin")


@pytest.fixture
def dana(world: World) -> Any:
    """Data steward."""
    return world.person("data_steward")


@pytest.fixture
def login(client: Any) -> Any:
    """Sign a person in on the test client (the session skips the second-factor step)."""

    def _login(user: Any) -> Any:
        client.force_login(user)
        return client

    return _login
