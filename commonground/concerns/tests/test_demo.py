"""The demo's two years of concerns: big enough to feel real, and true to the rules.

The demo is loaded once for the module (it takes a few seconds) inside a transaction that is
rolled back at the end; each test reads it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.selectors import audit_chain_verify
from commonground.concerns.clocks import clocks_for, extended
from commonground.concerns.demo import DEMO_RECEIPT, MAIN_THEMES, THEME_BY_KEY
from commonground.concerns.models import (
    Attachment,
    ClockChange,
    Comment,
    CommentRevision,
    Concern,
    CoSign,
    CrossClinicPattern,
    JointResponse,
    Receipt,
    Signoff,
    Status,
)
from commonground.concerns.phi import find_patient_identifiers
from commonground.concerns.selectors import calendar_for_clinic
from commonground.concerns.services import concern_for_receipt
from commonground.organizations.models import Committee, Holiday, Membership, Role, Side

ANSWERED = [Status.JOINT_RESPONSE, Status.ACTION, Status.RESOLVED, Status.CLOSED]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    from commonground.demo import load_demo

    with django_db_blocker.unblock(), transaction.atomic():
        result = load_demo()
        yield result
        transaction.set_rollback(True)


pytestmark = pytest.mark.usefixtures("demo")


def _cochairs() -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for seat in Membership.objects.current().filter(role=Role.CO_CHAIR):
        found[seat.committee_id][seat.side] = seat.person_id
    return found


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(template)) + "$")


def test_two_years_of_concerns_at_every_clinic_on_every_theme(db, demo):
    assert demo["concerns"] == Concern.objects.count() >= 2800
    days = sorted(Concern.objects.values_list("raised_on", flat=True))
    assert (days[-1] - days[0]).days >= 700
    assert days[-1] <= timezone.localdate()
    per_committee = Counter(Concern.objects.values_list("committee__slug", flat=True))
    ppcs = set(Committee.objects.filter(kind="clinic_ppc").values_list("slug", flat=True))
    assert len(ppcs) == 26 and set(per_committee) == ppcs
    # More at the big clinics: Oakland has the most.
    assert per_committee.most_common(1)[0][0] == "ppc-oakland"
    titles = list(Concern.objects.values_list("title", flat=True))
    for key in MAIN_THEMES:
        patterns = [_pattern(t) for t in THEME_BY_KEY[key].titles]
        assert any(p.match(title) for title in titles for p in patterns), key
    categories = set(Concern.objects.values_list("category", flat=True))
    assert {"access", "caseload", "clinical", "documentation", "safety"} <= categories
    modes = Counter(Concern.objects.values_list("identity_mode", flat=True))
    total = sum(modes.values())
    assert 0.5 < modes["named"] / total < 0.7
    assert 0.18 < modes["confidential"] / total < 0.32
    assert 0.08 < modes["anonymous"] / total < 0.2


def test_clinician_oakland_raised_a_confidential_and_an_anonymous_concern(db):
    oakland = Concern.objects.filter(committee__slug="ppc-oakland")
    assert oakland.filter(
        identity_mode="confidential",
        raised_by__username="clinician.oakland",
        title="Pressure to close cases early",
    ).exists()
    # An anonymous concern names nobody; the demo receipt is the raiser's only way back.
    anonymous = concern_for_receipt(DEMO_RECEIPT)
    assert isinstance(anonymous, Concern)
    assert anonymous.committee.slug == "ppc-oakland"
    assert anonymous.identity_mode == "anonymous" and anonymous.raised_by_id is None
    assert anonymous.title == "Afraid to speak up about waits"
    assert not CoSign.objects.filter(
        concern=anonymous, person__username="clinician.oakland"
    ).exists()


def test_every_clock_follows_the_clinic_calendar_with_extensions_and_pauses(db):
    calendars = {}
    today = timezone.localdate()
    changes = defaultdict(list)
    for change in ClockChange.objects.order_by("proposed_on", "id"):
        changes[change.concern_id].append(change)
    concerns = Concern.objects.select_related("committee__clinic__calendar", "committee__region")
    for concern in concerns:
        clinic = concern.committee.clinic
        if clinic.calendar_id not in calendars:
            calendars[clinic.calendar_id] = calendar_for_clinic(clinic)
        calendar = calendars[clinic.calendar_id]
        region = concern.committee.region
        clocks = clocks_for(
            concern.raised_on,
            calendar,
            region.acknowledge_within_days,
            region.respond_within_days,
        )
        assert concern.acknowledge_by == clocks.acknowledge_by, concern.pk
        respond_by = clocks.respond_by
        for change in changes[concern.pk]:
            if change.state != ClockChange.State.IN_EFFECT or change.kind == "extend":
                respond_by = extended(respond_by, change.business_days, calendar)
        assert concern.respond_by == respond_by, concern.pk
    # The calendar knows the holidays of every year the history covers.
    first = min(c.raised_on for c in concerns)
    years = set(Holiday.objects.values_list("date__year", flat=True))
    assert set(range(first.year, today.year + 1)) <= years


def test_clock_changes_carry_both_cochairs_signatures(db):
    cochairs = _cochairs()
    changes = list(ClockChange.objects.select_related("concern"))
    assert {c.kind for c in changes} == {"extend", "pause"}
    for change in changes:
        sides = cochairs[change.concern.committee_id]
        assert change.clinician_signed_by_id == sides[Side.CLINICIAN]
        assert change.management_signed_by_id == sides[Side.MANAGEMENT]
        assert change.started_on is not None
    paused = Concern.objects.filter(paused_since__isnull=False)
    assert all(c.clock_changes.filter(kind="pause", state="in_effect").exists() for c in paused)


def test_anonymous_concerns_store_no_raiser_and_have_a_receipt(db):
    k = settings.COMMONGROUND_MIN_GROUP_SIZE
    anonymous = Concern.objects.filter(identity_mode="anonymous")
    assert anonymous.exists()
    assert not anonymous.filter(raised_by__isnull=False).exists()
    assert not anonymous.exclude(raiser_side="").exists()
    assert Receipt.objects.filter(concern__in=anonymous).count() == anonymous.count()
    for committee_id in set(anonymous.values_list("committee_id", flat=True)):
        clinicians = (
            Membership.objects.current()
            .filter(committee_id=committee_id, side=Side.CLINICIAN)
            .count()
        )
        assert clinicians >= k
    confidential = Concern.objects.filter(identity_mode="confidential")
    assert set(confidential.values_list("raiser_side", flat=True)) == {Side.CLINICIAN}
    # No audit event points at any concern or person of the demo history.
    events = AuditEvent.objects.filter(object_type__startswith="concerns.")
    assert events.count() == 1
    assert events.get().actor_id is None


def test_histories_agree_with_statuses_signoffs_and_responses(db):
    today = timezone.localdate()
    cochairs = _cochairs()
    regional = Committee.objects.get(kind="regional")
    signoffs = defaultdict(list)
    for signoff in Signoff.objects.all():
        signoffs[signoff.concern_id].append(signoff)
    responses = {r.concern_id: r for r in JointResponse.objects.all()}
    for concern in Concern.objects.all():
        rows = signoffs[concern.pk]
        acks = {s.side: s for s in rows if s.step == "acknowledge"}
        answers = {s.side for s in rows if s.step == "response"}
        for signoff in rows:
            assert concern.raised_on <= signoff.signed_on <= today
            allowed = {cochairs[concern.committee_id][signoff.side]}
            if concern.escalated_to_id:
                allowed.add(cochairs[concern.escalated_to_id][signoff.side])
            assert signoff.person_id in allowed
        if concern.escalated_to_id:
            assert concern.escalated_to_id == regional.pk
        else:
            assert all(s.signed_on <= concern.acknowledge_by for s in acks.values())
        if concern.status == Status.RAISED:
            assert len(acks) < 2
        elif concern.status != Status.ESCALATED:
            assert set(acks) == {Side.CLINICIAN, Side.MANAGEMENT}, concern.status
        if concern.status in ANSWERED:
            response = responses[concern.pk]
            assert answers == {Side.CLINICIAN, Side.MANAGEMENT}
            if not response.agreed:
                assert response.clinician_reasons and response.management_reasons
        else:
            assert len(answers) < 2
    statuses = Counter(Concern.objects.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > statuses[Status.RAISED]
    assert all(statuses[s] for s in Status.values), statuses
    assert Concern.objects.filter(escalated_to=regional).count() >= 50
    # Some are overdue right now.
    overdue = Concern.objects.filter(
        status__in=[Status.RAISED, Status.ACKNOWLEDGED, Status.IN_DISCUSSION, Status.ESCALATED],
        respond_by__lt=today,
    )
    assert overdue.exists()
    assert JointResponse.objects.filter(agreed=False).exists()


def test_cosigns_come_from_seats_and_never_from_the_raiser(db):
    assert CoSign.objects.count() > 2000
    assert not CoSign.objects.filter(person_id=F("concern__raised_by_id")).exists()
    seats = defaultdict(set)
    for seat in Membership.objects.all():
        seats[(seat.committee_id, seat.person_id)].add(seat.side)
    for cosign in CoSign.objects.select_related("concern")[:3000]:
        assert cosign.side in seats[(cosign.concern.committee_id, cosign.person_id)]
        assert cosign.signed_on >= cosign.concern.raised_on


def test_threads_patterns_and_evidence(db):
    assert Comment.objects.count() >= 20
    revision = CommentRevision.objects.select_related("comment").first()
    assert revision is not None and revision.comment.version == 2
    assert revision.body != revision.comment.body
    patterns = list(CrossClinicPattern.objects.all())
    assert len(patterns) >= 3
    for pattern in patterns:
        clinics = set(pattern.concerns.values_list("committee__clinic_id", flat=True))
        assert len(clinics) >= 3
    for attachment in Attachment.objects.all():
        assert attachment.concern.identity_mode == "named"
        assert attachment.size == len(attachment.file.read()) <= 2000


def test_demo_text_holds_no_patient_identifiers(db):
    for row in Concern.objects.values_list(
        "title", "description", "patient_impact", "proposed_idea"
    ).distinct():
        assert not find_patient_identifiers("\n".join(row)), row


def test_the_audit_trail_stays_intact_and_small(db):
    report = audit_chain_verify()
    assert report.ok, report
    assert AuditEvent.objects.count() < 20
