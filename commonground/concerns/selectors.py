"""Reads for concerns. Every tenant query passes through here, and so does every rule about
who may see who raised a concern."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from commonground.concerns.models import OPEN_STATUSES, Concern, CoSign, IdentityMode, Status
from commonground.core.business_days import Calendar
from commonground.core.permissions import authorise
from commonground.organizations.access import access_profile
from commonground.organizations.models import Clinic, Committee, Role, Side


def calendar_for_clinic(clinic: Clinic | None) -> Calendar:
    if clinic is None:
        return Calendar()
    calendar = clinic.calendar
    return Calendar(
        holidays=frozenset(calendar.holidays.values_list("date", flat=True)),
        weekend=frozenset(calendar.weekend_days or [5, 6]),
    )


def get_concern_for_user(
    user: Any, concern_id: uuid.UUID, perm: str = "concerns.view_concern"
) -> Concern:
    concern = (
        Concern.objects.select_related("committee", "committee__clinic", "committee__region")
        .filter(pk=concern_id)
        .first()
    )
    if concern is None:
        raise Http404
    authorise(
        user,
        concern,
        view_perm="concerns.view_concern",
        perm=perm,
        clinic_id=concern.committee.clinic_id,
    )
    return concern


def raiser_visible_to(user: Any, concern: Concern) -> bool:
    """Whether ``user`` may learn who raised ``concern``.

    Named: everyone who sees the concern. Confidential: the raiser, the committee's clinician
    co-chair and its union representatives. Anonymous: nobody, ever (nothing is stored).
    """
    if concern.identity_mode == IdentityMode.NAMED:
        return True
    if concern.identity_mode == IdentityMode.ANONYMOUS or not user.is_authenticated:
        return False
    if concern.raised_by_id == user.pk:
        return True
    profile = access_profile(user)
    role = profile.role_by_committee.get(concern.committee_id)
    side = profile.side_by_committee.get(concern.committee_id)
    return role == Role.UNION_REP or (role == Role.CO_CHAIR and side == Side.CLINICIAN)


def raiser_label(user: Any, concern: Concern) -> str:
    if raiser_visible_to(user, concern) and concern.raised_by is not None:
        return concern.raised_by.get_display_name()
    if concern.identity_mode == IdentityMode.CONFIDENTIAL:
        return f"a {Side(concern.raiser_side).label.lower()}" if concern.raiser_side else "a member"
    return "anonymous"


@dataclass(frozen=True)
class CoSignCounts:
    total: int
    by_side: dict[str, int] | None  # None when a side's count is too small to show

    @property
    def shown_sides(self) -> list[tuple[str, int]]:
        return [(str(Side(side).label), n) for side, n in (self.by_side or {}).items()]


def cosign_counts(concern: Concern) -> CoSignCounts:
    """Counts by side only when every side with co-signers has at least k of them, so that
    no small count can be read off directly or by subtracting from the total."""
    k = settings.COMMONGROUND_MIN_GROUP_SIZE
    counts = dict(
        CoSign.objects.filter(concern=concern).values_list("side").annotate(n=Count("id"))
    )
    total = sum(counts.values())
    if not counts or any(0 < n < k for n in counts.values()):
        return CoSignCounts(total=total, by_side=None)
    return CoSignCounts(total=total, by_side=dict(sorted(counts.items())))


def committee_concerns(committee: Committee, *, status: str = "") -> QuerySet[Concern]:
    concerns = Concern.objects.filter(committee=committee).annotate(cosigners=Count("cosigns"))
    if status == "open":
        concerns = concerns.filter(status__in=OPEN_STATUSES)
    elif status:
        concerns = concerns.filter(status=status)
    return concerns.order_by("-raised_on", "id")


@dataclass(frozen=True)
class Attention:
    concern: Concern
    reason: str


def concerns_needing_attention(committee: Committee, on: dt.date) -> list[Attention]:
    """Open concerns whose clocks have lapsed or fall due within five days, for agendas."""
    soon = on + dt.timedelta(days=5)
    found: list[Attention] = []
    concerns = Concern.objects.filter(committee=committee, status__in=OPEN_STATUSES).filter(
        Q(status=Status.RAISED, acknowledge_by__lte=soon)
        | Q(
            respond_by__lte=soon,
            status__in=[Status.RAISED, Status.ACKNOWLEDGED, Status.IN_DISCUSSION],
        )
    )
    for concern in concerns.order_by("respond_by", "id"):
        if concern.status == Status.RAISED and concern.acknowledge_by < on:
            reason = f"not acknowledged: due {_day(concern.acknowledge_by)}"
        elif concern.respond_by < on:
            reason = f"joint response overdue since {_day(concern.respond_by)}"
        elif concern.status == Status.RAISED:
            reason = f"acknowledgement due {_day(concern.acknowledge_by)}"
        else:
            reason = f"joint response due {_day(concern.respond_by)}"
        found.append(Attention(concern, reason))
    return found


def _day(day: dt.date) -> str:
    return f"{day:%b} {day.day}"
