"""Reads for the region view: concerns by theme across clinics, clock compliance per clinic,
clusters of similar concerns at several clinics, and cross-clinic patterns.

Every read here is a fixed number of queries whatever the number of clinics or concerns:
counts are grouped in the database, and rows are fetched once with what they display.
Nothing about who raised a concern is read: not the raiser, not the raiser's side.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from commonground.concerns.clusters import Document, cluster
from commonground.concerns.models import (
    OPEN_STATUSES,
    Category,
    Concern,
    CrossClinicPattern,
    Signoff,
    Status,
)
from commonground.core.permissions import authorise
from commonground.organizations.access import AccessProfile, access_profile
from commonground.organizations.models import Clinic, Committee, Region

# --- who is a region person ---------------------------------------------------------------

_SEATS_ATTR = "_commonground_regional_seats"


@dataclass(frozen=True)
class RegionalSeats:
    """Regions where the person sits on the regional committee, and where they co-chair it."""

    member_of: frozenset[int] = frozenset()
    cochair_of: frozenset[int] = frozenset()


def regional_seats(user: Any) -> RegionalSeats:
    """One query the first time a request asks, then kept beside the access profile it was
    read from: a new profile (after a membership change) reads it again."""
    profile = access_profile(user)
    if profile.user_id is None or not profile.committee_ids:
        return RegionalSeats()
    cached = getattr(user, _SEATS_ATTR, None)
    if cached is not None and cached[0] is profile:
        return cached[1]
    rows = Committee.objects.filter(
        pk__in=profile.committee_ids, kind=Committee.Kind.REGIONAL
    ).values_list("pk", "region_id")
    seats = RegionalSeats(
        member_of=frozenset(region_id for _, region_id in rows),
        cochair_of=frozenset(
            region_id for pk, region_id in rows if pk in profile.cochair_committee_ids
        ),
    )
    setattr(user, _SEATS_ATTR, (profile, seats))
    return seats


def viewable_region_ids(user: Any) -> frozenset[int]:
    """Regional admins see their regions; regional committee members see theirs."""
    profile: AccessProfile = access_profile(user)
    return profile.admin_region_ids | regional_seats(user).member_of


def merging_region_ids(user: Any) -> frozenset[int]:
    """Regional admins and the regional committee's co-chairs merge concerns into patterns."""
    return access_profile(user).admin_region_ids | regional_seats(user).cochair_of


def regions_for_user(user: Any) -> list[Region]:
    ids = viewable_region_ids(user)
    return list(Region.objects.filter(pk__in=ids)) if ids else []


# --- filters ------------------------------------------------------------------------------

PERIODS = {"3": "Last 3 months", "6": "Last 6 months", "12": "Last 12 months", "24": "Last 2 years"}
DEFAULT_PERIOD = "12"


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier, or that month's last day when it is shorter."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class RegionFilters:
    today: dt.date
    period: str = DEFAULT_PERIOD
    category: str = ""

    @classmethod
    def from_query(cls, query: Any, today: dt.date) -> RegionFilters:
        period = query.get("period", DEFAULT_PERIOD)
        category = query.get("category", "")
        return cls(
            today=today,
            period=period if period in PERIODS else DEFAULT_PERIOD,
            category=category if category in Category.values else "",
        )

    @property
    def since(self) -> dt.date:
        return months_before(self.today, int(self.period))

    @property
    def period_label(self) -> str:
        return PERIODS[self.period]


def active_clinics(region: Region) -> list[Clinic]:
    """Clinics of the region whose PPC is active: the "of 26 clinics" of the region view."""
    return list(
        Clinic.objects.filter(
            region=region,
            committees__kind=Committee.Kind.CLINIC_PPC,
            committees__is_active=True,
        )
        .distinct()
        .order_by("name")
    )


def _clinic_concerns(region: Region, clinic_ids: Iterable[int], category: str) -> QuerySet[Any]:
    concerns = Concern.objects.filter(
        committee__region=region,
        committee__kind=Committee.Kind.CLINIC_PPC,
        committee__clinic_id__in=list(clinic_ids),
    )
    return concerns.filter(category=category) if category else concerns


# --- concerns by theme --------------------------------------------------------------------

