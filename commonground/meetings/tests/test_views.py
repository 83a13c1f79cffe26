"""Meeting pages, the decisions log, "My actions" and the calendar feeds through the client:
the permission trio per view, htmx fragments, the 409 conflict page, feeds and query budgets."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.meetings import services
from commonground.meetings.models import ActionItem, Meeting, Minutes


def _url(name, *args):
    return reverse(f"meetings:{name}", args=args)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


# --- the permission trio ------------------------------------------------------------------


def test_members_read_the_meeting_page(meeting, login, carmen):
    response = login(carmen).get(meeting.get_absolute_url())
    assert response.status_code == 200
    assert b"Attendance and quorum" in response.content
    assert b"Mark present" not in response.content  # controls are for co-chairs


def test_another_clinics_meeting_is_not_found_and_audited(meeting, login, world):
    client = login(world.person("clinician_b"))
    assert client.get(meeting.get_absolute_url()).status_code == 404
    assert AuditEvent.objects.filter(action="denied", object_type="meetings.meeting").exists()


def test_members_may_not_schedule(world, login, carmen):
    response = login(carmen).post(_url("meeting-create", world.ppc_a.slug), {})
    assert response.status_code == 403


def test_a_cochair_schedules_a_meeting(world, login, diego):
    response = login(diego).post(
        _url("meeting-create", world.ppc_a.slug),
        {
            "title": "March meeting",
            "date": "2026-03-10",
            "time": "17:30",
            "duration_minutes": "90",
            "place": "",
            "video_link": "https://video.example.org/ppc",
        },
    )
    meeting = Meeting.objects.get(title="March meeting")
    assert response.status_code == 302
    assert response["Location"] == meeting.get_absolute_url()
    assert timezone.localtime(meeting.starts_at).hour == 17


def test_the_regional_admin_records_but_does_not_approve(meeting, login, ada):
    client = login(ada)
    assert client.get(_url("minutes-edit", meeting.public_id)).status_code == 200
    approve = client.post(_url("minutes-approve", meeting.public_id), {"version": 1})
    assert approve.status_code == 403


# --- htmx ---------------------------------------------------------------------------------


def test_attendance_toggles_answer_with_the_attendance_fragment(meeting, login, diego, carmen):
    response = login(diego).post(
        _url("attendance-set", meeting.public_id),
        {"person": carmen.pk, "present": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="attendance"' in body and "<html" not in body
    assert "No quorum yet" in body
    assert meeting.attendance.filter(person=carmen).exists()


def test_an_agenda_item_is_added_with_htmx(meeting, login, diego, carmen):
    response = login(diego).post(
        _url("agenda-add", meeting.public_id),
        {"title": "Intake waits", "duration_minutes": "15", "presenter": carmen.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="agenda"' in response.content.decode()
    assert "Intake waits" in response.content.decode()


def test_a_bad_agenda_item_shows_its_errors(meeting, login, diego):
    response = login(diego).post(_url("agenda-add", meeting.public_id), {"title": ""})
    assert response.status_code == 422


# --- minutes: conflict and approval -------------------------------------------------------


def test_a_stale_minutes_edit_gets_a_conflict_page_with_the_current_text(
    meeting, login, diego, omar
):
    services.minutes_save(
        actor=omar, minutes=meeting.minutes, text="Omar's version", expected_version=1
    )
    response = login(diego).post(
        _url("minutes-edit", meeting.public_id), {"text": "Diego's version", "version": 1}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "Omar&#x27;s version" in body and "Diego&#x27;s version" in body
    assert Minutes.objects.get(meeting=meeting).text == "Omar's version"


def test_both_cochairs_approve_through_the_page(meeting, login, diego, omar, carmen):
    login(diego).post(_url("minutes-approve", meeting.public_id), {"version": 1})
    page = login(omar).get(meeting.get_absolute_url()).content.decode()
    assert "Approve the minutes as management co-chair" in page
    login(omar).post(_url("minutes-approve", meeting.public_id), {"version": 1})
    minutes = Minutes.objects.get(meeting=meeting)
    assert minutes.is_approved
    page = login(carmen).get(meeting.get_absolute_url()).content.decode()
    assert "Propose amendment" in page


# --- decisions log and My actions ---------------------------------------------------------


def _decision(committee, actor, statement, **extra):
    return services.decision_record(
        actor=actor,
        committee=committee,
        statement=statement,
        decided_on=timezone.localdate(),
        **extra,
    )


def test_the_decisions_log_searches_only_visible_committees(world, login, diego, carmen):
    _decision(world.ppc_a, diego, "Adopt the intake huddle", rationale="Waits fell")
    _decision(world.ppc_a, diego, "Change the room")
    _decision(world.ppc_b, world.person("cochair_clinician_b"), "Adopt the Richmond huddle")
    client = login(carmen)
    body = client.get(_url("decision-log"), {"q": "huddle"}).content.decode()
    assert "Adopt the intake huddle" in body
    assert "Richmond" not in body and "Change the room" not in body
    by_reason = client.get(_url("decision-log"), {"q": "waits"}).content.decode()
    assert "Adopt the intake huddle" in by_reason


def test_a_small_groups_vote_split_is_not_shown(world, login, diego, carmen):
    decision = _decision(world.ppc_a, diego, "x", clinician_for=2, management_against=1)
    body = login(carmen).get(decision.get_absolute_url()).content.decode()
    assert "Not shown" in body and '<th scope="row">Clinician</th>' not in body


def _action(committee, actor, title, due_on, **owners):
    return services.action_create(
        actor=actor, committee=committee, title=title, due_on=due_on, **owners
    )


def test_my_actions_lists_mine_with_status_and_overdue_filters(world, login, diego, carmen, maria):
    today = timezone.localdate()
    _action(world.ppc_a, diego, "Late one", today - dt.timedelta(days=2), clinician_owner=carmen)
    _action(world.ppc_a, diego, "Future one", today + dt.timedelta(days=9), clinician_owner=carmen)
    done = _action(world.ppc_a, diego, "Done one", today, clinician_owner=carmen)
    services.action_update(actor=diego, action=done, status="done")
    _action(world.ppc_a, diego, "Maria's", today, management_owner=maria)
    client = login(carmen)
    body = client.get(_url("my-actions")).content.decode()
    assert "Late one" in body and "Future one" in body
    assert "Done one" not in body and "Maria&#x27;s" not in body
    overdue = client.get(_url("my-actions"), {"status": "active", "overdue": "on"}).content
    assert b"Late one" in overdue and b"Future one" not in overdue
    finished = client.get(_url("my-actions"), {"status": "done"}).content
    assert b"Done one" in finished and b"Late one" not in finished


def test_an_owner_updates_only_the_status_of_their_action(world, login, diego, carmen):
    action = _action(world.ppc_a, diego, "Mine", timezone.localdate(), clinician_owner=carmen)
    client = login(carmen)
    page = client.get(action.get_absolute_url()).content.decode()
    assert 'name="title"' not in page
    response = client.post(action.get_absolute_url(), {"status": "in_progress"})
    assert response.status_code == 302
    assert ActionItem.objects.get(pk=action.pk).status == "in_progress"


# --- calendar feeds -----------------------------------------------------------------------


def test_regenerating_shows_the_links_once_and_kills_the_old_ones(world, login, carmen, client):
    signed_in = login(carmen)
    signed_in.post(_url("calendar-regenerate"))
    page = signed_in.get(_url("calendar")).content.decode()
    assert "/mine.ics" in page and "shown only once" in page
    again = signed_in.get(_url("calendar")).content.decode()
    assert "/mine.ics" not in again
    token = services.calendar_token_regenerate(actor=carmen)  # as a second press would
    old = page.split("/calendar/")[1].split("/")[0]
    assert client.get(_url("feed-person", old)).status_code == 404
    assert client.get(_url("feed-person", token)).status_code == 200


def test_the_person_feed_holds_their_meetings_and_due_actions_without_a_session(
    meeting, world, diego, carmen, client
):
    _action(
        world.ppc_a, diego, "Write; the, checklist", timezone.localdate(), clinician_owner=carmen
    )
    other = services.meeting_schedule(
        actor=world.person("cochair_clinician_b"),
        committee=world.ppc_b,
        title="Richmond meeting",
        starts_at=timezone.now(),
        duration_minutes=60,
        place="Richmond",
    )
    token = services.calendar_token_regenerate(actor=carmen)
    response = client.get(_url("feed-person", token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.content.decode()
    assert f"UID:meeting-{meeting.public_id}@commonground\r\n" in text
    assert f"meeting-{other.public_id}" not in text
    assert "SUMMARY:Due: Write\\; the\\, checklist\r\n" in text


def test_a_committee_feed_is_refused_for_a_committee_the_owner_cannot_see(world, carmen, client):
    token = services.calendar_token_regenerate(actor=carmen)
    assert client.get(_url("feed-committee", token, world.ppc_a.slug)).status_code == 200
    assert client.get(_url("feed-committee", token, world.ppc_b.slug)).status_code == 404
    assert client.get(_url("feed-committee", "not-a-token", world.ppc_a.slug)).status_code == 404


# --- query budgets ------------------------------------------------------------------------


def _grow_meeting(meeting, diego, people, n):
    today = timezone.localdate()
    for i in range(n):
        services.agenda_item_add(
            actor=diego,
            meeting=meeting,
            title=f"Item {i}",
            duration_minutes=5,
            presenter=people[i % len(people)],
        )
        decision = services.decision_record(
            actor=diego,
            committee=meeting.committee,
            meeting=meeting,
            statement=f"Decision {i}",
            decided_on=today,
        )
        services.action_create(
            actor=diego,
            committee=meeting.committee,
            title=f"Action {i}",
            due_on=today - dt.timedelta(days=1),
            clinician_owner=people[0],
            management_owner=people[1],
            decision=decision,
            meeting=meeting,
        )


def test_meeting_page_queries_do_not_grow_with_its_content(meeting, login, diego, carmen, maria):
    client = login(diego)
    url = meeting.get_absolute_url()
    client.get(url)
    small = _count(client, url)
    _grow_meeting(meeting, diego, [carmen, maria], 6)
    for person in (carmen, maria, diego):
        services.attendance_set(actor=diego, meeting=meeting, person=person, present=True)
    assert _count(client, url) == small


def test_decision_log_queries_do_not_grow(world, login, diego, carmen):
    client = login(carmen)
    url = _url("decision-log")
    _decision(world.ppc_a, diego, "First")
    client.get(url)
    small = _count(client, url)
    meeting = services.meeting_schedule(
        actor=diego,
        committee=world.ppc_a,
        title="m",
        starts_at=timezone.now(),
        duration_minutes=60,
        place="Room",
    )
    for i in range(8):
        _decision(world.ppc_a, diego, f"Decision {i}", meeting=meeting)
    assert _count(client, url) == small


def test_my_actions_queries_do_not_grow(world, login, diego, carmen, maria):
    client = login(carmen)
    url = _url("my-actions")
    today = timezone.localdate()
    _action(world.ppc_a, diego, "First", today, clinician_owner=carmen)
    client.get(url)
    small = _count(client, url)
    decision = _decision(world.ppc_a, diego, "d")
    for i in range(8):
        services.action_create(
            actor=diego,
            committee=world.ppc_a,
            title=f"Action {i}",
            due_on=today,
            clinician_owner=carmen,
            management_owner=maria,
            decision=decision,
        )
    assert _count(client, url) == small


def test_meeting_list_queries_do_not_grow(world, login, diego, carmen):
    def schedule(i):
        meeting = services.meeting_schedule(
            actor=diego,
            committee=world.ppc_a,
            title=f"Meeting {i}",
            starts_at=timezone.now() + dt.timedelta(days=i),
            duration_minutes=60,
            place="Room",
        )
        services.attendance_set(actor=diego, meeting=meeting, person=carmen, present=True)

    schedule(0)
    client = login(diego)
    url = _url("meeting-list", world.ppc_a.slug)
    client.get(url)
    small = _count(client, url)
    for i in range(1, 7):
        schedule(i)
    assert _count(client, url) == small
