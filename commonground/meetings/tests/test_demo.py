"""The demo's two years of meetings: monthly at every committee, with what a meeting leaves.

Loaded once for the module inside a transaction that is rolled back at the end.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from commonground.audit.selectors import audit_chain_verify
from commonground.meetings import selectors
from commonground.meetings.models import ActionItem, AgendaItem, Decision, Meeting, Minutes
from commonground.meetings.quorum import QuorumRule, check_quorum
from commonground.organizations.models import Committee, Membership, Role


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    from commonground.demo import load_demo

    with django_db_blocker.unblock(), transaction.atomic():
        result = load_demo()
        yield result
        transaction.set_rollback(True)


pytestmark = pytest.mark.usefixtures("demo")


def test_monthly_meetings_at_every_committee_for_two_years(db, demo):
    assert demo["meetings"] == Meeting.objects.count() >= 600
    per_committee = Counter(Meeting.objects.values_list("committee__kind", "committee__slug"))
    committees = Committee.objects.exclude(kind="summit")
    assert len(per_committee) == committees.count() == 27
    assert min(per_committee.values()) >= 23
    starts = sorted(Meeting.objects.values_list("starts_at", flat=True))
    assert (starts[-1] - starts[0]).days >= 700
    now = timezone.now()
    for committee in committees:
        assert Meeting.objects.filter(committee=committee, starts_at__gt=now).exists()
    # Every meeting has its minutes: approved for the past, a draft for the next one.
    assert not Meeting.objects.filter(minutes__isnull=True).exists()


def test_past_minutes_are_approved_by_both_cochairs(db):
    now = timezone.now()
    cochairs = {
        (seat.committee_id, seat.side): seat.person_id
        for seat in Membership.objects.current().filter(role=Role.CO_CHAIR)
    }
    settled = Minutes.objects.filter(
        meeting__starts_at__lt=now - dt.timedelta(days=20)
    ).select_related("meeting")
    assert settled.count() >= 600
    for minutes in settled:
        committee_id = minutes.meeting.committee_id
        assert minutes.is_approved
        assert minutes.clinician_approved_by_id == cochairs[(committee_id, "clinician")]
        assert minutes.management_approved_by_id == cochairs[(committee_id, "management")]
        assert minutes.meeting.starts_at < minutes.approved_at <= now
        assert minutes.amendments_close_at > minutes.approved_at
    upcoming = Minutes.objects.filter(meeting__starts_at__gt=now)
    assert not upcoming.filter(approved_at__isnull=False).exists()


def test_quorum_is_met_at_most_meetings_and_missed_at_a_few(db):
    past = Meeting.objects.filter(starts_at__lt=timezone.now()).prefetch_related("attendance")
    met = Counter(
        check_quorum(QuorumRule(), [(a.side, a.is_cochair) for a in m.attendance.all()]).met
        for m in past
    )
    assert met[False] >= 3
    assert met[True] / (met[True] + met[False]) >= 0.9
    # Decisions are taken only with a quorum.
    assert not Decision.objects.filter(without_quorum=True).exists()


def test_agendas_take_up_concerns_and_decisions_lead_to_actions(db):
    assert AgendaItem.objects.filter(concern__isnull=False).count() >= 1000
    regional = Committee.objects.get(kind="regional")
    escalated = AgendaItem.objects.filter(meeting__committee=regional, concern__isnull=False)
    assert escalated.exists()
    assert all(item.concern.escalated_to_id == regional.pk for item in escalated)
    assert Decision.objects.count() >= 500
    assert Decision.objects.filter(review_on__isnull=False).exists()
    assert Decision.objects.filter(review_on__isnull=True).exists()
    today = timezone.localdate()
    statuses = Counter(ActionItem.objects.values_list("status", flat=True))
    assert set(statuses) == set(ActionItem.Status.values)
    old = ActionItem.objects.filter(due_on__lt=today - dt.timedelta(days=60))
    assert old.filter(status="done").count() / old.count() > 0.8
    assert ActionItem.objects.filter(status__in=["open", "in_progress"], due_on__lt=today).exists()
    assert not ActionItem.objects.filter(status="done", due_on__gt=today + dt.timedelta(days=60))


def test_oakland_people_have_open_actions_one_of_them_overdue(db):
    users = get_user_model().objects
    today = timezone.localdate()
    for username in ("clinician.oakland", "cochair-clinician.oakland", "cochair-manager.oakland"):
        mine = selectors.my_actions(users.get(username=username))
        assert mine.exists(), username
    overdue = selectors.my_actions(users.get(username="clinician.oakland"), overdue=True)
    assert overdue.filter(due_on__lt=today).exists()


def test_audit_trail_intact(db):
    assert audit_chain_verify().ok