# "Tried an action": an agreed joint response, and work under way or done.
TRIED_STATUSES = frozenset({Status.ACTION, Status.RESOLVED, Status.CLOSED})


def _is_resolved(status: str, agreed: bool | None) -> bool:
    # A closed concern counts as resolved only when the sides had agreed on an action; one
    # closed without agreement is answered, not resolved.
    return status == Status.RESOLVED or (status == Status.CLOSED and agreed is True)


@dataclass(frozen=True)
class ThemeRow:
    category: str
    label: str
    clinics: int  # active clinics in the region
    open_at: int  # clinics with at least one open concern on the theme
    tried: int  # clinics that tried an agreed action
    resolved: int  # clinics where a concern on the theme was resolved
    open_concerns: int
    concerns: int

    @property
    def sentence(self) -> str:
        return (
            f"Open at {self.open_at} of {self.clinics} clinics; "
            f"{self.tried} tried an action; {self.resolved} resolved"
        )


def concerns_by_theme(
    region: Region, clinics: list[Clinic], filters: RegionFilters
) -> list[ThemeRow]:
    """One row per category with concerns raised in the period, most widespread first.
    One query: counts grouped by category, clinic, status and whether the response agreed."""
    rows = (
        _clinic_concerns(region, (c.pk for c in clinics), filters.category)
        .filter(raised_on__gte=filters.since)
        .values_list("category", "committee__clinic_id", "status", "response__agreed")
        .annotate(n=Count("pk"))
        .order_by()
    )
    open_at: dict[str, set[int]] = defaultdict(set)
    tried: dict[str, set[int]] = defaultdict(set)
    resolved: dict[str, set[int]] = defaultdict(set)
    open_concerns: Counter[str] = Counter()
    concerns: Counter[str] = Counter()
    for category, clinic_id, status, agreed, n in rows:
        concerns[category] += n
        if status in OPEN_STATUSES:
            open_at[category].add(clinic_id)
            open_concerns[category] += n
        if status in TRIED_STATUSES and agreed is True:
            tried[category].add(clinic_id)
        if _is_resolved(status, agreed):
            resolved[category].add(clinic_id)
    labels = dict(Category.choices)
    themes = [
        ThemeRow(
            category=category,
            label=str(labels.get(category, category)),
            clinics=len(clinics),
            open_at=len(open_at[category]),
            tried=len(tried[category]),
            resolved=len(resolved[category]),
            open_concerns=open_concerns[category],
            concerns=total,
        )
        for category, total in concerns.items()
    ]
    themes.sort(key=lambda t: (-t.open_at, -t.open_concerns, t.label))
    return themes


# --- clock compliance per clinic ----------------------------------------------------------


def _signed_by_both(step: str) -> Subquery:
    """The day a step was complete: the later of the two co-chairs' signatures on one
    version (a response edited after one signature starts over with a new version)."""
    return Subquery(
        Signoff.objects.filter(concern=OuterRef("pk"), step=step)
        .order_by()
        .values("response_version")
        .annotate(sides=Count("side", distinct=True), done=Max("signed_on"))
        .filter(sides__gte=2)
        .order_by("done")
        .values("done")[:1]
    )


@dataclass(frozen=True)
class ComplianceRow:
    clinic: Clinic
    concerns: int = 0  # raised in the period
    ack_due: int = 0  # acknowledged, or past its acknowledge-by date
    ack_on_time: int = 0
    respond_due: int = 0  # answered, or past its respond-by date
    respond_on_time: int = 0
    overdue_now: int = 0  # open with a lapsed clock today, whenever raised
    escalated: int = 0  # raised in the period and escalated

    @property
    def ack_rate(self) -> int | None:
        return round(100 * self.ack_on_time / self.ack_due) if self.ack_due else None

    @property
    def respond_rate(self) -> int | None:
        return round(100 * self.respond_on_time / self.respond_due) if self.respond_due else None


COMPLIANCE_SORTS = {
    "clinic": lambda row: (row.clinic.name,),
    "concerns": lambda row: (row.concerns, row.clinic.name),
    "ack": lambda row: (-1 if row.ack_rate is None else row.ack_rate, row.clinic.name),
    "respond": lambda row: (-1 if row.respond_rate is None else row.respond_rate, row.clinic.name),
    "overdue": lambda row: (row.overdue_now, row.clinic.name),
    "escalated": lambda row: (row.escalated, row.clinic.name),
}


