"""Decision polls: every kind votes through the pages without JavaScript (htmx optional),
one vote per person whatever the timing, votes refused after the closing time even before
the closing task runs, anonymous and hidden results, quorum per side, results by side only
at k, closing writes the outcome into the decisions log, audit without the choice, flat
query counts and the usual permission trio."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.deliberation import services
from commonground.deliberation.models import Poll, PollVote
from commonground.meetings.models import Decision
from commonground.organizations.models import Role, Side
from tests.concurrency import in_threads
from tests.factories import MembershipFactory, UserFactory

QUESTION = "Hold a 10-minute intake huddle every Monday"


def _poll(world, kind="proposal", *, actor=None, committee=None, **extra):
    extra.setdefault("closing_at", timezone.now() + dt.timedelta(days=7))
    if kind in ("score", "ranked", "dot") and "options" not in extra:
        extra["options"] = ["Huddles", "Templates", "Float pool"]
    if kind == "meeting" and "times" not in extra:
        start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
        extra["times"] = [start, start + dt.timedelta(days=1)]
    return services.poll_create(
        actor=actor or world.person("cochair_clinician_a"),
        committee=committee or world.ppc_a,
        kind=kind,
        title=QUESTION,
        **extra,
    )


def _members(world, side, count, prefix, committee=None):
    people = []
    for index in range(count):
        person = UserFactory(username=f"{prefix}-{index}", first_name=prefix, last_name=str(index))
        MembershipFactory(person=person, committee=committee or world.ppc_a, side=side)
        people.append(person)
    return people


def _vote_url(poll):
    return reverse("deliberation:poll-vote", args=[poll.public_id])


def _close_url(poll):
    return reverse("deliberation:poll-close", args=[poll.public_id])


def _expire(poll):
    """Move the closing time into the past without the closing task running."""
    Poll.objects.filter(pk=poll.pk).update(closing_at=timezone.now() - dt.timedelta(seconds=1))
    poll.refresh_from_db()


# --- creating ----------------------------------------------------------------------------


def test_a_cochair_opens_a_ranked_choice_poll_from_the_form(world, diego, login):
    client = login(diego)
    url = reverse("deliberation:poll-create", args=[world.ppc_a.slug])
    assert client.get(url).status_code == 200
    closing = timezone.localtime() + dt.timedelta(days=3)
    response = client.post(
        url,
        {
            "kind": "ranked",
            "title": "Which fix first?",
            "options": "Huddles\nTemplates\n\nFloat pool\nHuddles",
            "closing_at": closing.strftime("%Y-%m-%dT%H:%M"),
            "score_max": 5,
            "dots_per_voter": 8,
            "quorum_clinicians": 2,
            "quorum_management": 2,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    poll = Poll.objects.get()
    assert response["Location"] == poll.get_absolute_url()
    assert [o.label for o in poll.options.all()] == ["Huddles", "Templates", "Float pool"]
    assert (poll.quorum_clinicians, poll.quorum_management) == (2, 2)
    event = AuditEvent.objects.get(object_type="deliberation.poll", action="create")
    assert event.changes["kind"] == "ranked" and event.changes["options"] == 3


def test_an_option_poll_needs_two_options_and_a_future_closing_time(world, diego):
    with pytest.raises(ValidationError, match="between 2 and 20"):
        _poll(world, "dot", options=["Only one"])
    with pytest.raises(ValidationError, match="closing time"):
        _poll(world, closing_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(ValidationError, match="patient information"):
        _poll(world, details="Patient MRN 12345678 waited six weeks")
    assert not Poll.objects.exists()


def test_a_meeting_time_poll_lists_its_times_in_order(world):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    poll = _poll(world, "meeting", times=[start + dt.timedelta(days=1), start])
    assert [o.starts_at for o in poll.options.all()] == [start, start + dt.timedelta(days=1)]


# --- voting ------------------------------------------------------------------------------


def test_a_member_votes_without_javascript_and_sees_the_vote_kept(world, carmen, login):
    poll = _poll(world)
    client = login(carmen)
    page = client.get(poll.get_absolute_url()).content.decode()
    assert "<fieldset" in page and "<legend>Your answer" in page
    response = client.post(_vote_url(poll), {"choice": "agree"})
    assert response.status_code == 302 and response["Location"] == poll.get_absolute_url()
    vote = PollVote.objects.get()
    assert (vote.voter, vote.choice, vote.side) == (carmen, "agree", Side.CLINICIAN)
    page = client.get(poll.get_absolute_url()).content.decode()
    assert "Change my vote" in page and 'value="agree" required id="id_choice_0" checked' in page


def test_voting_with_htmx_answers_with_the_poll_fragment(world, carmen, login):
    poll = _poll(world)
    response = login(carmen).post(_vote_url(poll), {"choice": "agree"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="poll-body"' in body and "<html" not in body
    assert "Your vote is recorded" in body


def test_disagreeing_without_a_reason_is_refused(world, carmen, login):
    poll = _poll(world)
    response = login(carmen).post(_vote_url(poll), {"choice": "disagree"})
    assert response.status_code == 422
    assert "Give a reason" in response.content.decode()
    assert not PollVote.objects.exists()
    login(carmen).post(_vote_url(poll), {"choice": "disagree", "reason": "Mondays are full"})
    assert PollVote.objects.get().reason == "Mondays are full"


def test_a_double_submit_leaves_one_vote_holding_the_later_choice(world, carmen, login):
    poll = _poll(world)
    client = login(carmen)
    client.post(_vote_url(poll), {"choice": "agree"})
    client.post(_vote_url(poll), {"choice": "abstain"})
    assert list(PollVote.objects.values_list("choice", flat=True)) == ["abstain"]


def test_votes_are_audited_without_the_choice_or_the_reason(world, carmen):
    poll = _poll(world)
    services.poll_vote(actor=carmen, poll=poll, choice="block", reason="Unsafe staffing")
    event = AuditEvent.objects.get(actor_id=carmen.pk)
    assert event.object_type == "deliberation.poll" and event.object_id == str(poll.pk)
    assert event.changes == {"vote": "recorded"}
    assert "block" not in str(event.changes) and "Unsafe" not in str(event.changes)


def test_a_vote_after_the_closing_time_is_refused_before_the_task_runs(world, carmen, login):
    poll = _poll(world)
    _expire(poll)
    assert poll.state == Poll.State.OPEN  # the closing task has not run
    with pytest.raises(ValidationError, match="closed"):
        services.poll_vote(actor=carmen, poll=poll, choice="agree")
    response = login(carmen).post(_vote_url(poll), {"choice": "agree"})
    assert response.status_code == 409
    assert not PollVote.objects.exists()
    assert (
        "votes are no longer taken" in login(carmen).get(poll.get_absolute_url()).content.decode()
    )


def test_a_vote_after_a_cochair_closed_the_poll_is_refused(world, carmen, diego):
    poll = _poll(world)
    services.poll_vote(actor=carmen, poll=poll, choice="agree")
    services.poll_close(actor=diego, poll=poll, statement="Agreed.")
    with pytest.raises(ValidationError, match="closed"):
        services.poll_vote(actor=carmen, poll=poll, choice="disagree", reason="Changed my mind")
    assert PollVote.objects.get().choice == "agree"


@pytest.mark.parametrize(
    ("kind", "data", "stored"),
    [
        ("score", {"score_0": "5", "score_1": "0", "score_2": "3"}, {"0": 5, "1": 0, "2": 3}),
        ("dot", {"dots_0": "6", "dots_1": "", "dots_2": "2"}, {"0": 6, "2": 2}),
        ("meeting", {"time_0": "2", "time_1": "1"}, {"0": 2, "1": 1}),
        ("ranked", {"rank_1": "2", "rank_2": "", "rank_3": "0"}, [2, 0]),
        ("gradients", {"choice": "6"}, {}),
        ("fist_to_five", {"choice": "4"}, {}),
        ("consent", {"choice": "consent"}, {}),
    ],
)
def test_every_kind_of_ballot_works_without_javascript(world, carmen, login, kind, data, stored):
    poll = _poll(world, kind)
    client = login(carmen)
    assert client.get(poll.get_absolute_url()).status_code == 200
    response = client.post(_vote_url(poll), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    vote = PollVote.objects.get()
    assert vote.ballot == stored
    assert client.get(poll.get_absolute_url()).status_code == 200


def test_a_ranked_ballot_is_numbered_selects(world, carmen, login):
    poll = _poll(world, "ranked")
    page = login(carmen).get(poll.get_absolute_url()).content.decode()
    for n, label in ((1, "1st choice"), (2, "2nd choice"), (3, "3rd choice")):
        assert f'<label for="id_rank_{n}">{label}' in page
        assert f'<select name="rank_{n}"' in page


def test_the_same_option_ranked_twice_is_refused(world, carmen, login):
    poll = _poll(world, "ranked")
    response = login(carmen).post(_vote_url(poll), {"rank_1": "1", "rank_2": "1"})
    assert response.status_code == 422 and "Rank each option once" in response.content.decode()


def test_too_many_dots_are_refused(world, carmen):
    poll = _poll(world, "dot", dots_per_voter=3)
    with pytest.raises(ValidationError, match="3 dots"):
        services.poll_vote(actor=carmen, poll=poll, values={0: 2, 1: 2})


# --- results -----------------------------------------------------------------------------


def test_results_show_bars_a_summary_and_named_votes(world, carmen, maria, ruth, login):
    poll = _poll(world)
    services.poll_vote(actor=carmen, poll=poll, choice="agree")
    services.poll_vote(actor=maria, poll=poll, choice="disagree", reason="Mondays are full")
    services.poll_vote(actor=ruth, poll=poll, choice="agree")
    page = login(carmen).get(poll.get_absolute_url()).content.decode()
    assert "2 agree, 0 abstain, 1 disagree, 0 blocks." in page
    assert '<meter min="0" max="100" value="67"' in page
    assert maria.get_display_name() in page and "Mondays are full" in page


def test_an_anonymous_poll_never_shows_who_voted_what(world, carmen, maria, diego, login):
    poll = _poll(world, anonymous=True)
    services.poll_vote(actor=carmen, poll=poll, choice="agree")
    services.poll_vote(actor=maria, poll=poll, choice="block", reason="Unsafe on Mondays")
    assert PollVote.objects.filter(voter=maria).exists()  # one vote per person is enforced
    assert "Unsafe on Mondays" not in login(diego).get(poll.get_absolute_url()).content.decode()
    services.poll_close(actor=diego, poll=poll)  # results of an anonymous poll wait for this
    for viewer in (carmen, diego, world.person("regional_admin")):
        page = login(viewer).get(poll.get_absolute_url()).content.decode()
        assert "Unsafe on Mondays" in page  # the reason, without its author
        for person in (carmen, maria):
            if person != viewer:
                assert person.get_display_name() not in page
                assert person.username not in page
    decision = Decision.objects.get()
    assert maria.get_display_name() not in decision.statement + decision.rationale


def test_hidden_results_stay_hidden_from_everyone_until_the_poll_closes(
    world, carmen, maria, diego, login
):
    poll = _poll(world, hide_results=True)
    services.poll_vote(actor=carmen, poll=poll, choice="agree")
    services.poll_vote(actor=maria, poll=poll, choice="block", reason="Unsafe")
    for viewer in (carmen, diego):
        page = login(viewer).get(poll.get_absolute_url()).content.decode()
        assert "Results are hidden until the poll closes. 2 people have voted so far." in page
        assert "1 block" not in page and "Unsafe" not in page and "<meter" not in page
    services.poll_close(actor=diego, poll=poll)
    page = login(carmen).get(poll.get_absolute_url()).content.decode()
    assert "1 agree, 0 abstain, 0 disagree, 1 block." in page


def test_a_poll_past_its_closing_time_shows_its_hidden_results(world, carmen, login):
    poll = _poll(world, hide_results=True)
    services.poll_vote(actor=carmen, poll=poll, choice="agree")
    _expire(poll)
    page = login(carmen).get(poll.get_absolute_url()).content.decode()
    assert "1 agree" in page and "The co-chairs have not recorded its outcome yet" in page


def test_results_by_side_appear_only_when_each_side_has_k_voters(world, login, settings):
    settings.COMMONGROUND_MIN_GROUP_SIZE = 5
    poll = _poll(world)
    clinicians = _members(world, Side.CLINICIAN, 5, "clin")
    managers = _members(world, Side.MANAGEMENT, 4, "mgr")
    for person in clinicians:
        services.poll_vote(actor=person, poll=poll, choice="agree")
    for person in managers:
        services.poll_vote(actor=person, poll=poll, choice="abstain")
    client = login(world.person("clinician_a"))
    page = client.get(poll.get_absolute_url()).content.decode()
    assert "Results by side appear when" in page and "Management (" not in page
    fifth = _members(world, Side.MANAGEMENT, 1, "mgr5")[0]
    services.poll_vote(actor=fifth, poll=poll, choice="agree")
    page = client.get(poll.get_absolute_url()).content.decode()
    assert "Clinicians (5)" in page and "Management (5)" in page


def test_a_neutral_remainder_under_k_suppresses_the_breakdown(world, login, settings):
    settings.COMMONGROUND_MIN_GROUP_SIZE = 5
    poll = _poll(world, committee=world.regional, actor=world.person("regional_cochair_clinician"))
    for side, n, prefix in ((Side.CLINICIAN, 5, "rc"), (Side.MANAGEMENT, 5, "rm")):
        for person in _members(world, side, n, prefix, committee=world.regional):
            services.poll_vote(actor=person, poll=poll, choice="agree")
    services.poll_vote(actor=world.person("data_steward"), poll=poll, choice="block", reason="x")
    page = login(world.person("regional_admin")).get(poll.get_absolute_url()).content.decode()
    # Both sides have 5, but the total (11) minus them would reveal the one neutral vote.
    assert "Results by side appear when" in page and "Clinicians (5)" not in page


def test_the_ranked_results_show_each_instant_runoff_round(world, login):
    poll = _poll(world, "ranked")
    people = _members(world, Side.CLINICIAN, 5, "r")
    for person, ranking in zip(people, ([0], [0], [1, 2], [2, 1], [2, 1]), strict=True):
        services.poll_vote(actor=person, poll=poll, ranking=ranking)
    page = login(people[0]).get(poll.get_absolute_url()).content.decode()
    assert "Instant-runoff rounds" in page
    assert "Float pool wins in round 2 with 3 of 5 continuing ballots." in page


# --- quorum and closing ------------------------------------------------------------------


def test_closing_records_the_outcome_in_the_decisions_log(world, carmen, maria, diego, login):
    poll = _poll(world, quorum_clinicians=1, quorum_management=1)
    services.poll_vote(actor=carmen, poll=poll, choice="agree")
    services.poll_vote(actor=maria, poll=poll, choice="agree")
    response = login(diego).post(
        _close_url(poll),
        {
            "action": "close",
            "statement": "We hold intake huddles on Mondays from March.",
            "review_on": (timezone.localdate() + dt.timedelta(days=90)).isoformat(),
        },
    )
    assert response.status_code == 302
    poll.refresh_from_db()
    decision = poll.decision
    assert poll.state == Poll.State.CLOSED and decision is not None
    assert decision.committee == world.ppc_a and decision.recorded_by == diego
    assert decision.statement == "We hold intake huddles on Mondays from March."
    assert decision.review_on == timezone.localdate() + dt.timedelta(days=90)
    assert poll.get_absolute_url() in decision.rationale
    assert "Quorum not met" not in decision.rationale
    # Named votes: the split by side goes with the decision (it shows it only at k).
    assert (decision.clinician_for, decision.management_for) == (1, 1)
    assert AuditEvent.objects.filter(object_type="meetings.decision", action="create").exists()
    page = login(carmen).get(poll.get_absolute_url()).content.decode()
    assert "We hold intake huddles on Mondays from March." in page
    assert decision.get_absolute_url() in page


def test_an_empty_outcome_records_the_draft_and_says_quorum_was_not_met(world, carmen, diego):
    poll = _poll(world, quorum_clinicians=2, quorum_management=1)
    services.poll_vote(actor=carmen, poll=poll, choice="agree")
    services.poll_close(actor=diego, poll=poll)
    decision = Decision.objects.get()
    assert decision.statement.startswith(f"Poll “{QUESTION}” closed with 1 voter. Quorum not met")
    assert "(clinician and management side)" in decision.statement
    assert "Quorum not met" in decision.rationale


def test_an_anonymous_poll_under_k_records_no_split_by_side(world, carmen, maria, diego):
    poll = _poll(world, anonymous=True)
    services.poll_vote(actor=carmen, poll=poll, choice="agree")
    services.poll_vote(actor=maria, poll=poll, choice="disagree", reason="Too soon")
    services.poll_close(actor=diego, poll=poll)
    decision = Decision.objects.get()
    assert decision.clinician_voters == decision.management_voters == 0


def test_the_outcome_is_recorded_once(world, diego, omar):
    poll = _poll(world)
    services.poll_close(actor=diego, poll=poll, statement="Not now.")
    with pytest.raises(ValidationError, match="already recorded"):
        services.poll_close(actor=omar, poll=poll, statement="Again.")
    assert Decision.objects.count() == 1


def test_the_closing_task_closes_at_the_closing_time_and_leaves_the_outcome(world, carmen, diego):
    poll = _poll(world)
    services.poll_vote(actor=carmen, poll=poll, choice="agree")
    assert services.poll_close_if_due(poll_id=poll.pk) is False  # too early: nothing
    _expire(poll)
    assert services.poll_close_due() == [poll.pk]
    assert services.poll_close_if_due(poll_id=poll.pk) is False  # safe to run twice
    poll.refresh_from_db()
    assert poll.state == Poll.State.CLOSED and poll.closed_at == poll.closing_at
    assert poll.decision is None
    system = AuditEvent.objects.get(object_type="deliberation.poll", changes__state__isnull=False)
    assert system.actor_id is None
    services.poll_close(actor=diego, poll=poll, statement="Agreed.")
    poll.refresh_from_db()
    assert poll.decision.decided_on == timezone.localdate(poll.closing_at)


def test_opening_a_poll_queues_its_closing_task(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        poll = _poll(world)
    assert len(callbacks) == 1
    poll.refresh_from_db()
    assert poll.state == Poll.State.OPEN  # the task ran at once in tests: too early to close


def test_the_close_form_offers_the_draft_only_when_results_are_visible(world, carmen, diego, login):
    shown = _poll(world)
    hidden = _poll(world, hide_results=True)
    for poll in (shown, hidden):
        services.poll_vote(actor=carmen, poll=poll, choice="agree")
    client = login(diego)
    assert "closed with 1 voter" in client.get(shown.get_absolute_url()).content.decode()
    assert "closed with 1 voter" not in client.get(hidden.get_absolute_url()).content.decode()


# --- race safety -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_simultaneous_double_submits_leave_one_vote(world):
    poll = _poll(world)
    carmen = world.person("clinician_a")
    choices = ["agree", "abstain", "agree", "abstain", "agree", "abstain"]
    if connection.vendor == "postgresql":
        outcomes = in_threads(
            *[lambda c=c: services.poll_vote(actor=carmen, poll=poll, choice=c) for c in choices]
        )
        assert all(isinstance(o, PollVote) for o in outcomes), outcomes
    else:  # SQLite serialises writers: the same submits one after the other
        for c in choices:
            services.poll_vote(actor=carmen, poll=poll, choice=c)
    assert PollVote.objects.filter(poll=poll).count() == 1
    assert AuditEvent.objects.filter(changes={"vote": "recorded"}).count() == len(choices)


@pytest.mark.django_db(transaction=True)
def test_votes_racing_the_close_are_either_in_the_outcome_or_refused(world):
    poll = _poll(world)
    voters = _members(world, Side.CLINICIAN, 6, "race")
    diego = world.person("cochair_clinician_a")

    def vote(person):
        return lambda: services.poll_vote(actor=person, poll=poll, choice="agree")

    def close():
        return services.poll_close(actor=diego, poll=poll)

    calls = [vote(p) for p in voters[:3]] + [close] + [vote(p) for p in voters[3:]]
    if connection.vendor == "postgresql":
        outcomes = in_threads(*calls)
    else:
        outcomes = []
        for call in calls:
            try:
                outcomes.append(call())
            except ValidationError as exc:
                outcomes.append(exc)
    accepted = [o for o in outcomes if isinstance(o, PollVote)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(accepted) + len(refused) == len(voters)
    stored = PollVote.objects.filter(poll=poll).count()
    assert stored == len(accepted)
    decision = Decision.objects.get()
    # The outcome was counted under the lock: exactly the votes that got in.
    assert decision.statement.startswith(f"Poll “{QUESTION}” closed with {stored} voter")
    poll.refresh_from_db()
    assert all(v.updated_at <= poll.closed_at for v in PollVote.objects.filter(poll=poll))


# --- who may do what ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "page", "vote", "close"),
    [
        ("clinician_a", 200, 302, 403),
        ("manager_a", 200, 302, 403),
        ("union_rep_a", 200, 302, 403),  # any seat votes, as in conversations
        ("cochair_manager_a", 200, 302, 302),
        ("regional_admin", 200, 403, 403),  # watches, does not vote or close
        ("clinician_b", 404, 404, 404),
        ("no_seat", 404, 404, 404),
    ],
)
def test_members_vote_cochairs_close_admins_watch_other_clinics_see_nothing(
    world, login, persona, page, vote, close
):
    poll = _poll(world)
    client = login(world.person(persona))
    assert client.get(poll.get_absolute_url()).status_code == page
    list_url = reverse("deliberation:poll-list", args=[world.ppc_a.slug])
    assert client.get(list_url).status_code == page
    assert client.post(_vote_url(poll), {"choice": "agree"}).status_code == vote
    assert client.post(_close_url(poll), {"action": "close"}).status_code == close


@pytest.mark.parametrize(
    ("persona", "status"),
    [("cochair_clinician_a", 200), ("clinician_a", 403), ("regional_admin", 403), ("no_seat", 404)],
)
def test_only_the_committees_cochairs_start_polls(world, login, persona, status):
    url = reverse("deliberation:poll-create", args=[world.ppc_a.slug])
    assert login(world.person(persona)).get(url).status_code == status


def test_the_committee_page_links_to_its_polls(world, carmen, login):
    page = login(carmen).get(world.ppc_a.get_absolute_url()).content.decode()
    assert reverse("deliberation:poll-list", args=[world.ppc_a.slug]) in page


def test_the_list_shows_open_and_closed_polls_with_their_outcome(world, carmen, diego, login):
    open_poll = _poll(world)
    closed = _poll(world, "consent")
    services.poll_close(actor=diego, poll=closed, statement="We try it for a month.")
    expired = _poll(world, "fist_to_five")
    _expire(expired)
    page = login(carmen).get(reverse("deliberation:poll-list", args=[world.ppc_a.slug]))
    body = page.content.decode()
    open_part, closed_part = body.split('id="closed-polls"')
    assert open_poll.get_absolute_url() in open_part
    assert closed.get_absolute_url() in closed_part and expired.get_absolute_url() in closed_part
    assert "We try it for a month." in closed_part and "Waiting for the co-chairs" in closed_part


# --- query counts ------------------------------------------------------------------------


def _sized(world, n_polls, n_voters, *, anonymous=False):
    people = _members(world, Side.CLINICIAN, n_voters, f"q{n_polls}-{n_voters}-{anonymous}")
    polls = [_poll(world, "ranked", anonymous=anonymous) for _ in range(n_polls)]
    PollVote.objects.bulk_create(
        PollVote(poll=poll, voter=person, side=Side.CLINICIAN, ballot=[i % 3, (i + 1) % 3])
        for poll in polls
        for i, person in enumerate(people)
    )
    return polls


def _count(client, url):
    client.get(url)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_poll_list_makes_the_same_queries_at_any_size(world, carmen, diego, login):
    client = login(carmen)
    url = reverse("deliberation:poll-list", args=[world.ppc_a.slug])
    _sized(world, 1, 2)
    small = _count(client, url)
    polls = _sized(world, 12, 15)
    for poll in polls[:4]:
        services.poll_close(actor=diego, poll=poll)
    assert _count(client, url) == small


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_poll_page_makes_the_same_queries_at_any_size(world, login, anonymous):
    viewer = world.person("clinician_a")
    (small,) = _sized(world, 1, 2, anonymous=anonymous)
    (large,) = _sized(world, 1, 40, anonymous=anonymous)
    client = login(viewer)
    assert _count(client, small.get_absolute_url()) == _count(client, large.get_absolute_url())


def test_a_cochair_seat_ended_stops_closing(world, diego, login):
    from commonground.organizations.models import Membership

    poll = _poll(world)
    Membership.objects.filter(person=diego, committee=world.ppc_a).update(
        end_date=timezone.localdate() - dt.timedelta(days=1)
    )
    MembershipFactory(person=diego, committee=world.ppc_b, side=Side.CLINICIAN, role=Role.MEMBER)
    assert login(diego).post(_close_url(poll), {"action": "close"}).status_code == 404


# --- demo --------------------------------------------------------------------------------


def test_the_demo_loads_closed_polls_with_outcomes_and_one_open_poll_once(world, carmen, login):
    from commonground.deliberation.demo_polls import load_demo_polls

    with CaptureQueriesContext(connection) as ctx:
        loaded = load_demo_polls()
    assert loaded["polls"] == 5 and loaded["poll_decisions"] == 4
    assert len(ctx.captured_queries) < 40  # bulk: not a query per vote
    assert load_demo_polls() == {"polls": 0}
    open_polls = Poll.objects.filter(state=Poll.State.OPEN)
    assert open_polls.count() == 1 and open_polls.get().decision is None
    assert Decision.objects.filter(poll__isnull=False).count() == 4
    client = login(carmen)
    for poll in Poll.objects.all():
        assert client.get(poll.get_absolute_url()).status_code == 200
    assert client.get(reverse("deliberation:poll-list", args=[world.ppc_a.slug])).status_code == 200


def test_a_meeting_time_in_the_past_is_refused(world):
    with pytest.raises(ValidationError, match="future"):
        _poll(world, "meeting", times=[timezone.now() - dt.timedelta(days=1)])


def test_an_anonymous_polls_results_wait_for_the_close(world, diego):
    import datetime as dt

    from django.utils import timezone

    from commonground.deliberation import services as deliberation_services

    poll = deliberation_services.poll_create(
        actor=diego,
        committee=world.ppc_a,
        kind="proposal",
        title="Adopt the Tuesday referral huddle",
        closing_at=timezone.now() + dt.timedelta(days=2),
        anonymous=True,
    )
    assert poll.hide_results
