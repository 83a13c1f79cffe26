"""The summit: who sees and organises it, registration with a waiting list, live Q&A whose
anonymous questions keep no author, race-safe upvotes, a projector with no personal data,
a results report that never notifies twice, and flat query counts."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.deliberation import services as deliberation
from commonground.deliberation.models import Conversation, Participant, Statement, Vote
from commonground.notifications.models import Notification
from commonground.organizations.models import Role, Side
from commonground.summit import services
from commonground.summit.models import Question, QuestionVote, Registration, Session, Summit
from tests.factories import MembershipFactory, UserFactory

TZ = dt.timezone(dt.timedelta(hours=-8))


@pytest.fixture
def summit(world):
    return Summit.objects.create(
        region=world.region,
        committee=world.summit,
        title="Summit 2026",
        starts_on=dt.date(2026, 12, 3),
        ends_on=dt.date(2026, 12, 3),
        venue="Oakland",
        state=Summit.State.OPEN,
    )


@pytest.fixture
def farah(world):
    return world.person("regional_cochair_clinician")


def _session(summit, title="Opening plenary", hour=9, conversation=None):
    return Session.objects.create(
        summit=summit,
        title=title,
        kind=Session.Kind.PLENARY,
        starts_at=dt.datetime(2026, 12, 3, hour, tzinfo=TZ),
        ends_at=dt.datetime(2026, 12, 3, hour + 1, tzinfo=TZ),
        conversation=conversation,
    )


def _seated(world, count, side, prefix, committee=None):
    people = []
    for index in range(count):
        person = UserFactory(username=f"{prefix}-{index}", first_name=f"Zed{prefix}{index}")
        MembershipFactory(
            person=person, committee=committee or world.ppc_a, side=side, role=Role.MEMBER
        )
        people.append(person)
    return people


# --- seeing and organising ----------------------------------------------------------------


def test_region_members_see_the_summit_and_people_without_a_seat_get_404(world, summit, login):
    assert login(world.person("clinician_b")).get(summit.get_absolute_url()).status_code == 200
    assert login(world.person("no_seat")).get(summit.get_absolute_url()).status_code == 404


def test_only_summit_cochairs_and_regional_admins_edit_the_program(world, summit, client, farah):
    url = reverse("summit:session-create", args=[summit.pk])
    client.force_login(world.person("cochair_clinician_a"))
    assert client.get(url).status_code == 403
    client.force_login(farah)
    assert client.get(url).status_code == 200
    client.force_login(world.person("regional_admin"))
    response = client.post(
        url,
        {
            "title": "Caseloads",
            "kind": "breakout",
            "starts_at": "2026-12-03T11:00",
            "ends_at": "2026-12-03T12:00",
            "questions_open": "on",
        },
    )
    assert response.status_code == 302
    assert Session.objects.get(summit=summit).title == "Caseloads"


def test_a_session_cannot_link_another_committees_conversation(world, summit, farah):
    other = Conversation.objects.create(committee=world.ppc_a, topic="Oakland only")
    with pytest.raises(Exception, match="summit committee"):
        services.session_save(
            actor=farah,
            summit=summit,
            title="Plenary",
            kind="plenary",
            starts_at=dt.datetime(2026, 12, 3, 9, tzinfo=TZ),
            ends_at=dt.datetime(2026, 12, 3, 10, tzinfo=TZ),
            conversation=other,
        )


# --- registration -------------------------------------------------------------------------


def test_registration_confirms_until_full_then_waitlists_and_promotes_in_order(world, summit):
    summit.capacity = 1
    summit.save()
    carmen, kenji, maria = (world.person(k) for k in ("clinician_a", "clinician_b", "manager_a"))
    assert services.register(actor=carmen, summit=summit).status == "confirmed"
    assert services.register(actor=kenji, summit=summit).status == "waitlisted"
    assert services.register(actor=maria, summit=summit).status == "waitlisted"
    services.unregister(actor=carmen, summit=summit)
    statuses = dict(Registration.objects.values_list("person__username", "status"))
    assert statuses == {
        carmen.username: "cancelled",
        kenji.username: "confirmed",
        maria.username: "waitlisted",
    }


def test_registering_twice_keeps_one_place(world, summit, login):
    client = login(world.person("clinician_a"))
    url = reverse("summit:registration", args=[summit.pk])
    assert client.post(url, {"action": "register"}).status_code == 302
    assert client.post(url, {"action": "register"}).status_code == 302
    assert Registration.objects.filter(summit=summit).count() == 1
    page = client.get(url)
    assert b"Your place is confirmed" in page.content


def test_registration_is_refused_when_it_is_closed(world, summit):
    summit.state = Summit.State.CLOSED
    summit.save()
    with pytest.raises(Exception, match="not open"):
        services.register(actor=world.person("clinician_a"), summit=summit)


# --- live Q&A -----------------------------------------------------------------------------


def test_an_anonymous_question_keeps_no_author_and_organisers_cannot_see_who(
    world, summit, client, farah
):
    session = _session(summit)
    carmen = world.person("clinician_a")
    services.register(actor=carmen, summit=summit)
    client.force_login(carmen)
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("summit:question-ask", args=[summit.pk, session.pk]),
        {"text": "Who pays for the pilots?", "anonymous": "on"},
    )
    assert response.status_code == 302
    question = Question.objects.get()
    assert question.author_id is None
    new_events = AuditEvent.objects.order_by("id")[before:]
    assert not [e for e in new_events if e.object_type == "summit.question"]
    assert all(e.actor_id != carmen.pk for e in new_events if e.action == "create")
    client.force_login(farah)
    page = client.get(session.get_absolute_url()).content.decode()
    assert "Who pays for the pilots?" in page
    assert "Asked anonymously" in page
    assert "Carmen" not in page and "Reyes" not in page


def test_a_question_with_patient_details_is_refused(world, summit):
    session = _session(summit)
    with pytest.raises(Exception, match="patient information"):
        services.question_ask(
            actor=world.person("clinician_a"),
            session=session,
            text="Patient MRN 12345678 waited six weeks",
            anonymous=False,
        )


def test_only_organisers_moderate_and_approved_questions_show_most_upvoted_first(
    world, summit, client, farah
):
    session = _session(summit)
    carmen = world.person("clinician_a")
    first = services.question_ask(actor=carmen, session=session, text="First?", anonymous=False)
    second = services.question_ask(actor=carmen, session=session, text="Second?", anonymous=True)
    client.force_login(carmen)
    url = reverse("summit:question-moderate", args=[summit.pk, first.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 403
    first, second = (
        services.question_moderate(actor=farah, question=question, decision="approve")
        for question in (first, second)
    )
    services.question_upvote(actor=world.person("manager_a"), question=second)
    services.register(actor=carmen, summit=summit)
    page = client.get(session.get_absolute_url()).content.decode()
    assert page.index("Second?") < page.index("First?")


def test_an_upvote_counts_once_even_when_two_clicks_race(world, summit, farah):
    session = _session(summit)
    question = services.question_ask(
        actor=farah, session=session, text="How is this funded?", anonymous=False
    )
    question = services.question_moderate(actor=farah, question=question, decision="approve")
    carmen = world.person("clinician_a")
    assert services.question_upvote(actor=carmen, question=question) is True
    # The second click arrives after the first row exists: the constraint answers, no error.
    assert services.question_upvote(actor=carmen, question=question) is False
    assert QuestionVote.objects.filter(question=question).count() == 1


def test_only_attendees_ask_questions(world, summit, client):
    session = _session(summit)
    url = reverse("summit:question-ask", args=[summit.pk, session.pk])
    client.force_login(world.person("clinician_a"))
    assert client.post(url, {"text": "Hello?"}).status_code == 403
    services.register(actor=world.person("clinician_a"), summit=summit)
    assert client.post(url, {"text": "Hello?"}).status_code == 302


def test_the_question_poll_answers_204_while_nothing_changed(world, summit, client, farah):
    session = _session(summit)
    client.force_login(farah)
    first = client.get(session.get_absolute_url(), headers={"HX-Request": "true"})
    assert first.status_code == 200
    version = first.content.decode().split("?v=")[1].split('"')[0]
    again = client.get(session.get_absolute_url() + f"?v={version}", headers={"HX-Request": "true"})
    assert again.status_code == 204
    services.question_ask(actor=farah, session=session, text="New?", anonymous=False)
    changed = client.get(
        session.get_absolute_url() + f"?v={version}", headers={"HX-Request": "true"}
    )
    assert changed.status_code == 200 and "New?" in changed.content.decode()


# --- projector and report -----------------------------------------------------------------


def _summit_conversation(world, farah, voters_per_side=6):
    """A region-wide conversation of the summit committee: clinicians at Oakland agree with
    everything, managers at Richmond agree with the first two statements only."""
    conversation = deliberation.conversation_start(
        actor=farah,
        committee=world.summit,
        topic="What should the region work on?",
        open_to_region=True,
        seed_statements=[f"Statement number {i} about follow-up waits" for i in range(8)],
    )
    clinicians = _seated(world, voters_per_side, Side.CLINICIAN, "clin", world.ppc_a)
    managers = _seated(world, voters_per_side, Side.MANAGEMENT, "mgr", world.ppc_b)
    statements = list(Statement.objects.filter(conversation=conversation).order_by("number"))
    participants = Participant.objects.bulk_create(
        Participant(conversation=conversation, user=person, number=i, side=side)
        for i, (person, side) in enumerate(
            [(p, Side.CLINICIAN) for p in clinicians] + [(p, Side.MANAGEMENT) for p in managers]
        )
    )
    rng = random.Random(1)
    Vote.objects.bulk_create(
        Vote(
            conversation=conversation,
            statement=statement,
            participant=participant,
            value=1
            if (participant.side == Side.CLINICIAN or statement.number < 2)
            else (-1 if rng.random() < 0.9 else 0),
        )
        for participant in participants
        for statement in statements
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        revision=1, participant_count=len(participants)
    )
    deliberation.conversation_recompute(conversation_id=conversation.pk)
    conversation.refresh_from_db()
    return conversation, clinicians + managers


def test_the_projector_shows_results_and_no_personal_data(world, summit, client, farah):
    conversation, voters = _summit_conversation(world, farah)
    url = reverse("summit:projector", args=[summit.pk, conversation.public_id])
    client.force_login(world.person("clinician_a"))
    assert client.get(url).status_code == 403  # a region member without a summit seat
    client.force_login(farah)
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "12</strong> voters" in page
    assert "Common ground across sides" in page
    for person in [*voters, farah]:
        assert person.username not in page
        assert person.first_name not in page
    assert '"you": true' not in page
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode()
    version = fragment.content.decode().split("?v=")[1].split('"')[0]
    assert client.get(url + f"?v={version}", headers={"HX-Request": "true"}).status_code == 204


def test_a_conversation_of_another_committee_is_not_on_the_projector(world, summit, client, farah):
    other = Conversation.objects.create(committee=world.ppc_a, topic="Oakland only")
    client.force_login(farah)
    url = reverse("summit:projector", args=[summit.pk, other.public_id])
    assert client.get(url).status_code == 404


def test_sending_results_twice_notifies_each_cochair_once_and_hides_small_clinics(
    world, summit, client, farah
):
    conversation, _voters = _summit_conversation(world, farah, voters_per_side=6)
    send = reverse("summit:report-send", args=[summit.pk, conversation.public_id])
    client.force_login(farah)
    client.post(send)
    assert Notification.objects.count() == 0  # still open: nothing is sent
    deliberation.conversation_set_state(actor=farah, conversation=conversation, state="closed")
    client.post(send)
    client.post(send)
    recipients = sorted(Notification.objects.values_list("recipient__username", flat=True))
    cochairs = sorted(
        world.person(k).username
        for k in (
            "cochair_clinician_a",
            "cochair_manager_a",
            "cochair_clinician_b",
            "cochair_manager_b",
        )
    )
    assert recipients == cochairs
    report = client.get(reverse("summit:report", args=[summit.pk, conversation.public_id]))
    page = report.content.decode()
    assert "Oakland Mental Health</th><td>6</td>" in page
    # Richmond's six managers are shown; a clinic with no voters says "fewer than".
    assert "Richmond Behavioral Health</th><td>6</td>" in page
    client.force_login(world.person("cochair_clinician_a"))
    assert client.get(Notification.objects.first().link).status_code == 200


def test_a_clinic_under_k_voters_shows_no_figure(world, summit, farah):
    from commonground.summit.selectors import clinic_participation

    conversation, _voters = _summit_conversation(world, farah, voters_per_side=3)
    lines, _unplaced = clinic_participation(conversation)
    assert {line.clinic: line.participants for line in lines} == {
        "Oakland Mental Health": None,
        "Richmond Behavioral Health": None,
    }


# --- query counts -------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_program_and_qa_pages_make_the_same_number_of_queries_at_any_size(
    world, summit, client, farah
):
    client.force_login(farah)
    session = _session(summit)
    conversation = Conversation.objects.create(
        committee=world.summit, topic="Live", open_to_region=True
    )

    def grow(n):
        start = Session.objects.count()
        for i in range(n):
            _session(summit, f"Breakout {start + i}", hour=10 + (i % 5), conversation=conversation)
        for i in range(n):
            q = Question.objects.create(
                session=session,
                text=f"Question {start}-{i}?",
                author=farah if i % 2 else None,
                status="approved",
            )
            QuestionVote.objects.create(question=q, person=farah)

    grow(2)
    small = (_count(client, summit.get_absolute_url()), _count(client, session.get_absolute_url()))
    grow(12)
    large = (_count(client, summit.get_absolute_url()), _count(client, session.get_absolute_url()))
    assert small == large


def test_the_demo_summit_loads_with_results_and_predictable_logins(db):
    from commonground.organizations.demo import load_demo_region
    from commonground.summit.demo import LIVE_TOPIC, load_demo_summit

    load_demo_region()
    started = timezone.now()
    result = load_demo_summit()
    assert result["summits"] == 1
    assert (timezone.now() - started).total_seconds() < 20
    finished = Conversation.objects.exclude(topic=LIVE_TOPIC).get(committee__slug="summit")
    snapshot = finished.snapshot
    assert snapshot.participant_count >= 240
    assert snapshot.result["k"] >= 2 and snapshot.result["bridges"]
    assert Registration.objects.filter(status="confirmed").count() == 200
    from django.contrib.auth import get_user_model

    names = set(
        get_user_model()
        .objects.filter(username__startswith="summit-")
        .values_list("username", flat=True)
    )
    assert names == {f"summit-{i:02d}" for i in range(1, 21)}
    assert load_demo_summit() == {"summits": 0}