def clock_compliance(
    region: Region,
    clinics: list[Clinic],
    filters: RegionFilters,
    *,
    sort: str = "clinic",
    descending: bool = False,
) -> list[ComplianceRow]:
    """Per active clinic: the share of concerns raised in the period that were acknowledged
    by their acknowledge-by date and answered (a joint response signed by both sides) by
    their respond-by date, the open concerns overdue today and the escalations.

    One query: the completion days are correlated subqueries and every count is a filtered
    aggregate grouped by clinic. A paused concern is not overdue: its clocks stand still.
    """
    today, since = filters.today, filters.since
    in_period = Q(raised_on__gte=since)
    lapsed = Q(paused_since__isnull=True) & (
        Q(status__in=[Status.RAISED, Status.ESCALATED], acknowledge_by__lt=today)
        | Q(
            status__in=[
                Status.RAISED,
                Status.ACKNOWLEDGED,
                Status.IN_DISCUSSION,
                Status.ESCALATED,
            ],
            respond_by__lt=today,
        )
    )
    counts = (
        _clinic_concerns(region, (c.pk for c in clinics), filters.category)
        .filter(in_period | Q(status__in=OPEN_STATUSES))
        .annotate(
            acked_on=_signed_by_both(Signoff.Step.ACKNOWLEDGE),
            answered_on=_signed_by_both(Signoff.Step.RESPONSE),
        )
        .values("committee__clinic_id")
        .annotate(
            concerns=Count("pk", filter=in_period),
            ack_due=Count(
                "pk",
                filter=in_period & (Q(acked_on__isnull=False) | Q(acknowledge_by__lt=today)),
            ),
            ack_on_time=Count("pk", filter=in_period & Q(acked_on__lte=F("acknowledge_by"))),
            respond_due=Count(
                "pk",
                filter=in_period & (Q(answered_on__isnull=False) | Q(respond_by__lt=today)),
            ),
            respond_on_time=Count("pk", filter=in_period & Q(answered_on__lte=F("respond_by"))),
            overdue_now=Count("pk", filter=lapsed),
            escalated=Count("pk", filter=in_period & Q(escalated_to__isnull=False)),
        )
        .order_by()
    )
    by_clinic = {row.pop("committee__clinic_id"): row for row in counts}
    rows = [ComplianceRow(clinic=clinic, **by_clinic.get(clinic.pk, {})) for clinic in clinics]
    rows.sort(key=COMPLIANCE_SORTS.get(sort, COMPLIANCE_SORTS["clinic"]), reverse=descending)
    return rows


# --- clusters of similar open concerns ----------------------------------------------------

# Only the most recent open concerns not yet in a pattern are grouped, at most this many,
# and the grouping is kept for a few minutes per region: it is the one costly step here.
CLUSTER_CAP = 2000
CLUSTER_CACHE_SECONDS = 300


def _cluster_cache_key(region_id: int, category: str) -> str:
    return f"concerns:region-clusters:{region_id}:{category or 'all'}"


def forget_clusters(region_id: int) -> None:
    """After a merge the grouping is stale: drop every cached variant of the region's."""
    cache.delete_many([_cluster_cache_key(region_id, c) for c in ["", *Category.values]])


def _cluster_keys(region: Region, category: str) -> tuple[list[list[uuid.UUID]], bool]:
    key = _cluster_cache_key(region.pk, category)
    cached = cache.get(key)
    if cached is not None:
        return cached
    concerns = Concern.objects.filter(
        committee__region=region,
        committee__kind=Committee.Kind.CLINIC_PPC,
        status__in=OPEN_STATUSES,
        pattern__isnull=True,
    )
    if category:
        concerns = concerns.filter(category=category)
    rows = list(
        concerns.order_by("-raised_on", "id").values_list(
            "id", "committee__clinic_id", "title", "description"
        )[: CLUSTER_CAP + 1]
    )
    capped = len(rows) > CLUSTER_CAP
    # Oldest first, so the concern raised first leads its group.
    documents = [
        Document(key=pk, group=clinic_id, title=title, body=body)
        for pk, clinic_id, title, body in reversed(rows[:CLUSTER_CAP])
    ]
    groups = [[uuid.UUID(str(key)) for key in group] for group in cluster(documents)]
    result = (groups, capped)
    cache.set(key, result, timeout=CLUSTER_CACHE_SECONDS)
    return result


