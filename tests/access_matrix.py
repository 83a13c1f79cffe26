"""The authorization matrix: every URL pattern of the app, by method, role and scope.

This table is the documentation of who may do what (ASVS 8.1.1). A URL pattern that is not
listed here fails ``test_every_url_pattern_has_a_matrix_entry``.

Roles are the Oakland (clinic A) personas of ``tests/conftest.py`` plus the regional
roles. Scopes say whose object the URL points at: ``own`` (Oakland), ``other``
(Richmond) or ``region`` (the regional committee, which belongs to no clinic).
"""

from __future__ import annotations

import datetime as dt
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


# Who takes part in (not just observes) each scope's committee.
PARTICIPANTS = {
    "own": set(CLINIC_ROLES) - {"union_rep"},
    "other": set(),
    "region": {"data_steward", "regional_admin"},
}
# Who is on the team of the improvement project the matrix uses in each scope.
PROJECT_TEAM = {"own": {"clinician"}, "other": set(), "region": {"data_steward"}}


def can_start(role: str, scope: str) -> bool:
    return role == "regional_admin" or role in PARTICIPANTS[scope]


# Who holds a seat (any role, observers included) on each scope's committee.
SEATED = {
    "own": set(CLINIC_ROLES),
    "other": set(),
    "region": {"data_steward", "regional_admin"},
}


def can_edit_project(role: str, scope: str) -> bool:
    return can_manage(role, scope) or role in PROJECT_TEAM[scope]


@dataclass(frozen=True)
class Entry:
    """How one URL answers.

    need: "public" (anyone), "signed_in" (any account), "view" / "manage" (the committee
    or clinic the URL names), "start" (take part in the committee: not an observer),
    "edit" (the improvement project's team, or manage), "audit" (regional admins),
    "region_ledger" (regional admins and regional committee members), "seat" (any seat
    on the committee, observers included), "respond" (the committee's co-chairs).
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
        if self.need == "region_ledger":
            return self.ok[method] if role in ("regional_admin", "data_steward") else 403
        if not can_view(role, scope):
            return 404
        if self.need == "manage" and not can_manage(role, scope):
            return 403
        if self.need == "start" and not can_start(role, scope):
            return 403
        if self.need == "edit" and not can_edit_project(role, scope):
            return 403
        if self.need == "seat" and role not in SEATED[scope]:
            return 403
        # Concerns are answered by the co-chairs of their committee only.
        if self.need == "respond" and not (scope == "own" and role in COCHAIRS):
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


def _improvement(world: Any, scope: str) -> Any:
    """One project per scope, with a measure, a PDSA cycle and a ledger entry (built once)."""
    cache = world.__dict__.setdefault("_improvement", {})
    if scope not in cache:
        import datetime as dt

        from commonground.improvement.models import (
            Commitment,
            Measure,
            PdsaCycle,
            Project,
            ProjectMember,
            Recommendation,
        )

        committee = {"own": world.ppc_a, "other": world.ppc_b, "region": world.regional}[scope]
        lead = {
            "own": world.person("clinician_a"),
            "other": world.person("clinician_b"),
            "region": world.person("data_steward"),
        }[scope]
        project = Project.objects.create(
            committee=committee,
            title=f"Faster follow-ups ({scope})",
            aim_what="Return visits within 10 business days",
            aim_how_much="from 60% to 85%",
            aim_by_when=dt.date(2027, 6, 30),
        )
        member = ProjectMember.objects.create(
            project=project, person=lead, side="clinician", is_lead=True
        )
        measure = Measure.objects.create(
            project=project,
            name="Follow-ups within 10 business days",
            kind="outcome",
            operational_definition="Share of attended visits followed within 10 business days.",
            chart="run",
            direction="increase",
        )
        cycle = PdsaCycle.objects.create(
            project=project,
            number=1,
            change_idea="Book the next visit before the patient leaves",
            plan="Two clinicians for two weeks",
            prediction="More follow-ups booked",
            started_on=dt.date(2026, 9, 7),
            measure=measure,
        )
        rec = Recommendation.objects.create(
            committee=committee, title="Protect return-visit slots", made_on=dt.date(2026, 8, 1)
        )
        commitment = Commitment.objects.create(
            recommendation=rec,
            what="Hold 4 return slots per clinician per week",
            due_on=dt.date(2026, 12, 1),
            clinician_owner=lead,
        )
        cache[scope] = {
            "project": project,
            "member": member,
            "measure": measure,
            "cycle": cycle,
            "recommendation": rec,
            "commitment": commitment,
        }
    return cache[scope]


def _project(world: Any, scope: str) -> dict[str, Any]:
    return {"project_id": _improvement(world, scope)["project"].public_id}


def _team_member(world: Any, scope: str) -> dict[str, Any]:
    objects = _improvement(world, scope)
    return {"project_id": objects["project"].public_id, "member_id": objects["member"].pk}


def _measure(world: Any, scope: str) -> dict[str, Any]:
    return {"measure_id": _improvement(world, scope)["measure"].public_id}


def _cycle(world: Any, scope: str) -> dict[str, Any]:
    return {"cycle_id": _improvement(world, scope)["cycle"].public_id}


def _recommendation(world: Any, scope: str) -> dict[str, Any]:
    return {"rec_id": _improvement(world, scope)["recommendation"].public_id}


def _commitment(world: Any, scope: str) -> dict[str, Any]:
    return {"commitment_id": _improvement(world, scope)["commitment"].public_id}


def _concern(world: Any, scope: str) -> dict[str, Any]:
    cache = world.__dict__.setdefault("_concerns", {})
    if scope not in cache:
        import datetime as dt

        from commonground.concerns.models import Concern

        committee, person = {
            "own": (world.ppc_a, world.person("clinician_a")),
            "other": (world.ppc_b, world.person("clinician_b")),
            "region": (world.regional, world.person("data_steward")),
        }[scope]
        cache[scope] = Concern.objects.create(
            committee=committee,
            title=f"Return visits too far out ({scope})",
            description="Follow-ups are offered after 30 business days.",
            category="access",
            patient_impact="Long gaps between sessions.",
            identity_mode="named",
            raised_by=person,
            raiser_side="clinician",
            raised_on=dt.date(2026, 11, 2),
            acknowledge_by=dt.date(2026, 11, 9),
            respond_by=dt.date(2026, 12, 1),
            not_a_grievance=True,
        )
    return {"concern_id": cache[scope].pk}


def _clock_change(world: Any, scope: str) -> dict[str, Any]:
    """A proposed extension on the scope's concern; co-chairs withdraw it (302)."""
    from commonground.concerns.models import ClockChange

    kwargs = _concern(world, scope)
    cache = world.__dict__.setdefault("_clock_changes", {})
    if scope not in cache:
        cache[scope] = ClockChange.objects.create(
            concern_id=kwargs["concern_id"],
            kind="extend",
            reason="Waiting for the staffing figures from HR.",
            business_days=5,
            proposed_by=world.person("data_steward"),
            proposed_on=dt.date(2026, 11, 3),
        )
    return {**kwargs, "change_id": cache[scope].pk, "decision": "withdraw"}


