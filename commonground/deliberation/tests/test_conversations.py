"""Common-ground conversations: a fast one-statement-at-a-time voting flow that survives
double submits, a debounced background recompute that is safe to run twice, results that
never show a group or side under k, co-chair moderation, Pol.is import / export, flat query
counts and the usual permission trio."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.deliberation import services
from commonground.deliberation.models import (
    Conversation,
    OpinionSnapshot,
    Participant,
    Statement,
    Vote,
)
from commonground.deliberation.results import build_results
from commonground.organizations.models import Side
from tests.factories import MembershipFactory, UserFactory

TOPIC = "How could we protect return visits?"
POLIS_DATA = Path(__file__).resolve().parents[4] / "shared" / "polis-data" / "opendata"


def _start(world, *, n=3, actor=None, **extra):
    return services.conversation_start(
        actor=actor or world.person("cochair_clinician_a"),
        committee=world.ppc_a,
        topic=TOPIC,
        seed_statements=[f"Return visits should be booked within {i + 2} weeks" for i in range(n)],
        **extra,
    )


def _members(world, side, count, prefix):
    people = []
    for index in range(count):
        person = UserFactory(username=f"{prefix}-{index}")
        MembershipFactory(person=person, committee=world.ppc_a, side=side)
        people.append(person)
    return people


def _vote(conversation, person, number, vote):
    return services.vote_cast(
        actor=person, conversation=conversation, statement_number=number, vote=vote
    )


def _bulk(conversation, people_sides, values):
    """Participants and their votes straight into the tables (test data at size, without
    a service call and an audit event per vote)."""
    statements = list(Statement.objects.filter(conversation=conversation).order_by("number"))
    participants = Participant.objects.bulk_create(
        Participant(conversation=conversation, user=person, number=i, side=side)
        for i, (person, side) in enumerate(people_sides)
    )
    Vote.objects.bulk_create(
        Vote(
            conversation=conversation,
            statement=statement,
            participant=participant,
            value=int(values[i][j]),
        )
        for i, participant in enumerate(participants)
        for j, statement in enumerate(statements)
        if values[i][j] is not None
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        participant_count=len(participants), revision=conversation.revision + 1
    )
    conversation.refresh_from_db()
    return participants


# --- voting flow -------------------------------------------------------------------------


def test_a_member_sees_one_statement_and_htmx_swaps_in_the_next(world, carmen, login):
    conversation = _start(world)
    client = login(carmen)
    page = client.get(conversation.get_absolute_url())
    assert page.status_code == 200
    first, second = Statement.objects.filter(conversation=conversation).order_by("number")[:2]
    assert first.text in page.content.decode()
    assert second.text not in page.content.decode()
    response = client.post(
        reverse("deliberation:vote", args=[conversation.public_id]),
        {"statement": first.number, "vote": "agree"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="voting"' in body and "<html" not in body
    assert second.text in body and first.text not in body
    assert Vote.objects.get().value == Vote.Value.AGREE


def test_voting_without_javascript_posts_and_redirects_back(world, carmen, login):
    conversation = _start(world, n=1)
    client = login(carmen)
    response = client.post(
        reverse("deliberation:vote", args=[conversation.public_id]),
        {"statement": 0, "vote": "disagree"},
    )
    assert response.status_code == 302
    assert response["Location"] == conversation.get_absolute_url()
    page = client.get(response["Location"]).content.decode()
    assert "You have voted on all 1 statement" in page


def test_a_double_submit_leaves_one_vote_holding_the_latest_choice(world, carmen, login):
    conversation = _start(world, n=1)
    client = login(carmen)
    url = reverse("deliberation:vote", args=[conversation.public_id])
    client.post(url, {"statement": 0, "vote": "agree"})
    client.post(url, {"statement": 0, "vote": "disagree"})
    vote = Vote.objects.get()
    assert vote.value == Vote.Value.DISAGREE
    assert Participant.objects.filter(conversation=conversation).count() == 1


def test_the_service_keeps_one_row_per_person_and_statement_and_the_first_vote_time(world, carmen):
    conversation = _start(world, n=1)
    first = _vote(conversation, carmen, 0, "agree")
    again = _vote(conversation, carmen, 0, "pass")
    assert first.pk == again.pk
    row = Vote.objects.get()
    assert row.value == Vote.Value.PASS
    assert row.created_at == first.created_at <= row.updated_at


def test_votes_are_audited_without_the_statement_or_the_value(world, carmen):
    conversation = _start(world, n=1)
    _vote(conversation, carmen, 0, "disagree")
    event = AuditEvent.objects.filter(actor_id=carmen.pk).get()
    assert event.object_type == "deliberation.conversation"
    assert event.object_id == str(conversation.pk)
    assert event.changes == {"vote": "recorded"}


def test_only_accepted_statements_of_an_open_conversation_take_votes(world, carmen, diego):
    conversation = _start(world, n=1)
    pending = services.statement_add(actor=carmen, conversation=conversation, text="Hire more")
    with pytest.raises(ValidationError):
        _vote(conversation, carmen, pending.number, "agree")
    services.conversation_set_state(actor=diego, conversation=conversation, state="closed")
    conversation.refresh_from_db()
    with pytest.raises(ValidationError):
        _vote(conversation, carmen, 0, "agree")


def test_a_vote_on_a_closed_conversation_answers_409(world, carmen, diego, login):
    conversation = _start(world, n=1)
    services.conversation_set_state(actor=diego, conversation=conversation, state="closed")
    response = login(carmen).post(
        reverse("deliberation:vote", args=[conversation.public_id]),
        {"statement": 0, "vote": "agree"},
    )
    assert response.status_code == 409
    assert not Vote.objects.exists()


def test_the_next_statement_follows_the_engine_priority_once_a_snapshot_exists(world, carmen):
    conversation = _start(world, n=3)
    OpinionSnapshot.objects.create(
        conversation=conversation,
        computed_at=conversation.created_at,
        revision=0,
        vote_count=0,
        participant_count=0,
        priorities={"0": 1.0, "1": 9.0, "2": 4.0},
    )
    from commonground.deliberation.selectors import voting_page

    assert voting_page(carmen, conversation).statement.number == 1
    _vote(conversation, carmen, 1, "agree")
    assert voting_page(carmen, conversation).statement.number == 2


def test_statements_from_participants_wait_for_a_cochair(world, carmen, diego):
    conversation = _start(world, n=0)
    mine = services.statement_add(
        actor=carmen, conversation=conversation, text="Protect four return slots a week"
    )
    assert mine.moderation == Statement.Moderation.PENDING
    seed = services.statement_add(actor=diego, conversation=conversation, text="Add a huddle")
    assert seed.moderation == Statement.Moderation.ACCEPTED and seed.is_seed
    auto = _start(world, n=0, auto_accept=True)
    theirs = services.statement_add(actor=carmen, conversation=auto, text="Fewer intakes")
    assert theirs.moderation == Statement.Moderation.ACCEPTED


def test_a_statement_with_patient_information_is_refused(world, carmen, login):
    conversation = _start(world, n=0)
    with pytest.raises(ValidationError, match="patient information"):
        services.statement_add(
            actor=carmen, conversation=conversation, text="MRN 12345678 waited too long"
        )
    response = login(carmen).post(
        reverse("deliberation:statement-add", args=[conversation.public_id]),
        {"text": "Call 510-555-0134 for the waitlist"},
    )
    assert response.status_code == 422
    assert "patient information" in response.content.decode()
    assert not Statement.objects.filter(conversation=conversation).exists()


# --- recompute ---------------------------------------------------------------------------


def test_votes_queue_one_recompute_until_it_runs(
    world, carmen, maria, django_capture_on_commit_callbacks
):
    conversation = _start(world, n=2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _vote(conversation, carmen, 0, "agree")
        _vote(conversation, maria, 0, "agree")
        _vote(conversation, carmen, 1, "disagree")
    assert len(callbacks) == 1  # debounced: the marker holds later votes back
    conversation.refresh_from_db()
    assert conversation.recompute_requested_at is not None
    callbacks[0]()  # the immediate test backend runs the task now
    conversation.refresh_from_db()
    assert conversation.recompute_requested_at is None
    snapshot = OpinionSnapshot.objects.get(conversation=conversation)
    assert snapshot.revision == conversation.revision
    assert snapshot.vote_count == 3


def test_the_recompute_is_safe_to_run_twice(world):
    conversation = _start(world, n=4)
    people = _members(world, Side.CLINICIAN, 8, "twice")
    for i, person in enumerate(people):
        for j in range(4):
            _vote(conversation, person, j, "agree" if (i + j) % 3 else "disagree")
    first = services.conversation_recompute(conversation_id=conversation.pk)
    second = services.conversation_recompute(conversation_id=conversation.pk)
    assert OpinionSnapshot.objects.filter(conversation=conversation).count() == 1
    assert first.pk == second.pk and first.computed_at == second.computed_at
    conversation.refresh_from_db()
    assert second.revision == conversation.revision
    assert second.participant_count == 8 and second.vote_count == 32
    payload = second.result
    assert sorted(p[0] for p in payload["points"]) == list(range(8))
    # Participants appear by their conversation number only.
    numbers = dict(
        Participant.objects.filter(conversation=conversation).values_list("user_id", "number")
    )
    assert sorted(p[0] for p in payload["points"]) == sorted(numbers.values())
    assert "twice-" not in json.dumps(payload)


def test_a_recompute_never_replaces_a_newer_snapshot(world, carmen):
    conversation = _start(world, n=1)
    _vote(conversation, carmen, 0, "agree")
    OpinionSnapshot.objects.create(
        conversation=conversation,
        computed_at=conversation.created_at,
        revision=conversation.revision + 5,
        vote_count=0,
        participant_count=0,
    )
    snapshot = services.conversation_recompute(conversation_id=conversation.pk)
    assert snapshot.revision == conversation.revision + 5


# --- results and the k-rule --------------------------------------------------------------


def _split_conversation(world, clinicians, managers):
    """Statement 0: everyone agrees. Statements 1-3: clinicians agree, managers disagree.
    Statements 4-7: mixed, so everyone has at least 7 votes."""
    conversation = _start(world, n=8)
    people = _members(world, Side.CLINICIAN, clinicians, "clin") + _members(
        world, Side.MANAGEMENT, managers, "mgr"
    )
    sides = [Side.CLINICIAN] * clinicians + [Side.MANAGEMENT] * managers
    values = []
    for i, side in enumerate(sides):
        clinician = side == Side.CLINICIAN
        row = [1] + [1 if clinician else -1] * 3 + [1 if (i + j) % 2 else 0 for j in range(4)]
        values.append(row)
    _bulk(conversation, list(zip(people, sides, strict=True)), values)
    services.conversation_recompute(conversation_id=conversation.pk)
    return conversation, people


def test_results_wait_until_k_people_have_voted(world, carmen, maria, diego, login):
    conversation = _start(world, n=2)
    for person in (carmen, maria, diego):
        _vote(conversation, person, 0, "agree")
    services.conversation_recompute(conversation_id=conversation.pk)
    page = login(carmen).get(
        reverse("deliberation:conversation-results", args=[conversation.public_id])
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "Results appear once at least 5 people have voted" in body
    assert "opinion-map-spec" not in body


def test_results_show_bridge_statements_when_each_side_has_k_voters(world, login):
    conversation, people = _split_conversation(world, 6, 6)
    client = login(people[0])
    body = client.get(
        reverse("deliberation:conversation-results", args=[conversation.public_id])
    ).content.decode()
    bridges = body.split('id="bridges-heading"')[1].split('id="consensus-heading"')[0]
    common = Statement.objects.get(conversation=conversation, number=0).text
    divisive = Statement.objects.get(conversation=conversation, number=1).text
    assert common in bridges and divisive not in bridges
    assert "Clinicians: 6 of 6 agree (100%)" in bridges
    assert "Two opinion groups" in body
    assert "Both sides agree most with" in body
    assert "Updated" in body and "seconds ago" in body


def test_bridge_statements_are_hidden_when_a_side_has_fewer_than_k_voters(world, login):
    conversation, people = _split_conversation(world, 8, 3)
    body = (
        login(people[0])
        .get(reverse("deliberation:conversation-results", args=[conversation.public_id]))
        .content.decode()
    )
    assert "Fewer than 5 managers have voted so far" in body
    assert "Managers:" not in body


def test_a_group_under_k_is_drawn_as_other_without_figures():
    payload = {
        "n_participants": 9,
        "k": 2,
        "groups": [{"id": 0, "size": 6}, {"id": 1, "size": 3}],
        "points": [[i, float(i), 0.0, 0 if i < 6 else 1] for i in range(9)],
        "repness": [
            [
                {
                    "statement": 1,
                    "repful_for": "agree",
                    "n_success": 6,
                    "n_trials": 6,
                    "p_success": 0.9,
                    "n_agree": 6,
                    "n_disagree": 0,
                }
            ],
            [
                {
                    "statement": 2,
                    "repful_for": "agree",
                    "n_success": 3,
                    "n_trials": 3,
                    "p_success": 0.8,
                    "n_agree": 3,
                    "n_disagree": 0,
                }
            ],
        ],
        "consensus": {"agree": [], "disagree": []},
        "bridges": [
            {
                "statement": 1,
                "score": 0.5,
                "sides": {"clinician": [6, 0, 6], "manager": [3, 0, 3]},
                "groups": [[6, 0, 6], [3, 0, 3]],
            }
        ],
        "side_voters": {"clinician": 6, "manager": 3},
    }
    texts = {1: "Protect return slots", 2: "Hire a scheduler"}
    results = build_results(payload, texts, viewer=7, min_group=5)
    assert [g.label for g in results.groups] == ["Group A"]
    assert results.hidden_groups == 1
    assert "Hire a scheduler" not in json.dumps([g.statements for g in results.groups], default=str)
    assert results.bridges == [] and "managers" in results.bridges_hidden_reason
    assert any("small group" in s for s in results.map_summary)
    rows = results.spec["data"]["values"]
    # The small group's members look like people not placed yet: they cannot be counted.
    assert {row["group"] for row in rows} == {"Group A", "Not in a group shown"}
    assert all(set(row) == {"x", "y", "group", "you"} for row in rows)
    assert [row["you"] for row in rows].count(True) == 1
    assert "3" not in " ".join(results.map_summary)  # no figure for the small group


def test_the_map_sent_to_the_browser_carries_only_positions_groups_and_the_viewers_flag(
    world, login
):
    conversation, people = _split_conversation(world, 6, 6)
    viewer = people[2]
    body = (
        login(viewer)
        .get(reverse("deliberation:conversation-results", args=[conversation.public_id]))
        .content.decode()
    )
    raw = body.split('<script id="opinion-map-spec" type="application/json">')[1].split(
        "</script>"
    )[0]
    spec = json.loads(raw)
    rows = spec["data"]["values"]
    assert len(rows) == 12
    assert all(set(row) == {"x", "y", "group", "you"} for row in rows)
    assert [row["you"] for row in rows].count(True) == 1
    for person in people:
        assert person.username not in raw


# --- moderation --------------------------------------------------------------------------


def test_cochairs_accept_reject_and_mark_meta_and_each_decision_is_audited(
    world, carmen, diego, omar, login
):
    conversation = _start(world, n=0)
    one = services.statement_add(
        actor=carmen, conversation=conversation, text="Book before leaving"
    )
    two = services.statement_add(actor=carmen, conversation=conversation, text="Off topic")
    three = services.statement_add(actor=carmen, conversation=conversation, text="Is this useful?")

    def url(statement):
        args = [conversation.public_id, statement.number]
        return reverse("deliberation:statement-moderate", args=args)

    client = login(diego)
    assert client.post(url(one), {"decision": "accept"}).status_code == 302
    assert client.post(url(two), {"decision": "reject"}, HTTP_HX_REQUEST="true").status_code == 200
    login(omar).post(url(three), {"decision": "meta"})
    states = dict(Statement.objects.values_list("number", "moderation"))
    assert states == {0: "accepted", 1: "rejected", 2: "accepted"}
    assert Statement.objects.get(pk=three.pk).is_meta
    events = AuditEvent.objects.filter(object_type="deliberation.statement", action="update")
    assert events.count() == 3


def test_the_moderation_page_never_names_a_statements_author(world, carmen, diego, login):
    conversation = _start(world, n=0)
    services.statement_add(actor=carmen, conversation=conversation, text="Book before leaving")
    body = (
        login(diego)
        .get(reverse("deliberation:conversation-moderate", args=[conversation.public_id]))
        .content.decode()
    )
    assert "Book before leaving" in body
    assert carmen.get_display_name() not in body and carmen.username not in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("cochair_clinician_a", 200),
        ("cochair_manager_a", 200),
        ("clinician_a", 403),
        ("manager_a", 403),
        ("union_rep_a", 403),
        ("regional_admin", 403),
        ("cochair_clinician_b", 404),
        ("no_seat", 404),
    ],
)
def test_only_the_committees_cochairs_moderate(world, login, persona, status):
    conversation = _start(world, n=1)
    client = login(world.person(persona))
    url = reverse("deliberation:conversation-moderate", args=[conversation.public_id])
    assert client.get(url).status_code == status
    post = client.post(
        reverse("deliberation:statement-moderate", args=[conversation.public_id, 0]),
        {"decision": "reject"},
    )
    assert post.status_code == (302 if status == 200 else status)


@pytest.mark.parametrize(
    ("persona", "page", "vote"),
    [
        ("clinician_a", 200, 302),
        ("manager_a", 200, 302),
        ("union_rep_a", 200, 302),  # any seat takes part
        ("regional_admin", 200, 403),  # sees, does not vote
        ("clinician_b", 404, 404),
        ("no_seat", 404, 404),
    ],
)
def test_members_take_part_admins_watch_other_clinics_see_nothing(
    world, login, persona, page, vote
):
    conversation = _start(world, n=1)
    client = login(world.person(persona))
    assert client.get(conversation.get_absolute_url()).status_code == page
    results = reverse("deliberation:conversation-results", args=[conversation.public_id])
    assert client.get(results).status_code == page
    response = client.post(
        reverse("deliberation:vote", args=[conversation.public_id]),
        {"statement": 0, "vote": "agree"},
    )
    assert response.status_code == vote


def test_a_region_wide_conversation_takes_everyone_with_a_seat_in_the_region(world, login):
    summit = services.conversation_start(
        actor=world.person("regional_cochair_clinician"),
        committee=world.summit,
        topic="What should the region fix first?",
        seed_statements=["Return visits within 10 business days"],
        open_to_region=True,
    )
    response = login(world.person("manager_b")).post(
        reverse("deliberation:vote", args=[summit.public_id]), {"statement": 0, "vote": "agree"}
    )
    assert response.status_code == 302
    assert Participant.objects.get(conversation=summit).side == Side.MANAGEMENT
    with pytest.raises(ValidationError):
        _start(world, n=0, open_to_region=True)  # a clinic PPC stays a clinic conversation


# --- Pol.is import and export ------------------------------------------------------------


def _export(client, conversation):
    response = client.get(
        reverse("deliberation:conversation-export", args=[conversation.public_id])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_export_then_import_gives_the_same_matrix(world, diego, login):
    conversation, people = _split_conversation(world, 6, 6)
    services.statement_add(actor=people[0], conversation=conversation, text="A pending idea")
    Statement.objects.filter(conversation=conversation, number=5).update(moderation="rejected")
    Statement.objects.filter(conversation=conversation, number=6).update(is_meta=True)
    client = login(diego)
    archive = _export(client, conversation)
    pv = archive.read("participants-votes.csv").decode()
    comments = archive.read("comments.csv").decode()
    # Pseudonymous: sequential numbers, no account ids, names or authors.
    assert [line.split(",")[0] for line in pv.splitlines()[1:]] == [str(i) for i in range(12)]
    for person in people:
        assert person.username not in pv + comments
    assert all(row.split(",")[2] == "" for row in comments.splitlines()[1:])  # author-id

    upload = io.BytesIO()
    with zipfile.ZipFile(upload, "w") as out:
        out.writestr("export/participants-votes.csv", pv)
        out.writestr("export/comments.csv", comments)
    upload.seek(0)
    upload.name = "export.zip"
    response = client.post(
        reverse("deliberation:conversation-import", args=[world.ppc_a.slug]),
        {"topic": "Imported copy", "archive": upload},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    copy = Conversation.objects.get(topic="Imported copy")
    assert copy.imported and copy.state == Conversation.State.CLOSED
    original, _ = services.conversation_matrix(conversation)
    imported, statements = services.conversation_matrix(copy)
    assert original.statements == imported.statements
    assert np.array_equal(original.values, imported.values)
    assert np.array_equal(original.voted, imported.voted)
    moderation = {s.number: (s.moderation, s.is_meta) for s in statements}
    assert moderation[5] == ("rejected", False) and moderation[6] == ("accepted", True)
    assert moderation[8] == ("pending", False)
    assert not Participant.objects.filter(conversation=copy, user__isnull=False).exists()
    # The imported conversation gets the same groups from the same matrix.
    a = services.conversation_recompute(conversation_id=conversation.pk).result
    b = services.conversation_recompute(conversation_id=copy.pk).result
    assert a["k"] == b["k"] and [p[3] for p in a["points"]] == [p[3] for p in b["points"]]


def test_an_import_with_patient_information_is_refused(world, diego):
    pv = b"participant,group-id,n-comments,n-votes,n-agree,n-disagree,0\n0,,0,1,1,0,1\n"
    comments = (
        b"timestamp,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        b"0,0,,1,0,1,Patient MRN 12345678 waited\n"
    )
    with pytest.raises(ValidationError, match="patient information"):
        services.conversation_import(
            actor=diego, committee=world.ppc_a, topic="x", participants_votes=pv, comments=comments
        )
    assert not Conversation.objects.exists()


@pytest.mark.skipif(not (POLIS_DATA / "london.youth.policing").exists(), reason="no polis-data")
def test_a_public_polis_export_imports_and_computes(world, diego):
    folder = POLIS_DATA / "london.youth.policing"
    conversation = services.conversation_import(
        actor=diego,
        committee=world.ppc_a,
        topic="London youth policing",
        participants_votes=(folder / "participants-votes.csv").read_bytes(),
        comments=(folder / "comments.csv").read_bytes(),
    )
    snapshot = services.conversation_recompute(conversation_id=conversation.pk)
    assert snapshot.participant_count == 26
    assert 2 <= snapshot.result["k"] <= 5


# --- query counts ------------------------------------------------------------------------


def _sized(world, n_people, n_statements):
    conversation = _start(world, n=n_statements)
    half = n_people // 2
    people = _members(world, Side.CLINICIAN, half, f"q{n_people}c") + _members(
        world, Side.MANAGEMENT, n_people - half, f"q{n_people}m"
    )
    sides = [Side.CLINICIAN] * half + [Side.MANAGEMENT] * (n_people - half)
    rng = np.random.default_rng(7)
    values = rng.choice([-1, 0, 1], size=(n_people, n_statements)).tolist()
    values[0][-1] = None  # the viewer still has one statement to vote on
    _bulk(conversation, list(zip(people, sides, strict=True)), values)
    services.conversation_recompute(conversation_id=conversation.pk)
    return conversation, people[0]


def _count(client, url):
    client.get(url)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["conversation-detail", "conversation-results"])
def test_the_vote_and_results_pages_make_the_same_queries_at_any_size(world, login, page):
    small, small_viewer = _sized(world, 5, 5)
    large, large_viewer = _sized(world, 40, 30)
    small_count = _count(
        login(small_viewer), reverse(f"deliberation:{page}", args=[small.public_id])
    )
    large_count = _count(
        login(large_viewer), reverse(f"deliberation:{page}", args=[large.public_id])
    )
    assert small_count == large_count


def test_the_moderation_page_makes_the_same_queries_at_any_size(world, diego, login):
    small, _ = _sized(world, 5, 5)
    large, _ = _sized(world, 40, 30)
    client = login(diego)
    url = "deliberation:conversation-moderate"
    assert _count(client, reverse(url, args=[small.public_id])) == _count(
        client, reverse(url, args=[large.public_id])
    )


def test_adding_a_statement_with_htmx_answers_with_the_form_fragment(world, carmen, login):
    conversation = _start(world, n=0)
    response = login(carmen).post(
        reverse("deliberation:statement-add", args=[conversation.public_id]),
        {"text": "Protect four return slots per clinician each week"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="add-statement"' in body and "<html" not in body
    assert "A co-chair will review your statement" in body
    assert "You have 1 waiting" in body