# The page shows the most widespread groups, and a sample of each group's rows: one per
# clinic first. Merging can take the rest of the group too (their ids ride along).
CLUSTERS_SHOWN = 25
ROWS_PER_CLUSTER = 12


@dataclass
class Cluster:
    concerns: list[Concern]  # the rows shown, by clinic
    clinics: int
    total: int  # open concerns in the group, shown or not
    title: str  # suggested pattern title: the first raised concern's
    category: str  # suggested category: the most common one
    rest: list[str] = field(default_factory=list)  # ids of the group's concerns not shown

    @property
    def hidden(self) -> int:
        return len(self.rest)


@dataclass(frozen=True)
class Clusters:
    groups: list[Cluster]
    capped: bool  # only the most recent open concerns were compared
    more: int = 0  # groups left off the page


def _sample(
    members: list[uuid.UUID], clinic_of: dict[uuid.UUID, int], size: int
) -> list[uuid.UUID]:
    """One concern per clinic first (in the group's order), then the next ones, up to size."""
    chosen: list[uuid.UUID] = []
    seen: set[int] = set()
    for pk in members:
        if clinic_of[pk] not in seen and len(chosen) < size:
            seen.add(clinic_of[pk])
            chosen.append(pk)
    for pk in members:
        if len(chosen) >= size:
            break
        if pk not in chosen:
            chosen.append(pk)
    return chosen


def _shown(concerns: QuerySet[Concern]) -> QuerySet[Concern]:
    """What a row of the region view shows: clinic, title, status, date. The raiser's fields
    are left unread."""
    return concerns.select_related("committee", "committee__clinic", "escalated_to").defer(
        "description",
        "patient_impact",
        "proposed_idea",
        "raised_by",
        "raiser_side",
        "committee__purpose",
    )


def region_clusters(region: Region, category: str = "") -> Clusters:
    """Groups of similar open concerns at two or more clinics, not yet in a pattern.

    Three queries when the grouping is computed (texts; which members are still open and
    unmerged; the rows shown), two when it is cached. Membership is read fresh, so a concern
    closed or merged since drops out at once.
    """
    groups, capped = _cluster_keys(region, category)
    wanted = [pk for group in groups for pk in group]
    if not wanted:
        return Clusters(groups=[], capped=capped)
    clinic_of: dict[uuid.UUID, int] = dict(
        Concern.objects.filter(pk__in=wanted, status__in=OPEN_STATUSES, pattern__isnull=True)
        .order_by()
        .values_list("pk", "committee__clinic_id")
    )
    live = [members for group in groups if (members := [pk for pk in group if pk in clinic_of])]
    live = [members for members in live if len({clinic_of[pk] for pk in members}) >= 2]
    live.sort(key=lambda members: (-len({clinic_of[pk] for pk in members}), -len(members)))
    shown_groups = live[:CLUSTERS_SHOWN]
    samples = [_sample(members, clinic_of, ROWS_PER_CLUSTER) for members in shown_groups]
    rows = {
        c.pk: c for c in _shown(Concern.objects.filter(pk__in=[pk for s in samples for pk in s]))
    }
    clusters: list[Cluster] = []
    for members, sample in zip(shown_groups, samples, strict=True):
        concerns = [rows[pk] for pk in sample if pk in rows]
        if not concerns:
            continue
        categories = Counter(c.category for c in concerns)
        title = concerns[0].title  # the group's first raised concern leads the sample
        concerns.sort(
            key=lambda c: (c.committee.clinic.name if c.committee.clinic else "", str(c.pk))
        )
        chosen = set(sample)
        clusters.append(
            Cluster(
                concerns=concerns,
                clinics=len({clinic_of[pk] for pk in members}),
                total=len(members),
                title=title,
                category=min(categories, key=lambda c: (-categories[c], c)),
                rest=[str(pk) for pk in members if pk not in chosen],
            )
        )
    return Clusters(groups=clusters, capped=capped, more=len(live) - len(shown_groups))


# --- cross-clinic patterns ----------------------------------------------------------------


