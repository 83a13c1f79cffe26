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

from commonground.concerns.clocks import Clocks, clocks_for
from commonground.concerns.models import (
    OPEN_STATUSES,
    Category,
    Concern,
    CoSign,
    IdentityMode,
    Status,
)
from commonground.core.business_days import Calendar
from commonground.core.permissions import allowed, authorise
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


def clocks_for_committee(committee: Committee, raised_on: dt.date) -> Clocks:
    """The clocks of a concern raised on ``raised_on``: the region's lengths, counted in the
    business days of the committee's clinic."""
    region = committee.region
    return clocks_for(
        raised_on,
        calendar_for_clinic(committee.clinic),
        region.acknowledge_within_days,
        region.respond_within_days,
    )


def get_concern_for_user(
    user: Any, concern_id: uuid.UUID, perm: str = "concerns.view_concern"
) -> Concern:
    concern = (
        Concern.all_objects.select_related("committee", "committee__clinic", "committee__region")
        .filter(pk=concern_id)
        .first()
    )
    # Before its announcement a confidential concern exists for its raiser only.
    mine = user.is_authenticated and concern is not None and concern.raised_by_id == user.pk
    if concern is None or not (concern.announced or mine):
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


CONCERNS_PER_PAGE = 50


def committee_concerns(
    committee: Committee, *, status: str = "", category: str = ""
) -> QuerySet[Concern]:
    """The committee's concerns, and for a regional committee those escalated to it too."""
    concerns = Concern.objects.filter(Q(committee=committee) | Q(escalated_to=committee))
    concerns = concerns.select_related("committee__clinic").annotate(
        cosigners=Count("cosigns", distinct=True)
    )
    if status == "open":
        concerns = concerns.filter(status__in=OPEN_STATUSES)
    elif status:
        concerns = concerns.filter(status=status)
    if category:
        concerns = concerns.filter(category=category)
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


# --- duplicate detection while typing ---------------------------------------------------

SIMILAR_TEXT_LIMIT = 4000  # characters of the draft that are compared; the rest is ignored


@dataclass(frozen=True)
class SimilarHere:
    """An open concern of the committee the person is raising in: they may open it."""

    concern_id: uuid.UUID
    title: str
    url: str
    status: str
    cosigners: int
    can_cosign: bool
    cosigned: bool
    score: float


@dataclass(frozen=True)
class SimilarElsewhere:
    """An open concern at another clinic: only what it is about and where, never a link."""

    title: str
    clinic: str
    category: str
    score: float


@dataclass(frozen=True)
class SimilarConcerns:
    here: list[SimilarHere]
    elsewhere: list[SimilarElsewhere]
    searched: bool  # False while the draft has too few words to compare

    def __bool__(self) -> bool:
        return bool(self.here or self.elsewhere)


def similar_open_concerns(
    user: Any, committee: Committee, text: str, limit: int = 5
) -> SimilarConcerns:
    """Open concerns like the draft ``text``, for the raise form: this committee's (with a link
    and a way to co-sign) and other clinics' in the region (title, clinic and category only).

    Nothing about who raised any of them is read or returned. Three queries whatever the
    number of concerns: the candidates' text, the details of the few best matches, and the
    person's co-signatures among them (plus the access profile, cached per request).
    """
    from commonground.concerns.similarity import MIN_QUERY_TERMS, Index, terms

    text = text[:SIMILAR_TEXT_LIMIT]
    if len(set(terms(text))) < MIN_QUERY_TERMS:
        return SimilarConcerns(here=[], elsewhere=[], searched=False)
    here_q = Q(committee=committee) | Q(escalated_to=committee)
    elsewhere_q = Q(committee__clinic__isnull=False, committee__region_id=committee.region_id)
    if committee.clinic_id is not None:
        elsewhere_q &= ~Q(committee__clinic_id=committee.clinic_id)
    rows = list(
        Concern.objects.filter(status__in=OPEN_STATUSES)
        .filter(here_q | elsewhere_q)
        .values_list("id", "title", "description", "committee_id", "escalated_to_id")
    )
    is_here: dict[Any, bool] = {
        pk: committee.pk in (committee_id, escalated_to_id)
        for pk, _, _, committee_id, escalated_to_id in rows
    }
    index = Index((pk, title, description) for pk, title, description, _, _ in rows)
    score_of: dict[Any, float] = {}
    taken = {True: 0, False: 0}
    for match in index.query(text, limit=len(index)):
        group = is_here[match.key]
        if taken[group] < limit:
            taken[group] += 1
            score_of[match.key] = match.score
    if not score_of:
        return SimilarConcerns(here=[], elsewhere=[], searched=True)
    found = (
        Concern.objects.filter(pk__in=score_of)
        .select_related("committee", "committee__clinic", "escalated_to")
        .annotate(cosigners=Count("cosigns"))
        .defer("description", "patient_impact", "proposed_idea")
    )
    ordered = sorted(found, key=lambda c: (-score_of[c.pk], str(c.pk)))
    here_ids = {pk for pk in score_of if is_here[pk]}
    signed = set(
        CoSign.objects.filter(concern_id__in=here_ids, person_id=user.pk).values_list(
            "concern_id", flat=True
        )
    )
    statuses = dict(Status.choices)
    categories = dict(Category.choices)
    here: list[SimilarHere] = []
    elsewhere: list[SimilarElsewhere] = []
    for concern in ordered:
        if concern.pk in here_ids:
            if allowed(user, "concerns.view_concern", concern):
                here.append(
                    SimilarHere(
                        concern_id=concern.pk,
                        title=concern.title,
                        url=concern.get_absolute_url(),
                        status=str(statuses.get(concern.status, concern.status)),
                        cosigners=concern.cosigners,
                        can_cosign=concern.pk not in signed
                        and allowed(user, "concerns.cosign", concern),
                        cosigned=concern.pk in signed,
                        score=score_of[concern.pk],
                    )
                )
        elif concern.committee.clinic is not None:
            elsewhere.append(
                SimilarElsewhere(
                    title=concern.title,
                    clinic=concern.committee.clinic.name,
                    category=str(categories.get(concern.category, concern.category)),
                    score=score_of[concern.pk],
                )
            )
    return SimilarConcerns(here=here, elsewhere=elsewhere, searched=True)
