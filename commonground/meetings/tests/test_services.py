"""Meetings through their services: scheduling, attendance and quorum, dual approval of the
minutes, the amendment window, optimistic locking, decisions, action items and feed tokens."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.meetings import selectors, services
from commonground.meetings.models import Amendment, CalendarToken, Decision, Minutes


def _approve(person, meeting):
    minutes = Minutes.objects.get(meeting=meeting)
    return services.minutes_approve(actor=person, minutes=minutes, expected_version=minutes.version)


def test_scheduling_starts_done_not_said_minutes_and_is_audited(meeting, world):
    assert "Motions and decisions" in meeting.minutes.text
    assert meeting.minutes.version == 1
    event = AuditEvent.objects.get(object_type="meetings.meeting", action="create")
    assert event.clinic_id == world.clinic_a.pk


def test_a_meeting_needs_a_place_or_a_video_link(world, diego):
    with pytest.raises(ValidationError, match="place or a video link"):
        services.meeting_schedule(
            actor=diego,
            committee=world.ppc_a,
            title="x",
            starts_at=timezone.now(),
            duration_minutes=60,
        )


def test_changing_a_meeting_bumps_its_calendar_sequence(meeting, diego):
    services.meeting_update(actor=diego, meeting=meeting, place="Room 5")
    services.meeting_update(actor=diego, meeting=meeting, place="Room 5")  # no change
    meeting.refresh_from_db()
    assert meeting.sequence == 1


def test_attendance_records_side_and_cochair_and_drives_quorum(meeting, diego, carmen, omar, maria):
    assert selectors.meeting_quorum(meeting).met is False
    for person in (carmen, maria):
        services.attendance_set(actor=diego, meeting=meeting, person=person, present=True)
    services.attendance_set(actor=diego, meeting=meeting, person=omar, present=True)
    result = selectors.meeting_quorum(meeting)
    assert (result.clinicians, result.management, result.cochairs) == (1, 2, 1)
    assert result.met is False
    services.attendance_set(actor=diego, meeting=meeting, person=diego, present=True)
    assert selectors.meeting_quorum(meeting).met is True


def test_only_people_seated_on_the_committee_attend(meeting, diego, world):
    with pytest.raises(ValidationError, match="seat on the committee"):
        services.attendance_set(
            actor=diego, meeting=meeting, person=world.person("clinician_b"), present=True
        )


def test_a_decision_without_quorum_is_flagged_and_follows_attendance(meeting, diego, carmen):
    decision = services.decision_record(
        actor=diego,
        committee=meeting.committee,
        meeting=meeting,
        statement="Weekly intake huddle",
        decided_on=timezone.localdate(),
    )
    assert decision.without_quorum is True
    for person in (diego, carmen):
        services.attendance_set(actor=diego, meeting=meeting, person=person, present=True)
    decision.refresh_from_db()
    assert decision.without_quorum is True


def test_a_decision_at_a_quorate_meeting_is_not_flagged(quorate, diego):
    decision = services.decision_record(
        actor=diego,
        committee=quorate.committee,
        meeting=quorate,
        statement="Weekly intake huddle",
        decided_on=timezone.localdate(),
    )
    assert decision.without_quorum is False


def test_a_committee_can_relax_its_quorum_rule(meeting, diego, omar, carmen):
    for person in (omar, carmen):
        services.attendance_set(actor=diego, meeting=meeting, person=person, present=True)
    decision = services.decision_record(
        actor=diego,
        committee=meeting.committee,
        meeting=meeting,
        statement="x",
        decided_on=timezone.localdate(),
    )
    assert decision.without_quorum is True
    services.meeting_settings_set(
        actor=diego, committee=meeting.committee, quorum_clinicians=1, quorum_management=1
    )
    decision.refresh_from_db()
    assert decision.without_quorum is False


def test_the_vote_split_shows_only_when_each_side_is_a_large_enough_group(world, diego, settings):
    settings.COMMONGROUND_MIN_GROUP_SIZE = 5
    small = services.decision_record(
        actor=diego,
        committee=world.ppc_a,
        statement="x",
        decided_on=timezone.localdate(),
        clinician_for=6,
        management_for=3,
        management_against=1,
    )
    assert small.shows_vote_split is False
    big = services.decision_record(
        actor=diego,
        committee=world.ppc_a,
        statement="y",
        decided_on=timezone.localdate(),
        clinician_for=4,
        clinician_abstain=1,
        management_for=3,
        management_against=2,
    )
    assert big.shows_vote_split is True


def test_a_review_date_comes_after_the_decision(world, diego):
    with pytest.raises(ValidationError):
        services.decision_record(
            actor=diego,
            committee=world.ppc_a,
            statement="x",
            decided_on=dt.date(2026, 5, 1),
            review_on=dt.date(2026, 4, 1),
        )


# --- dual approval ------------------------------------------------------------------------


def test_minutes_need_both_cochairs_each_once(meeting, diego, omar):
    minutes = _approve(diego, meeting)
    assert minutes.is_approved is False
    assert minutes.state() == "draft"
    with pytest.raises(ValidationError, match="clinician co-chair has already approved"):
        _approve(diego, meeting)
    minutes = _approve(omar, meeting)
    assert minutes.is_approved is True
    assert minutes.amendments_close_at == minutes.approved_at + dt.timedelta(days=5)
    assert minutes.state() == "amendment window"


@pytest.mark.parametrize("persona", ["carmen", "maria", "ruth", "ada"])
def test_members_observers_and_regional_admins_do_not_approve(meeting, persona, request):
    with pytest.raises(ValidationError, match="Only the committee's co-chairs"):
        _approve(request.getfixturevalue(persona), meeting)


def test_a_cochair_of_another_clinic_does_not_approve(meeting, world):
    with pytest.raises(ValidationError, match="Only the committee's co-chairs"):
        _approve(world.person("cochair_manager_b"), meeting)


def test_editing_after_one_approval_clears_it(meeting, diego, omar):
    minutes = _approve(diego, meeting)
    minutes = services.minutes_save(
        actor=omar, minutes=minutes, text="Changed.", expected_version=minutes.version
    )
    assert minutes.clinician_approved_by is None
    assert minutes.version == 2
    assert _approve(omar, meeting).is_approved is False


def test_approval_names_the_version_read(meeting, diego, omar):
    minutes = meeting.minutes
    services.minutes_save(actor=omar, minutes=minutes, text="New text", expected_version=1)
    with pytest.raises(services.StaleMinutes):
        services.minutes_approve(actor=diego, minutes=minutes, expected_version=1)


def test_a_stale_edit_is_refused_not_silently_overwritten(meeting, diego, omar):
    minutes = meeting.minutes
    services.minutes_save(actor=diego, minutes=minutes, text="Diego's text", expected_version=1)
    with pytest.raises(services.StaleMinutes) as stale:
        services.minutes_save(actor=omar, minutes=minutes, text="Omar's text", expected_version=1)
    assert stale.value.current.text == "Diego's text"
    assert Minutes.objects.get(pk=minutes.pk).text == "Diego's text"


def test_approved_minutes_are_not_edited(meeting, diego, omar):
    _approve(diego, meeting)
    minutes = _approve(omar, meeting)
    with pytest.raises(ValidationError, match="propose an amendment"):
        services.minutes_save(actor=diego, minutes=minutes, text="x", expected_version=1)


# --- amendment window ---------------------------------------------------------------------


def test_amendments_open_only_after_both_approve(meeting, carmen):
    with pytest.raises(ValidationError, match="Amendments open once"):
        services.amendment_propose(actor=carmen, minutes=meeting.minutes, text="Fix")


def test_the_amendment_window_closes_and_locks_the_minutes(meeting, diego, omar, carmen):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _approve(diego, meeting)
        minutes = _approve(omar, meeting)
        proposed = services.amendment_propose(actor=carmen, minutes=minutes, text="Add Maria")
    with time_machine.travel(start + dt.timedelta(days=4, hours=23), tick=False):
        services.amendment_decide(actor=omar, amendment=proposed, accept=True)
        late = services.amendment_propose(actor=carmen, minutes=minutes, text="One more")
    with time_machine.travel(start + dt.timedelta(days=5), tick=False):
        minutes.refresh_from_db()
        assert minutes.is_locked() is True
        assert minutes.state() == "locked"
        with pytest.raises(ValidationError, match="locked"):
            services.amendment_propose(actor=carmen, minutes=minutes, text="Too late")
        with pytest.raises(ValidationError, match="locked"):
            services.amendment_decide(actor=diego, amendment=late, accept=False)
    assert Amendment.objects.get(pk=proposed.pk).status == "accepted"


def test_the_window_length_is_the_committees_setting(meeting, diego, omar):
    services.meeting_settings_set(actor=diego, committee=meeting.committee, amendment_window_days=2)
    _approve(diego, meeting)
    minutes = _approve(omar, meeting)
    assert minutes.amendments_close_at - minutes.approved_at == dt.timedelta(days=2)


def test_only_cochairs_decide_amendments_and_only_once(meeting, diego, omar, carmen, ada):
    _approve(diego, meeting)
    minutes = _approve(omar, meeting)
    amendment = services.amendment_propose(actor=carmen, minutes=minutes, text="Fix")
    with pytest.raises(ValidationError, match="co-chairs"):
        services.amendment_decide(actor=ada, amendment=amendment, accept=True)
    services.amendment_decide(actor=diego, amendment=amendment, accept=False)
    with pytest.raises(ValidationError, match="already been decided"):
        services.amendment_decide(actor=omar, amendment=amendment, accept=True)


# --- agenda and actions -------------------------------------------------------------------


def test_agenda_items_are_numbered_in_order(meeting, diego, carmen):
    first = services.agenda_item_add(
        actor=diego, meeting=meeting, title="Open actions", duration_minutes=10
    )
    second = services.agenda_item_add(
        actor=diego, meeting=meeting, title="Intake", duration_minutes=20, presenter=carmen
    )
    assert (first.position, second.position) == (1, 2)
    services.agenda_item_remove(actor=diego, item=first)
    third = services.agenda_item_add(actor=diego, meeting=meeting, title="AOB", duration_minutes=5)
    assert third.position == 3


def test_agenda_presenters_hold_a_seat(meeting, diego, world):
    with pytest.raises(ValidationError, match="presenter"):
        services.agenda_item_add(
            actor=diego,
            meeting=meeting,
            title="x",
            duration_minutes=5,
            presenter=world.person("clinician_b"),
        )


def test_an_action_has_one_owner_per_side_seated_on_that_side(world, diego, carmen, maria):
    with pytest.raises(ValidationError, match="at least one side"):
        services.action_create(
            actor=diego, committee=world.ppc_a, title="x", due_on=timezone.localdate()
        )
    with pytest.raises(ValidationError, match="clinician owner"):
        services.action_create(
            actor=diego,
            committee=world.ppc_a,
            title="x",
            due_on=timezone.localdate(),
            clinician_owner=maria,
        )
    action = services.action_create(
        actor=diego,
        committee=world.ppc_a,
        title="Checklist",
        due_on=timezone.localdate(),
        clinician_owner=carmen,
        management_owner=maria,
    )
    assert action.status == "open"


def test_an_action_links_only_this_committees_decision(world, diego, carmen):
    other = Decision.objects.create(
        committee=world.ppc_b,
        statement="x",
        decided_on=timezone.localdate(),
        recorded_by=world.person("cochair_clinician_b"),
    )
    with pytest.raises(ValidationError, match="decision of this committee"):
        services.action_create(
            actor=diego,
            committee=world.ppc_a,
            title="x",
            due_on=timezone.localdate(),
            clinician_owner=carmen,
            decision=other,
        )


def test_due_actions_are_suggested_for_the_agenda_until_added(meeting, diego, carmen):
    due = services.action_create(
        actor=diego,
        committee=meeting.committee,
        title="Checklist",
        due_on=timezone.localdate() - dt.timedelta(days=3),
        clinician_owner=carmen,
    )
    services.action_create(
        actor=diego,
        committee=meeting.committee,
        title="Later",
        due_on=timezone.localdate() + dt.timedelta(days=30),
        clinician_owner=carmen,
    )
    suggestions = selectors.agenda_suggestions(meeting, [])
    assert [(s.kind, s.title) for s in suggestions] == [("action", "Review action: Checklist")]
    assert suggestions[0].reason.startswith("overdue since")
    item = services.agenda_item_add(
        actor=diego, meeting=meeting, title="Checklist", duration_minutes=5, action_item=due
    )
    assert selectors.agenda_suggestions(meeting, [item]) == []


def test_concerns_needing_attention_are_suggested(meeting, monkeypatch):
    from types import SimpleNamespace

    from commonground.concerns import selectors as concern_selectors

    concern = SimpleNamespace(title="Waitlist", pk="c1", get_absolute_url=lambda: "/c/c1/")
    seen = {}

    def fake(committee, on):
        seen["args"] = (committee, on)
        return [SimpleNamespace(concern=concern, reason="joint response overdue since Mar 2")]

    monkeypatch.setattr(concern_selectors, "concerns_needing_attention", fake)
    suggestions = selectors.agenda_suggestions(meeting, [])
    assert seen["args"] == (meeting.committee, timezone.localtime(meeting.starts_at).date())
    assert [(s.kind, s.title, s.reason, s.url) for s in suggestions] == [
        ("concern", "Waitlist", "joint response overdue since Mar 2", "/c/c1/")
    ]


# --- calendar tokens ----------------------------------------------------------------------


def test_a_new_token_replaces_the_old_and_only_its_hash_is_stored(carmen):
    first = services.calendar_token_regenerate(actor=carmen)
    second = services.calendar_token_regenerate(actor=carmen)
    row = CalendarToken.objects.get(person=carmen)
    assert row.token_hash == selectors.hash_token(second)
    assert second not in row.token_hash and first != second
    assert selectors.person_for_token(second) == carmen
    with pytest.raises(Http404):
        selectors.person_for_token(first)
    events = AuditEvent.objects.filter(object_type="meetings.calendartoken")
    assert [e.action for e in events.order_by("id")] == ["create", "update"]