def region_patterns(region: Region) -> list[CrossClinicPattern]:
    """The region's patterns with how many clinics and concerns each links. One query."""
    return list(
        CrossClinicPattern.objects.filter(region=region).annotate(
            clinic_count=Count("concerns__committee__clinic", distinct=True),
            concern_count=Count("concerns", distinct=True),
        )
    )


def get_pattern_for_user(
    user: Any, pattern_id: uuid.UUID, perm: str = "concerns.view_pattern"
) -> CrossClinicPattern:
    """404 for anyone who may not see the pattern (outside the region's people), 403 for a
    region person who may not change it."""
    pattern = CrossClinicPattern.objects.select_related("region").filter(pk=pattern_id).first()
    if pattern is None:
        raise Http404
    authorise(user, pattern, view_perm="concerns.view_pattern", perm=perm)
    return pattern


def pattern_concerns(pattern: CrossClinicPattern) -> list[Concern]:
    """Each clinic's linked concerns, by clinic then date. One query."""
    return list(
        _shown(Concern.objects.filter(pattern=pattern)).order_by(
            "committee__clinic__name", "-raised_on", "id"
        )
    )


# Suggestions on the pattern page: the best few unlinked open concerns like the pattern.
SUGGESTION_CAP = 1000
SUGGESTIONS = 8


def pattern_suggestions(
    pattern: CrossClinicPattern, linked: list[Concern], limit: int = SUGGESTIONS
) -> list[Concern]:
    """Open concerns of the region not in any pattern that read like this one: compared
    with the pattern's title and its concerns' titles. Two queries at most."""
    from commonground.concerns.similarity import Index

    rows = list(
        Concern.objects.filter(
            committee__region_id=pattern.region_id,
            committee__kind=Committee.Kind.CLINIC_PPC,
            status__in=OPEN_STATUSES,
            pattern__isnull=True,
        )
        .order_by("-raised_on", "id")
        .values_list("id", "title", "description")[:SUGGESTION_CAP]
    )
    if not rows:
        return []
    index = Index((pk, title, description[:500]) for pk, title, description in rows)
    text = " ".join([pattern.title, *(c.title for c in linked)])
    matches = index.query(text, limit=limit)
    if not matches:
        return []
    order = {m.key: position for position, m in enumerate(matches)}
    found = list(_shown(Concern.objects.filter(pk__in=list(order))))
    found.sort(key=lambda c: order[c.pk])
    return found


@dataclass(frozen=True)
class PatternNote:
    """What a concern's page says about its pattern: visible to anyone who sees the concern;
    the link to the pattern page only for the region's people."""

    title: str
    clinics: int
    url: str | None


def pattern_note(user: Any, concern: Concern) -> PatternNote | None:
    """None without a query when the concern is in no pattern; otherwise one query."""
    if concern.pattern_id is None:
        return None
    pattern = (
        CrossClinicPattern.objects.filter(pk=concern.pattern_id)
        .annotate(clinic_count=Count("concerns__committee__clinic", distinct=True))
        .first()
    )
    if pattern is None:
        return None
    from commonground.core.permissions import allowed

    url = None
    if allowed(user, "concerns.view_pattern", pattern):
        from django.urls import reverse

        url = reverse("concerns:pattern-detail", kwargs={"pattern_id": pattern.pk})
    return PatternNote(title=pattern.title, clinics=pattern.clinic_count, url=url)


# --- the region page ----------------------------------------------------------------------


@dataclass(frozen=True)
class RegionOverview:
    clinics: list[Clinic]
    themes: list[ThemeRow]
    compliance: list[ComplianceRow]
    clusters: Clusters
    patterns: list[CrossClinicPattern]


def region_overview(
    region: Region, filters: RegionFilters, *, sort: str = "clinic", descending: bool = False
) -> RegionOverview:
    """Everything the region page shows, in six queries at most whatever the region's size:
    clinics, themes, compliance, cluster texts (when not cached), cluster rows, patterns."""
    clinics = active_clinics(region)
    return RegionOverview(
        clinics=clinics,
        themes=concerns_by_theme(region, clinics, filters),
        compliance=clock_compliance(region, clinics, filters, sort=sort, descending=descending),
        clusters=region_clusters(region, filters.category),
        patterns=region_patterns(region),
    )
