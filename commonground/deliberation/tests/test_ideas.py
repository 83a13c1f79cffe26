"""The ideas board: proposing ideas (named or without a name), dots within each person's
allowance whatever the timing, totals by side only at k, merging duplicates without double
counting, pairwise answers and the ranking, stages with reasons, who may do what, flat query
counts, and projects started from (and linked to) ideas."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.concerns import services as concern_services
from commonground.deliberation import selectors_ideas as selectors
from commonground.deliberation import services_ideas as services
from commonground.deliberation.models import (
    Idea,
    IdeaBoard,
    IdeaComparison,
    IdeaDot,
)
from commonground.improvement import services as improvement_services
from commonground.improvement.models import Project
from commonground.notifications.models import Notification
from commonground.organizations.models import Side
from tests.concurrency import in_threads
from tests.factories import MembershipFactory, UserFactory

CONCERN = {
    "title": "Return visits are booked six weeks out",
    "description": "Follow-ups come after 30 business days.",
    "category": "access",
    "patient_impact": "Patients wait too long between sessions.",
    "not_a_grievance": True,
}


def _idea(world, title="Protected return slots", *, actor=None, committee=None, **extra):
    return services.idea_propose(
        actor=actor or world.person("clinician_a"),
        committee=committee or world.ppc_a,
        title=title,
        **extra,
    )


def _members(world, side, count, prefix, committee=None):
    people = []
    for index in range(count):
        person = UserFactory(username=f"{prefix}-{index}", first_name=prefix, last_name=str(index))
        MembershipFactory(person=person, committee=committee or world.ppc_a, side=side)
        people.append(person)
    return people


def _dots(person, idea):
    row = IdeaDot.objects.filter(idea=idea, person=person).first()
    return row.count if row else 0


# --- proposing ------------------------------------------------------------------------------


def test_a_member_proposes_an_idea_for_a_concern_from_the_form(world, carmen, login):
    concern = concern_services.concern_raise(
        actor=carmen, committee=world.ppc_a, identity_mode="named", **CONCERN
    )
    client = login(carmen)
    url = reverse("deliberation:idea-create", args=[world.ppc_a.slug])
    page = client.get(f"{url}?concern={concern.pk}").content.decode()
    assert CONCERN["title"] in page
    response = client.post(
        url,
        {
            "title": "Hold two return slots per clinician a day",
            "description": "Protect them until noon the day before.",
            "concerns": [str(concern.pk)],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    idea = Idea.objects.get()
    assert response["Location"] == idea.get_absolute_url()
    assert idea.author == carmen and idea.stage == Idea.Stage.NEW
    assert list(idea.concerns.all()) == [concern]
    event = AuditEvent.objects.get(object_type="deliberation.idea", action="create")
    assert event.actor_id == carmen.pk
    detail = client.get(idea.get_absolute_url()).content.decode()
    assert "Proposed by Carmen" in detail and concern.title in detail
    # The concern's page lists its ideas, with a link to propose another.
    concern_page = client.get(concern.get_absolute_url()).content.decode()
    assert "Ideas for this concern" in concern_page and idea.title in concern_page


def test_an_idea_posted_without_a_name_keeps_no_author_time_or_audit_event(world, carmen, login):
    idea = _idea(world, anonymous=True, actor=carmen)
    assert idea.author_id is None
    # Kept to the day: a time would narrow who wrote it.
    assert timezone.localtime(idea.created_at).time() == dt.time.min
    assert not AuditEvent.objects.filter(object_type="deliberation.idea").exists()
    assert not AuditEvent.objects.filter(actor_id=carmen.pk).exists()
    page = login(world.person("cochair_manager_a")).get(idea.get_absolute_url()).content.decode()
    assert "Posted without a name" in page and "Carmen" not in page


def test_ideas_refuse_patient_information_duplicates_and_other_committees_concerns(world, carmen):
    with pytest.raises(ValidationError, match="patient information"):
        _idea(world, description="Patient MRN 12345678 waited six weeks")
    _idea(world, "Protected return slots")
    with pytest.raises(ValidationError, match="already on the board"):
        _idea(world, "protected  return SLOTS")
    other = concern_services.concern_raise(
        actor=world.person("clinician_b"), committee=world.ppc_b, identity_mode="named", **CONCERN
    )
    with pytest.raises(ValidationError, match="this committee"):
        _idea(world, "Another", concerns=[other])
    assert Idea.objects.count() == 1


# --- dots -----------------------------------------------------------------------------------


def test_each_person_spends_at_most_their_dots_and_can_stack_and_move_them(world, carmen):
    a, b = _idea(world, "A"), _idea(world, "B")
    for _ in range(3):
        services.dots_add(actor=carmen, idea=a, delta=1)
    assert services.dots_add(actor=carmen, idea=b, delta=2) == 0
    with pytest.raises(ValidationError, match="5 dots on this board and 0 left"):
        services.dots_add(actor=carmen, idea=b, delta=1)
    assert services.dots_move(actor=carmen, source=a, target=b, count=2) == 0
    assert (_dots(carmen, a), _dots(carmen, b)) == (1, 4)
    services.dots_set(actor=carmen, idea=a, count=0)
    assert not IdeaDot.objects.filter(idea=a).exists()
    assert services.dots_used(carmen, world.ppc_a) == 4
    # Who changed dots is audited; on what is not.
    events = AuditEvent.objects.filter(actor_id=carmen.pk, changes={"dots": "changed"})
    assert events.count() == 6  # the refused click left nothing
    assert all(e.object_type == "deliberation.ideaboard" for e in events)


def test_dots_through_the_pages_with_and_without_htmx(world, carmen, login):
    idea = _idea(world)
    client = login(carmen)
    url = reverse("deliberation:idea-dots", args=[idea.public_id])
    response = client.post(url, {"action": "add", "return_to": "board"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("deliberation:idea-board", args=["ppc-oakland"]))
    response = client.post(url, {"action": "add"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and f'id="dots-{idea.public_id}"' in body
    assert 'id="dots-left" hx-swap-oob="true">3<' in body
    assert _dots(carmen, idea) == 2
    board = client.get(reverse("deliberation:idea-board", args=["ppc-oakland"])).content.decode()
    assert 'id="dots-left">3<' in board and "Your dots: <strong>2</strong>" in board


def test_a_decided_or_merged_idea_takes_no_new_dots_but_gives_them_back(world, carmen, diego):
    a, b = _idea(world, "A"), _idea(world, "B")
    services.dots_add(actor=carmen, idea=a, delta=2)
    services.idea_set_stage(actor=diego, idea=a, stage="declined", reason="Out of scope.")
    with pytest.raises(ValidationError, match="declined: it takes no more dots"):
        services.dots_add(actor=carmen, idea=a, delta=1)
    services.dots_add(actor=carmen, idea=a, delta=-1)
    assert _dots(carmen, a) == 1
    services.idea_merge(actor=diego, duplicate=b, into=_idea(world, "C"))
    with pytest.raises(ValidationError, match="merged into another"):
        services.dots_add(actor=carmen, idea=b, delta=1)


def test_the_number_of_dots_rises_any_time_and_falls_only_to_what_is_placed(world, carmen, diego):
    idea = _idea(world)
    services.dots_set(actor=carmen, idea=idea, count=4)
    board = services.board_settings_set(actor=diego, committee=world.ppc_a, dots_per_person=8)
    assert board.dots_per_person == 8
    with pytest.raises(ValidationError, match="Someone has 4 dots placed"):
        services.board_settings_set(actor=diego, committee=world.ppc_a, dots_per_person=3)
    services.board_settings_set(actor=diego, committee=world.ppc_a, dots_per_person=4)
    assert IdeaBoard.objects.get().dots_per_person == 4
    with pytest.raises(ValidationError):
        services.dots_add(actor=carmen, idea=idea, delta=1)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_clicks_never_spend_more_than_the_allowance(world):
    carmen = world.person("clinician_a")
    ideas = [_idea(world, f"Idea {n}") for n in range(4)]
    services.board_of(world.ppc_a)  # the board exists; the wallet does not yet
    calls = [
        lambda i=ideas[n % 4]: services.dots_add(actor=carmen, idea=i, delta=1) for n in range(9)
    ]
    if connection.vendor == "postgresql":
        outcomes = in_threads(*calls)
    else:  # SQLite serialises writers: the same clicks one after the other
        outcomes = []
        for call in calls:
            try:
                outcomes.append(call())
            except ValidationError as exc:
                outcomes.append(exc)
    accepted = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(accepted), len(refused)) == (5, 4), outcomes
    assert services.dots_used(carmen, world.ppc_a) == 5


@pytest.mark.django_db(transaction=True)
def test_dots_racing_a_merge_end_up_on_the_idea_kept_or_are_refused(world):
    kept, dup = _idea(world, "Kept"), _idea(world, "Duplicate")
    people = _members(world, Side.CLINICIAN, 6, "racer")
    diego = world.person("cochair_clinician_a")
    for person in people[:3]:
        services.dots_set(actor=person, idea=kept, count=2)

    def dot(person):
        return lambda: services.dots_add(actor=person, idea=dup, delta=2)

    def merge():
        return services.idea_merge(actor=diego, duplicate=dup, into=kept)

    calls = [dot(p) for p in people[:3]] + [merge] + [dot(p) for p in people[3:]]
    if connection.vendor == "postgresql":
        outcomes = in_threads(*calls)
    else:
        outcomes = []
        for call in calls:
            try:
                outcomes.append(call())
            except ValidationError as exc:
                outcomes.append(exc)
    accepted = [o for o in outcomes if isinstance(o, int)]
    assert all(isinstance(o, (int, Idea, ValidationError)) for o in outcomes), outcomes
    assert not IdeaDot.objects.filter(idea=dup).exists()
    # Every dot that got in counts once, on the idea kept.
    total = sum(IdeaDot.objects.filter(idea=kept).values_list("count", flat=True))
    assert total == 3 * 2 + 2 * len(accepted)
    # One row per person: the first three already had one; the others only if they got in.
    late = sum(1 for o in outcomes[4:] if isinstance(o, int))
    assert IdeaDot.objects.filter(idea=kept).count() == 3 + late


# --- totals by side -----------------------------------------------------------------------


def test_dots_by_side_appear_only_when_each_side_has_k_people(world, settings):
    settings.COMMONGROUND_MIN_GROUP_SIZE = 3
    idea = _idea(world)
    clinicians = _members(world, Side.CLINICIAN, 3, "cl")
    managers = _members(world, Side.MANAGEMENT, 3, "mg")
    for person in clinicians:
        services.dots_add(actor=person, idea=idea, delta=2)
    services.dots_add(actor=managers[0], idea=idea, delta=1)
    totals = selectors._dot_totals([idea.pk])[idea.pk]
    # Two sides dot the idea, one of them with a single person: no breakdown at all, or the
    # manager's dot could be read off by subtraction.
    assert (totals.dots, totals.people, totals.by_side) == (7, 4, None)
    for person in managers[1:]:
        services.dots_add(actor=person, idea=idea, delta=1)
    totals = selectors._dot_totals([idea.pk])[idea.pk]
    assert totals.by_side == [("Clinician", 6), ("Management", 3)]


# --- merging duplicates ---------------------------------------------------------------------


def test_merging_carries_dots_over_without_counting_anyone_twice(world, carmen, maria, diego):
    kept, dup, other = _idea(world, "Kept"), _idea(world, "Duplicate"), _idea(world, "Other")
    services.dots_set(actor=carmen, idea=kept, count=2)
    services.dots_set(actor=carmen, idea=dup, count=3)
    services.dots_set(actor=maria, idea=dup, count=4)
    services.dots_set(actor=maria, idea=other, count=1)
    services.idea_merge(actor=diego, duplicate=dup, into=kept)
    dup.refresh_from_db()
    assert dup.stage == Idea.Stage.MERGED and dup.merged_into == kept
    # One row per person on the idea kept: Carmen's 2 + 3, Maria's 4; totals unchanged.
    assert sorted(IdeaDot.objects.filter(idea=kept).values_list("person_id", "count")) == sorted(
        [(carmen.pk, 5), (maria.pk, 4)]
    )
    assert not IdeaDot.objects.filter(idea=dup).exists()
    assert services.dots_used(carmen, world.ppc_a) == 5
    assert services.dots_used(maria, world.ppc_a) == 5
    event = AuditEvent.objects.get(
        object_type="deliberation.idea", object_id=str(dup.pk), action="update"
    )
    assert event.actor_id == diego.pk and event.changes["merged_into"] == str(kept.public_id)
    assert event.changes["people_with_dots_moved"] == 2


def test_merging_repoints_comparisons_and_drops_those_between_the_two(world, carmen, maria, diego):
    kept, dup, third = _idea(world, "Kept"), _idea(world, "Duplicate"), _idea(world, "Third")

    def answer(person, left, right, choice):
        return services.comparison_record(
            actor=person, committee=world.ppc_a, shown=[left, right], choice=choice
        )

    answer(carmen, kept, dup, "first")  # between the two: dropped
    answer(carmen, dup, third, "first")  # dup beat third: becomes kept beat third
    answer(maria, third, kept, "first")  # maria: third beat kept (earlier)
    answer(maria, dup, third, "first")  # maria: dup beat third (later): this one stands
    services.idea_merge(actor=diego, duplicate=dup, into=kept)
    rows = IdeaComparison.objects.order_by("person_id")
    assert rows.count() == 2
    assert not rows.filter(idea_a=dup).exists() and not rows.filter(idea_b=dup).exists()
    for row in rows:
        winner = row.idea_a_id if row.result == 1 else row.idea_b_id
        assert {row.idea_a_id, row.idea_b_id} == {kept.pk, third.pk}
        assert winner == kept.pk


def test_a_merged_idea_shows_where_it_went_and_links_follow(world, carmen, diego, login):
    concern = concern_services.concern_raise(
        actor=carmen, committee=world.ppc_a, identity_mode="named", **CONCERN
    )
    kept, dup = _idea(world, "Kept"), _idea(world, "Duplicate", concerns=[concern])
    older = _idea(world, "Older duplicate")
    services.idea_merge(actor=diego, duplicate=older, into=dup)
    client = login(diego)
    response = client.post(
        reverse("deliberation:idea-merge", args=[dup.public_id]), {"into": str(kept.public_id)}
    )
    assert response.status_code == 302 and response["Location"] == kept.get_absolute_url()
    older.refresh_from_db()
    assert older.merged_into == kept
    assert list(kept.concerns.all()) == [concern]
    page = client.get(dup.get_absolute_url()).content.decode()
    assert "This idea was merged into" in page and kept.title in page
    board = client.get(reverse("deliberation:idea-board", args=["ppc-oakland"]) + "?stage=all")
    assert "Duplicate" not in board.content.decode()
    with pytest.raises(ValidationError, match="already merged"):
        services.idea_merge(actor=diego, duplicate=dup, into=kept)
    with pytest.raises(ValidationError, match="another idea"):
        services.idea_merge(actor=diego, duplicate=kept, into=kept)


# --- pairwise -----------------------------------------------------------------------------


def test_a_member_compares_pairs_one_after_another_with_htmx_and_without(world, carmen, login):
    ideas = [_idea(world, f"Idea {n}") for n in range(3)]
    client = login(carmen)
    page_url = reverse("deliberation:idea-compare", args=["ppc-oakland"])
    answer_url = reverse("deliberation:idea-compare-answer", args=["ppc-oakland"])
    first = selectors.compare_page(carmen, world.ppc_a).pair
    assert first is not None
    # A reload shows the same pair.
    assert selectors.compare_page(carmen, world.ppc_a).pair == first
    assert first[0].title in client.get(page_url).content.decode()
    data = {"left": first[0].public_id, "right": first[1].public_id, "choice": "first"}
    response = client.post(answer_url, data)
    assert response.status_code == 302 and response["Location"] == page_url
    second = selectors.compare_page(carmen, world.ppc_a).pair
    assert second is not None and {second[0].pk, second[1].pk} != {first[0].pk, first[1].pk}
    data = {"left": second[0].public_id, "right": second[1].public_id, "choice": "none"}
    response = client.post(answer_url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="compare"' in response.content.decode()
    third = selectors.compare_page(carmen, world.ppc_a).pair
    assert third is not None
    services.comparison_record(
        actor=carmen, committee=world.ppc_a, shown=list(third), choice="second"
    )
    done = client.get(page_url).content.decode()
    assert "You have compared every pair" in done
    rows = IdeaComparison.objects.filter(person=carmen)
    assert rows.count() == 3 and rows.filter(result=0).count() == 1
    assert all(r.idea_a_id < r.idea_b_id for r in rows)
    assert len(ideas) == 3


def test_answering_a_pair_again_replaces_the_answer(world, carmen):
    a, b = _idea(world, "A"), _idea(world, "B")
    services.comparison_record(actor=carmen, committee=world.ppc_a, shown=[b, a], choice="first")
    row = IdeaComparison.objects.get()
    assert (row.idea_a_id, row.idea_b_id, row.result) == (a.pk, b.pk, -1)  # B chosen
    services.comparison_record(actor=carmen, committee=world.ppc_a, shown=[a, b], choice="first")
    row = IdeaComparison.objects.get()
    assert row.result == 1


def test_the_board_ranks_by_pairwise_score_with_an_interval_and_a_sentence(world, login):
    best, middle, worst = _idea(world, "Best"), _idea(world, "Middle"), _idea(world, "Worst")
    people = _members(world, Side.CLINICIAN, 4, "cmp")
    for person in people:
        for left, right in ((best, middle), (best, worst), (middle, worst)):
            services.comparison_record(
                actor=person, committee=world.ppc_a, shown=[right, left], choice="second"
            )
    client = login(world.person("manager_a"))
    page = client.get(reverse("deliberation:idea-board", args=["ppc-oakland"]) + "?sort=score")
    body = page.content.decode()
    assert body.index("Best") < body.index("Middle") < body.index("Worst")
    assert "From 12 choices by 4 people, “Best” comes first" in body
    assert "Pairwise score" in body and "likely" in body


# --- stages -------------------------------------------------------------------------------


def test_stages_move_along_the_funnel_and_decisions_need_reasons(world, carmen, diego, login):
    idea = _idea(world, actor=carmen)
    with pytest.raises(ValidationError, match="Say why"):
        services.idea_set_stage(actor=diego, idea=idea, stage="declined")
    with pytest.raises(ValidationError, match="cannot move to adopted"):
        services.idea_set_stage(actor=diego, idea=idea, stage="adopted", reason="Works.")
    client = login(diego)
    url = reverse("deliberation:idea-stage", args=[idea.public_id])
    assert client.post(url, {"stage": "shortlisted"}).status_code == 302
    assert client.post(url, {"stage": "project"}).status_code == 302
    response = client.post(url, {"stage": "adopted"})
    assert response.status_code == 422 and "Say why" in response.content.decode()
    reason = "Return visits within 10 days rose from 40% to 71% over eight weeks."
    assert client.post(url, {"stage": "adopted", "reason": reason}).status_code == 302
    idea.refresh_from_db()
    assert idea.stage == Idea.Stage.ADOPTED and idea.stage_reason == reason
    events = AuditEvent.objects.filter(object_type="deliberation.idea", action="update")
    assert [e.changes["stage"] for e in events.order_by("id")] == [
        ["new", "shortlisted"],
        ["shortlisted", "project"],
        ["project", "adopted"],
    ]
    # The named author hears about each move; the board shows the reason.
    assert Notification.objects.filter(recipient=carmen).count() == 3
    board = client.get(reverse("deliberation:idea-board", args=["ppc-oakland"]) + "?stage=adopted")
    assert reason in board.content.decode()


# --- who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "dots", "stage"),
    [
        ("clinician_a", 302, 403),
        ("union_rep_a", 302, 403),  # an observer has a seat: dots, as in polls
        ("cochair_manager_a", 302, 302),
        ("regional_admin", 403, 403),  # sees the board, has no seat and is not a co-chair
        ("clinician_b", 404, 404),
    ],
)
def test_who_may_dot_and_who_may_move_stages(world, login, persona, dots, stage):
    idea = _idea(world)
    client = login(world.person(persona))
    assert client.get(idea.get_absolute_url()).status_code == (404 if dots == 404 else 200)
    response = client.post(
        reverse("deliberation:idea-dots", args=[idea.public_id]), {"action": "add"}
    )
    assert response.status_code == dots
    response = client.post(
        reverse("deliberation:idea-stage", args=[idea.public_id]), {"stage": "shortlisted"}
    )
    assert response.status_code == stage


def test_people_without_a_seat_follow_the_board_but_get_no_pair(world, ada, login):
    _idea(world, "A"), _idea(world, "B")
    client = login(ada)
    page = client.get(reverse("deliberation:idea-compare", args=["ppc-oakland"])).content.decode()
    assert "Only members of Oakland PPC compare ideas" in page
    board = client.get(reverse("deliberation:idea-board", args=["ppc-oakland"])).content.decode()
    assert "Propose an idea" not in board and "Your dots" not in board


# --- query counts -------------------------------------------------------------------------


def _fill(world, n_ideas, people):
    ideas = [_idea(world, f"Idea number {len(Idea.objects.all())}") for _ in range(n_ideas)]
    for k, person in enumerate(people):
        services.dots_set(actor=person, idea=ideas[k % len(ideas)], count=2)
        services.comparison_record(
            actor=person,
            committee=world.ppc_a,
            shown=[ideas[k % len(ideas)], ideas[(k + 1) % len(ideas)]],
            choice="first",
        )
    concern = concern_services.concern_raise(
        actor=world.person("clinician_a"),
        committee=world.ppc_a,
        identity_mode="named",
        **{**CONCERN, "title": f"Concern {n_ideas}"},
    )
    for idea in ideas:
        idea.concerns.add(concern)


def test_the_board_makes_the_same_number_of_queries_for_more_ideas(world, carmen, login):
    client = login(carmen)
    url = reverse("deliberation:idea-board", args=["ppc-oakland"])
    _fill(world, 3, _members(world, Side.CLINICIAN, 3, "few"))
    services.dots_add(actor=carmen, idea=Idea.objects.first(), delta=1)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _fill(world, 20, _members(world, Side.MANAGEMENT, 12, "many"))
    with CaptureQueriesContext(connection) as large:
        assert client.get(url + "?sort=score").status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


def test_the_idea_page_makes_the_same_number_of_queries_for_more_ideas(world, carmen, login):
    client = login(world.person("cochair_clinician_a"))
    _fill(world, 3, _members(world, Side.CLINICIAN, 3, "few"))
    idea = Idea.objects.first()
    client.get(idea.get_absolute_url())
    with CaptureQueriesContext(connection) as small:
        client.get(idea.get_absolute_url())
    _fill(world, 20, _members(world, Side.MANAGEMENT, 12, "many"))
    with CaptureQueriesContext(connection) as large:
        client.get(idea.get_absolute_url())
    assert len(large) == len(small)


# --- improvement projects -----------------------------------------------------------------


def test_a_project_starts_from_an_idea_and_is_linked_to_it(world, carmen, diego, login):
    idea = _idea(world, description="Hold two slots a day until noon the day before.")
    services.idea_set_stage(actor=diego, idea=idea, stage="project")
    client = login(carmen)
    page = client.get(idea.get_absolute_url()).content.decode()
    assert "Start a project from this idea" in page
    url = reverse("improvement:project-create", args=["ppc-oakland"]) + f"?idea={idea.public_id}"
    form = client.get(url).content.decode()
    assert idea.title in form and "Hold two slots a day" in form
    response = client.post(
        url,
        {
            "title": idea.title,
            "aim_what": "Return visits within 10 business days",
            "aim_how_much": "from 40% to 70%",
            "aim_by_when": "2027-06-30",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get()
    assert list(project.ideas.all()) == [idea]
    assert idea.title in client.get(project.get_absolute_url()).content.decode()
    assert project.title in client.get(idea.get_absolute_url()).content.decode()


def test_a_project_links_and_unlinks_ideas_of_its_own_committee_only(world, diego, login):
    project = improvement_services.project_create(
        actor=diego,
        committee=world.ppc_a,
        title="Protected return slots",
        aim_what="Follow-up within 10 business days",
        aim_how_much="from 40% to 70%",
        aim_by_when=dt.date(2027, 6, 30),
        lead_side="clinician",
    )
    ours = _idea(world)
    theirs = _idea(world, actor=world.person("clinician_b"), committee=world.ppc_b)
    client = login(diego)
    url = reverse("improvement:project-links", args=[project.public_id])
    detail = client.get(project.get_absolute_url()).content.decode()
    assert "Link idea" in detail and ours.title in detail
    client.post(url, {"kind": "idea", "target": ours.public_id})
    client.post(url, {"kind": "idea", "target": theirs.public_id})
    assert list(project.ideas.all()) == [ours]
    client.post(url, {"kind": "idea", "target": ours.public_id, "unlink": "on"})
    assert not project.ideas.exists()
    event = AuditEvent.objects.filter(object_type="improvement.project").order_by("-id").first()
    assert event.changes == {"ideas": {"removed": str(ours.pk)}}


def test_merging_keeps_projects_of_the_duplicate_on_the_idea_kept(world, diego):
    kept, dup = _idea(world, "Kept"), _idea(world, "Duplicate")
    project = improvement_services.project_create(
        actor=diego,
        committee=world.ppc_a,
        title="Slots",
        aim_what="Follow-up within 10 business days",
        aim_how_much="from 40% to 70%",
        aim_by_when=dt.date(2027, 6, 30),
        lead_side="clinician",
        idea=dup,
    )
    services.idea_merge(actor=diego, duplicate=dup, into=kept)
    assert set(project.ideas.all()) == {kept, dup}


def test_the_committee_page_links_to_its_ideas(world, carmen, login):
    page = login(carmen).get(world.ppc_a.get_absolute_url()).content.decode()
    assert reverse("deliberation:idea-board", args=["ppc-oakland"]) in page


# --- demo ---------------------------------------------------------------------------------


def test_the_demo_boards_load_once_in_bulk_and_obey_the_rules(db, client):
    from django.db.models import Sum

    from commonground.deliberation.demo_ideas import load_demo_ideas
    from commonground.improvement.demo import load_improvement_demo
    from commonground.organizations.demo import load_demo_region
    from commonground.organizations.models import Committee

    load_demo_region()
    load_improvement_demo()
    with CaptureQueriesContext(connection) as ctx:
        loaded = load_demo_ideas()
    assert loaded["idea_boards"] == 4 and loaded["ideas"] == 64
    assert len(ctx.captured_queries) < 150  # bulk: not a query per dot or answer
    assert load_demo_ideas() == {"idea_boards": 0}
    oakland = Committee.objects.get(slug="ppc-oakland")
    ideas = Idea.objects.filter(committee=oakland)
    assert ideas.filter(stage="merged", merged_into__isnull=False).count() == 1
    assert ideas.filter(stage="declined").exclude(stage_reason="").exists()
    assert ideas.filter(stage="adopted").exclude(stage_reason="").count() == 1
    assert ideas.filter(author__isnull=True).count() == 2
    becoming = ideas.get(stage="project")
    assert becoming.improvement_projects.filter(committee=oakland).exists()
    # Nobody over the allowance, nothing left on the merged duplicate.
    per_person = IdeaDot.objects.values("person", "idea__committee").annotate(n=Sum("count"))
    assert max(row["n"] for row in per_person) <= 5
    assert not IdeaDot.objects.filter(idea__stage="merged").exists()
    assert not IdeaComparison.objects.filter(idea_a__stage="merged").exists()
    assert not IdeaComparison.objects.filter(idea_b__stage="merged").exists()
    client.force_login(_cochair_of(oakland))
    board = client.get(reverse("deliberation:idea-board", args=["ppc-oakland"]) + "?sort=score")
    assert board.status_code == 200 and "comes first" in board.content.decode()
    assert client.get(becoming.get_absolute_url()).status_code == 200
    assert client.get(reverse("deliberation:idea-compare", args=["ppc-oakland"])).status_code == 200


def _cochair_of(committee):
    from commonground.organizations.models import Membership

    return Membership.objects.current().filter(committee=committee, role="co_chair").first().person