def _signal(world: Any, scope: str) -> dict[str, Any]:
    """An open access signal for the scope's committee."""
    from commonground.improvement.models import AccessSignal

    cache = world.__dict__.setdefault("_signals", {})
    if scope not in cache:
        committee = {"own": world.ppc_a, "other": world.ppc_b, "region": world.regional}[scope]
        cache[scope] = AccessSignal.objects.create(
            committee=committee,
            metric="follow_up_sb221",
            began=dt.date(2026, 9, 1),
            latest=dt.date(2026, 10, 1),
            summary="Follow-up within 10 business days: special-cause deterioration.",
            series=[[f"2025-{m:02d}-01", 72.0] for m in range(1, 13)],
        )
    return {"signal_id": cache[scope].public_id}


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
    # Improvement projects and the accountability ledger.
    "improvement:committee-projects": Entry(
        "view", {"GET": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "improvement:project-create": Entry(
        "start", {"GET": 200, "POST": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "improvement:chart-settings": Entry(
        "manage", {"POST": 302}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "improvement:committee-ledger": Entry(
        "view", {"GET": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "improvement:recommendation-create": Entry(
        "manage", {"GET": 200, "POST": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "improvement:project-detail": Entry(
        "view", {"GET": 200}, COMMITTEE_SCOPES, _project, object_scoped=True
    ),
    "improvement:project-edit": Entry(
        "edit", {"GET": 200, "POST": 200}, COMMITTEE_SCOPES, _project, object_scoped=True
    ),
    # Link a concern or a decision (the test sends none: an error message and a redirect).
    "improvement:project-links": Entry(
        "edit", {"POST": 302}, COMMITTEE_SCOPES, _project, object_scoped=True
    ),
    "improvement:team-member-add": Entry(
        "edit", {"POST": 302}, COMMITTEE_SCOPES, _project, object_scoped=True
    ),
    "improvement:team-member-remove": Entry(
        "edit", {"POST": 302}, COMMITTEE_SCOPES, _team_member, object_scoped=True
    ),
    "improvement:measure-create": Entry(
        "edit", {"GET": 200, "POST": 200}, COMMITTEE_SCOPES, _project, object_scoped=True
    ),
    "improvement:pdsa-create": Entry(
        "edit", {"POST": 302}, COMMITTEE_SCOPES, _project, object_scoped=True
    ),
    "improvement:measure-detail": Entry(
        "view", {"GET": 200}, COMMITTEE_SCOPES, _measure, object_scoped=True
    ),
    "improvement:measure-point-add": Entry(
        "edit", {"POST": 422}, COMMITTEE_SCOPES, _measure, object_scoped=True
    ),
    "improvement:measure-upload": Entry(
        "edit", {"POST": 422}, COMMITTEE_SCOPES, _measure, object_scoped=True
    ),
    "improvement:pdsa-record": Entry(
        "edit", {"GET": 200, "POST": 302}, COMMITTEE_SCOPES, _cycle, object_scoped=True
    ),
    "improvement:commitment-create": Entry(
        "manage", {"GET": 200, "POST": 200}, COMMITTEE_SCOPES, _recommendation, object_scoped=True
    ),
    "improvement:commitment-edit": Entry(
        "manage", {"GET": 200, "POST": 200}, COMMITTEE_SCOPES, _commitment, object_scoped=True
    ),
    "improvement:region-ledger": Entry("region_ledger", {"GET": 200}),
    # Access signals: seen with the committee; its co-chairs raise or dismiss (the test sends
    # no reason: the dismissal is refused with a message and a redirect).
    "improvement:signal-detail": Entry(
        "view", {"GET": 200}, COMMITTEE_SCOPES, _signal, object_scoped=True
    ),
    "improvement:signal-decide": Entry(
        "respond", {"POST": 302}, COMMITTEE_SCOPES, _signal, object_scoped=True
    ),
    # Concerns.
    "concerns:concern-list": Entry(
        "view", {"GET": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "concerns:concern-raise": Entry(
        "seat", {"GET": 200, "POST": 422}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    "concerns:receipt-lookup": Entry("public", {"GET": 200, "POST": 200}),
    "concerns:concern-detail": Entry(
        "view", {"GET": 200}, COMMITTEE_SCOPES, _concern, object_scoped=True
    ),
    "concerns:concern-cosign": Entry(
        "seat", {"POST": 302}, COMMITTEE_SCOPES, _concern, object_scoped=True
    ),
    "concerns:concern-step": Entry(
        "respond", {"POST": 302}, COMMITTEE_SCOPES, _concern, object_scoped=True
    ),
    "concerns:response-edit": Entry(
        "respond", {"POST": 302}, COMMITTEE_SCOPES, _concern, object_scoped=True
    ),
    # Extensions and pauses of the clocks: the responsible co-chairs only.
    "concerns:clock-propose": Entry(
        "respond", {"POST": 302}, COMMITTEE_SCOPES, _concern, object_scoped=True
    ),
    "concerns:clock-decide": Entry(
        "respond", {"POST": 302}, COMMITTEE_SCOPES, _clock_change, object_scoped=True
    ),
    # Similar open concerns for the raise form's draft (htmx, POST keeps the text out of URLs).
    "concerns:concern-similar": Entry(
        "seat", {"POST": 200}, COMMITTEE_SCOPES, _committee, object_scoped=True
    ),
    # Search: one page over what the person may see; no seat sees an empty result.
    "search:search": Entry("signed_in", {"GET": 200}),
}

# URL sets that come from third-party apps. They are swept by a smoke test (no 5xx for any
# role, admin only for staff) instead of a row per pattern; their own projects test them.
THIRD_PARTY_PREFIXES = {
    "accounts/": "allauth: sign-in, password reset, email, two-step sign-in, SSO",
    "admin/": "Django admin: staff only, signs in through allauth",
}


# Each app with URLs of its own keeps its rows beside this table.
from tests.access_matrix_notifications import ENTRIES as _NOTIFICATIONS  # noqa: E402

MATRIX.update(_NOTIFICATIONS)

from tests.access_matrix_meetings import ENTRIES as _MEETINGS  # noqa: E402

MATRIX.update(_MEETINGS)

from tests.access_matrix_threads import EXTRA_MATRIX as _THREADS  # noqa: E402

MATRIX.update(_THREADS)

from tests.access_matrix_attachments import EXTRA_MATRIX as _ATTACHMENTS  # noqa: E402

MATRIX.update(_ATTACHMENTS)

from tests.access_matrix_region import EXTRA_MATRIX as _REGION  # noqa: E402

MATRIX.update(_REGION)

from tests.access_matrix_deliberation import EXTRA_MATRIX as _DELIBERATION  # noqa: E402

MATRIX.update(_DELIBERATION)

from tests.access_matrix_access import EXTRA_MATRIX as _ACCESS  # noqa: E402

MATRIX.update(_ACCESS)

from tests.access_matrix_dashboards import EXTRA_MATRIX as _DASHBOARDS  # noqa: E402

MATRIX.update(_DASHBOARDS)

from tests.access_matrix_polls import EXTRA_MATRIX as _POLLS  # noqa: E402

MATRIX.update(_POLLS)

from tests.access_matrix_summit import EXTRA_MATRIX as _SUMMIT  # noqa: E402

MATRIX.update(_SUMMIT)

from tests.access_matrix_ideas import EXTRA_MATRIX as _IDEAS  # noqa: E402

MATRIX.update(_IDEAS)

from tests.access_matrix_settings import EXTRA_MATRIX as _SETTINGS  # noqa: E402

MATRIX.update(_SETTINGS)
