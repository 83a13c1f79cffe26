"""The authorization matrix: every URL pattern of the app, by method, role and scope.

This table is the documentation of who may do what (ASVS 8.1.1). A URL pattern that is not
listed here fails ``test_every_url_pattern_has_a_matrix_entry``.

Roles are the Oakland (clinic A) personas of ``tests/conftest.py`` plus the regional
roles. Scopes say whose object the URL points at: ``own`` (Oakland), ``other``
(Richmond) or ``region`` (the regional committee, which belongs to no clinic).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANONYMOUS = "anonymous"
CLINIC_ROLES = ("clinician", "cochair_clinician", "manager", "cochair_manager", "union_rep")
COCHAIRS = ("cochair_clinician", "cochair_manager")
ROLES = (ANONYMOUS, *CLINIC_ROLES, "data_steward", "regional_admin", "no_seat", "staff")
REGION_MEMBERS = (*CLINIC_ROLES, "data_steward", "regional_admin")

LOGIN = 302  # login_required sends anonymous people to the sign-in page
METHODS = ("GET", "POST")


def persona_key(role: str) -> str:
    return f"{role}_a" if role in CLINIC_ROLES else role


def can_view(role: str, scope: str) -> bool:
    if role == "regional_admin":
        return True
    if scope == "own":
        return role in CLINIC_ROLES
    if scope == "region":
        return role in REGION_MEMBERS
    return False


def can_manage(role: str, scope: str) -> bool:
    if role == "regional_admin":
        return True
    return scope == "own" and role in COCHAIRS


@dataclass(frozen=True)
class Entry:
    """How one URL answers.

    need: "public" (anyone), "signed_in" (any account), "view" / "manage" (the committee
    or clinic the URL names), "audit" (regional admins).
    ok: the status of a permitted request, per method (the tests send no form data, so a
    form view answers with its re-rendered form).
    """

    need: str
    ok: dict[str, int]
    scopes: tuple[str, ...] = ("none",)
    kwargs: Callable[[Any, str], dict[str, Any]] | None = None
    object_scoped: bool = field(default=False)

    def expected(self, role: str, scope: str, method: str) -> int:
        if method not in self.ok:
            return LOGIN if role == ANONYMOUS and self.need != "public" else 405
        if self.need == "public":
            return self.ok[method]
        if role == ANONYMOUS:
            return LOGIN
        if self.need == "signed_in":
            return self.ok[method]
        if self.need == "audit":
            return self.ok[method] if role == "regional_admin" else 403
        if not can_view(role, scope):
            return 404
        if self.need == "manage" and not can_manage(role, scope):
            return 403
        return self.ok[method]


def _clinic(world: Any, scope: str) -> dict[str, Any]:
    return {"slug": {"own": world.clinic_a, "other": world.clinic_b}[scope].slug}


def _committee(world: Any, scope: str) -> dict[str, Any]:
    committee = {"own": world.ppc_a, "other": world.ppc_b, "region": world.regional}[scope]
    return {"slug": committee.slug}


def _member_seat(world: Any, scope: str) -> dict[str, Any]:
    from commonground.organizations.models import Membership

    committee, person = {
        "own": (world.ppc_a, world.person("clinician_a")),
        "other": (world.ppc_b, world.person("clinician_b")),
        "region": (world.regional, world.person("data_steward")),
    }[scope]
    seat = Membership.objects.get(committee=committee, person=person, end_date__isnull=True)
    return {"slug": committee.slug, "membership_id": seat.pk}


COMMITTEE_SCOPES = ("own", "other", "region")

MATRIX: dict[str, Entry] = {
    "core:home": Entry("signed_in", {"GET": 200}),
    "core:healthz": Entry("public", {"GET": 200}),
    "accounts:profile": Entry("signed_in", {"GET": 200, "POST": 302}),
    "organizations:clinic-list": Entry("signed_in", {"GET": 200}),
    "organizations:clinic-detail": Entry(
        "view", {"GET": 200}, ("own", "other"), _clinic, object_scoped=True
    ),
    "organizations:committee-detail": Entry(
        "view", {"GET": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "organizations:committee-history": Entry(
        "view", {"GET": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "organizations:committee-edit": Entry(
        "manage", {"GET": 200, "POST": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "organizations:membership-add": Entry(
        "manage", {"POST": 422}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "organizations:membership-end": Entry(
        "manage", {"POST": 302}, COMMITTEE_SCOPES, _member_seat, object_scoped=True
    ),
    "organizations:cochair-assign": Entry(
        "manage", {"POST": 422}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "organizations:roster-export": Entry(
        "manage", {"GET": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "audit:event-list": Entry("audit", {"GET": 200}),
}

# URL sets that come from third-party apps. They are swept by a smoke test (no 5xx for any
# role, admin only for staff) instead of a row per pattern; their own projects test them.
THIRD_PARTY_PREFIXES = {
    "accounts/": "allauth: sign-in, password reset, email, two-step sign-in, SSO",
    "admin/": "Django admin: staff only, signs in through allauth",
}
