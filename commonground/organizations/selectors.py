"""Reads for regions, clinics and committees. Every tenant query passes through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from commonground.core.permissions import allowed, authorise
from commonground.organizations.access import access_profile
from commonground.organizations.models import Clinic, Committee, Membership, Role, Side


def get_committee_for_user(
    user: Any, slug: str, perm: str = "organizations.view_committee"
) -> Committee:
    """The committee if the user may use it with ``perm``.

    404 when the user may not see it (the same answer as "does not exist"), 403 when they
    may see it but lack ``perm``. Every refusal of an existing committee is audited.
    """
    committee = Committee.objects.select_related("clinic", "region").filter(slug=slug).first()
    if committee is None:
        raise Http404
    authorise(
        user,
        committee,
        view_perm="organizations.view_committee",
        perm=perm,
        clinic_id=committee.clinic_id,
    )
    return committee


def get_clinic_for_user(user: Any, slug: str) -> Clinic:
    clinic = Clinic.objects.select_related("region", "calendar").filter(slug=slug).first()
    if clinic is None:
        raise Http404
    authorise(user, clinic, view_perm="organizations.view_clinic", clinic_id=clinic.pk)
    return clinic


def get_membership_in_committee(committee: Committee, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_related("person", "committee")
        .filter(committee=committee, pk=membership_id)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def memberships_for_home(user: Any) -> list[Membership]:
    """The person's current seats, clinic PPCs first, then the regional bodies."""
    kind_order: dict[str, int] = {
        Committee.Kind.CLINIC_PPC: 0,
        Committee.Kind.REGIONAL: 1,
        Committee.Kind.SUMMIT: 2,
    }
    seats = list(
        Membership.objects.current()
        .filter(person_id=user.pk)
        .select_related("committee", "committee__clinic")
    )
    seats.sort(key=lambda m: (kind_order.get(m.committee.kind, 9), m.committee.name))
    return seats


@dataclass(frozen=True)
class ClinicListing:
    clinic: Clinic
    committee_slug: str | None
    can_view: bool


def clinic_directory(user: Any) -> list[ClinicListing]:
    """Every clinic of the person's regions, with a link only where they may look inside."""
    profile = access_profile(user)
    clinics = (
        Clinic.objects.filter(region_id__in=profile.region_ids)
        .select_related("region")
        .prefetch_related(
            Prefetch(
                "committees",
                queryset=Committee.objects.filter(kind=Committee.Kind.CLINIC_PPC).only(
                    "slug", "clinic_id"
                ),
                to_attr="ppcs",
            )
        )
        .order_by("name")
    )
    listings = []
    for clinic in clinics:
        ppcs: Sequence[Committee] = clinic.ppcs
        listings.append(
            ClinicListing(
                clinic=clinic,
                committee_slug=ppcs[0].slug if ppcs else None,
                can_view=allowed(user, "organizations.view_clinic", clinic),
            )
        )
    return listings


def clinic_committees(clinic: Clinic) -> QuerySet[Committee]:
    return clinic.committees.all().order_by("name")


@dataclass
class Roster:
    committee: Committee
    cochairs: dict[str, Membership | None]
    by_side: dict[str, list[Membership]]

    @property
    def total(self) -> int:
        return sum(len(seats) for seats in self.by_side.values())

    def sides(self) -> list[tuple[str, str, list[Membership]]]:
        return [(side.value, str(side.label), self.by_side.get(side.value, [])) for side in Side]


def committee_roster(committee: Committee) -> Roster:
    """Current seats grouped by side, co-chairs first within each side. One query."""
    seats = list(
        Membership.objects.current()
        .filter(committee=committee)
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "person__username")
    )
    role_order: dict[str, int] = {Role.CO_CHAIR: 0, Role.MEMBER: 1}
    seats.sort(key=lambda m: role_order.get(m.role, 2))
    by_side: dict[str, list[Membership]] = {side.value: [] for side in Side}
    cochairs: dict[str, Membership | None] = {
        Side.CLINICIAN.value: None,
        Side.MANAGEMENT.value: None,
    }
    for seat in seats:
        by_side.setdefault(seat.side, []).append(seat)
        if seat.role == Role.CO_CHAIR:
            cochairs[seat.side] = seat
    return Roster(committee=committee, cochairs=cochairs, by_side=by_side)


def committee_history(committee: Committee) -> QuerySet[Membership]:
    """Seats that have ended: who served, in what role, and when."""
    today = timezone.localdate()
    return (
        Membership.objects.filter(committee=committee, end_date__isnull=False, end_date__lte=today)
        .select_related("person")
        .order_by("-end_date")
    )


def committee_people(committee: Committee, side: str | None = None) -> QuerySet[Any]:
    """People with a current seat on the committee (on one side, if given), by name."""
    from django.contrib.auth import get_user_model

    seats = Membership.objects.current().filter(committee=committee)
    if side is not None:
        seats = seats.filter(side=side)
    return (
        get_user_model()
        .objects.filter(pk__in=seats.values("person_id"))
        .order_by("last_name", "first_name")
    )
