"""Decision-poll arithmetic (``commonground.deliberation.polls``, no Django): ballot rules,
tallies for every kind, instant runoff with its documented tie-breaking, quorum per side,
the breakdown-by-side rule with complementary suppression, and the decisions-log split."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commonground.deliberation import polls
from commonground.deliberation.polls import Ballot, BallotError, clean_ballot, instant_runoff

# --- ballots ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "choice"),
    [("proposal", "disagree"), ("proposal", "block"), ("consent", "object"), ("gradients", "8")],
)
def test_a_disagreement_or_block_without_a_reason_is_refused(kind, choice):
    with pytest.raises(BallotError, match="reason"):
        clean_ballot(kind, n_options=0, choice=choice, reason="  ")
    assert clean_ballot(kind, n_options=0, choice=choice, reason="Too fast").choice == choice


@pytest.mark.parametrize(("kind", "choice"), [("proposal", "agree"), ("proposal", "abstain")])
def test_agreeing_or_abstaining_needs_no_reason(kind, choice):
    assert clean_ballot(kind, n_options=0, choice=choice).choice == choice


def test_an_unknown_answer_is_refused():
    with pytest.raises(BallotError):
        clean_ballot("proposal", n_options=0, choice="maybe")
    with pytest.raises(BallotError):
        clean_ballot("fist_to_five", n_options=0, choice="6")


def test_a_score_ballot_scores_every_option_within_the_range():
    assert clean_ballot("score", n_options=2, values={1: 3, 0: 5}).values == {0: 5, 1: 3}
    with pytest.raises(BallotError, match="every option"):
        clean_ballot("score", n_options=2, values={0: 5})
    with pytest.raises(BallotError, match="0 to 5"):
        clean_ballot("score", n_options=2, values={0: 6, 1: 0})
    with pytest.raises(BallotError, match="not in this poll"):
        clean_ballot("score", n_options=2, values={0: 1, 2: 1})


def test_a_dot_ballot_spends_at_most_the_dots_it_has():
    assert clean_ballot("dot", n_options=3, values={0: 5, 1: 0, 2: 3}, dots=8).values == {
        0: 5,
        2: 3,
    }
    with pytest.raises(BallotError, match="8 dots"):
        clean_ballot("dot", n_options=3, values={0: 5, 2: 4}, dots=8)
    with pytest.raises(BallotError, match="at least one"):
        clean_ballot("dot", n_options=3, values={0: 0}, dots=8)
    with pytest.raises(BallotError, match="negative"):
        clean_ballot("dot", n_options=3, values={0: -1, 1: 3}, dots=8)


def test_a_meeting_ballot_answers_every_time_yes_if_need_be_or_no():
    assert clean_ballot("meeting", n_options=2, values={0: 2, 1: 1}).values == {0: 2, 1: 1}
    with pytest.raises(BallotError):
        clean_ballot("meeting", n_options=2, values={0: 2})
    with pytest.raises(BallotError):
        clean_ballot("meeting", n_options=2, values={0: 3, 1: 0})


def test_a_ranked_ballot_ranks_each_option_at_most_once():
    assert clean_ballot("ranked", n_options=3, ranking=[2, 0]).ranking == (2, 0)
    with pytest.raises(BallotError, match="once"):
        clean_ballot("ranked", n_options=3, ranking=[2, 2])
    with pytest.raises(BallotError, match="first choice"):
        clean_ballot("ranked", n_options=3, ranking=[])
    with pytest.raises(BallotError, match="not in this poll"):
        clean_ballot("ranked", n_options=3, ranking=[3])


def test_the_gradients_follow_kaners_eight_point_scale():
    labels = [label for _, label, _ in polls.CHOICES["gradients"]]
    assert len(labels) == 8
    assert labels[0] == "Whole-hearted endorsement"
    assert labels[3] == "Abstain"
    assert labels[5] == "Don't like but will support"
    assert labels[7] == "Block"


def test_fist_to_five_runs_from_zero_to_five():
    assert [key for key, _, _ in polls.CHOICES["fist_to_five"]] == ["0", "1", "2", "3", "4", "5"]


# --- tallies -----------------------------------------------------------------------------


def _choices(kind, *choices, side="clinician"):
    return [Ballot(side=side, choice=c) for c in choices]


def test_a_proposal_tally_counts_each_answer_and_the_blocks():
    result = polls.tally("proposal", _choices("proposal", "agree", "agree", "abstain", "block"))
    assert {r.key: r.value for r in result.rows} == {
        "agree": 2,
        "abstain": 1,
        "disagree": 0,
        "block": 1,
    }
    assert result.voters == 4 and result.blocks == 1 and result.leader == "agree"
    assert result.headline == "2 agree, 1 abstain, 0 disagree, 1 block."
    assert "blocked" in result.lines[0]


def test_a_consent_round_without_objections_says_so():
    result = polls.tally("consent", _choices("consent", "consent", "consent"))
    assert result.headline == "2 consent, 0 objections." and result.lines == ("No objections.",)


def test_fist_to_five_reports_the_average_and_the_low_hands():
    result = polls.tally("fist_to_five", _choices("fist_to_five", "5", "4", "0", "3"))
    assert result.headline.startswith("Average 3.0 of 5 fingers; 1 person showed a fist")


def test_gradients_group_support_and_opposition():
    result = polls.tally("gradients", _choices("gradients", "1", "2", "6", "7", "8"))
    assert result.headline.startswith("2 of 5 support it (points 1 to 3), 1 don't like it")
    assert result.blocks == 1


def test_a_score_poll_totals_and_averages_each_option():
    ballots = [Ballot(values={0: 5, 1: 2}), Ballot(values={0: 3, 1: 4})]
    result = polls.tally("score", ballots, ["Huddles", "Templates"], score_max=5)
    assert [(r.value, r.detail) for r in result.rows] == [
        (8, "average 4.0 of 5"),
        (6, "average 3.0 of 5"),
    ]
    assert result.leader == "0" and result.headline == "Huddles leads with 8 points."


def test_level_options_have_no_leader():
    ballots = [Ballot(values={0: 3, 1: 3})]
    result = polls.tally("dot", ballots, ["A", "B"])
    assert result.leader is None and result.headline == "Level at the top: A, B."


def test_the_best_meeting_time_has_most_yes_then_most_if_need_be_then_comes_first():
    ballots = [
        Ballot(values={0: 2, 1: 2, 2: 1}),
        Ballot(values={0: 1, 1: 2, 2: 2}),
        Ballot(values={0: 2, 1: 1, 2: 2}),
    ]
    result = polls.tally("meeting", ballots, ["Mon", "Tue", "Wed"])
    # Every time has 2 yes and 1 if need be: the earliest listed wins.
    assert result.leader == "0"
    ballots.append(Ballot(values={0: 0, 1: 1, 2: 0}))
    assert polls.tally("meeting", ballots, ["Mon", "Tue", "Wed"]).leader == "1"


def test_no_votes_give_no_leader():
    for kind in ("proposal", "consent", "gradients", "fist_to_five"):
        assert polls.tally(kind, []).leader is None
    for kind in ("score", "ranked", "dot", "meeting"):
        assert polls.tally(kind, [], ["A", "B"]).leader is None


# --- instant runoff ----------------------------------------------------------------------


def test_a_majority_of_first_preferences_wins_in_round_one():
    result = instant_runoff([[0, 1], [0], [0, 2], [1, 0], [2]], [0, 1, 2])
    assert result.winner == 0 and len(result.rounds) == 1


def test_the_last_option_is_eliminated_and_its_ballots_transfer():
    ballots = [[0]] * 8 + [[1, 2]] * 7 + [[2, 1]] * 5
    result = instant_runoff(ballots, [0, 1, 2])
    assert [r.eliminated for r in result.rounds] == [2, None]
    assert result.rounds[1].counts == {0: 8, 1: 12}
    assert result.winner == 1


def test_exhausted_ballots_are_counted_and_leave_the_majority_denominator():
    ballots = [[0]] * 4 + [[1]] * 3 + [[2]] * 2  # nobody ranks a second choice
    result = instant_runoff(ballots, [0, 1, 2])
    final = result.rounds[-1]
    assert final.exhausted == 2 and final.counts == {0: 4, 1: 3}
    # 4 of 7 continuing ballots is a majority, though not of all 9.
    assert result.winner == 0


def test_a_tie_for_last_place_is_broken_by_the_earlier_rounds():
    ballots = [[0]] * 6 + [[1, 2]] * 3 + [[2]] * 4 + [[3, 1, 2]]
    result = instant_runoff(ballots, [0, 1, 2, 3])
    first, second, third = result.rounds
    assert first.eliminated == 3 and first.tie_break == ""
    assert second.counts == {0: 6, 1: 4, 2: 4}
    # Level on 4 now; option 1 had 3 first preferences to option 2's 4: option 1 goes out.
    assert second.eliminated == 1 and second.tie_break == "earlier rounds"
    assert third.counts == {0: 6, 2: 8} and result.winner == 2


def test_options_level_in_every_round_are_separated_by_ballot_order():
    result = instant_runoff([[0], [1]], [0, 1])
    assert result.rounds[0].eliminated == 1 and result.rounds[0].tie_break == "ballot order"
    assert result.winner == 0 and result.decided_by_tie_break
    # Listing the options the other way round changes which one goes out, as documented.
    assert instant_runoff([[0], [1]], [1, 0]).winner == 1


def test_no_ballots_elect_nobody():
    result = instant_runoff([], [0, 1])
    assert result.winner is None and result.rounds[0].exhausted == 0


def test_the_ranked_tally_names_the_winner_and_the_round():
    ballots = [Ballot(ranking=r) for r in ([0], [0], [1, 2], [2, 1], [2, 1])]
    result = polls.tally("ranked", ballots, ["Huddles", "Templates", "Float pool"])
    assert result.leader == "2"
    assert result.headline.startswith("Float pool wins in round 2 with 3 of 5")


# Ballots: each a non-empty ordering of distinct candidates out of 2..6.
@st.composite
def elections(draw):
    n = draw(st.integers(min_value=2, max_value=6))
    candidates = list(range(n))
    ballot = st.permutations(candidates).flatmap(
        lambda order: st.integers(min_value=1, max_value=len(order)).map(lambda k: list(order[:k]))
    )
    ballots = draw(st.lists(ballot, min_size=0, max_size=40))
    return candidates, ballots


@settings(max_examples=300, deadline=None)
@given(elections())
def test_irv_a_first_round_majority_wins_at_once(election):
    candidates, ballots = election
    result = instant_runoff(ballots, candidates)
    firsts = {c: sum(1 for b in ballots if b[0] == c) for c in candidates}
    majority = [c for c, n in firsts.items() if 2 * n > len(ballots)]
    if majority:
        assert result.winner == majority[0] and len(result.rounds) == 1


@settings(max_examples=300, deadline=None)
@given(elections())
def test_irv_never_eliminates_an_option_with_more_votes_than_another(election):
    candidates, ballots = election
    for r in instant_runoff(ballots, candidates).rounds:
        if r.eliminated is not None:
            assert r.counts[r.eliminated] == min(r.counts.values())


@settings(max_examples=300, deadline=None)
@given(elections())
def test_irv_conserves_ballots_in_every_round(election):
    candidates, ballots = election
    result = instant_runoff(ballots, candidates)
    exhausted = [r.exhausted for r in result.rounds]
    assert exhausted == sorted(exhausted)  # a ballot that ran out stays out
    for r in result.rounds:
        assert r.continuing + r.exhausted == len(ballots) == result.ballots


@settings(max_examples=300, deadline=None)
@given(elections())
def test_irv_elects_a_majority_of_the_continuing_ballots_or_the_last_one_standing(election):
    candidates, ballots = election
    result = instant_runoff(ballots, candidates)
    final = result.rounds[-1]
    if not ballots:
        assert result.winner is None
        return
    assert result.winner in candidates
    assert 2 * final.counts[result.winner] > final.continuing or len(final.counts) == 1
    eliminated = [r.eliminated for r in result.rounds if r.eliminated is not None]
    assert len(set(eliminated)) == len(eliminated) and result.winner not in eliminated


@settings(max_examples=200, deadline=None)
@given(elections(), st.randoms(use_true_random=False))
def test_irv_is_deterministic_whatever_the_order_of_the_ballots(election, rnd):
    candidates, ballots = election
    first = instant_runoff(ballots, candidates)
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert instant_runoff(shuffled, candidates) == first
    assert instant_runoff(ballots, candidates) == first


# --- sides, quorum, decisions ------------------------------------------------------------


def test_quorum_is_counted_per_side():
    q = polls.quorum({"clinician": 3, "management": 1}, 2, 2)
    assert not q.met and q.short_sides == ("management",) and q.required
    assert polls.quorum({"clinician": 2, "management": 2}, 2, 2).met
    assert not polls.quorum({}, 0, 0).required


@pytest.mark.parametrize(
    ("counts", "visible"),
    [
        ({"clinician": 5, "management": 5, "neutral": 0}, True),
        ({"clinician": 5, "management": 4, "neutral": 0}, False),  # one side too small
        (
            {"clinician": 9, "management": 0, "neutral": 0},
            False,
        ),  # the total minus 9 reveals 0: hide
        ({"clinician": 5, "management": 5, "neutral": 2}, False),  # the total minus both reveals 2
        ({"clinician": 5, "management": 5, "neutral": 5}, True),
    ],
)
def test_results_by_side_need_k_on_each_side_and_no_small_remainder(counts, visible):
    assert polls.breakdown_visible(counts, 5) is visible


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["clinician", "management", "neutral"]), st.integers(0, 12)))
def test_a_visible_breakdown_never_reveals_a_group_under_k(counts):
    if polls.breakdown_visible(counts, 5):
        # Every figure shown or derivable by subtraction from the total is 0 or at least k.
        for value in (counts.get("clinician", 0), counts.get("management", 0)):
            assert value >= 5
        assert counts.get("neutral", 0) in (0,) or counts.get("neutral", 0) >= 5


def test_the_decision_split_maps_answers_to_for_against_abstain_by_side():
    ballots = [
        *_choices("proposal", "agree", "agree", "block", side="clinician"),
        *_choices("proposal", "abstain", "disagree", side="management"),
        *_choices("proposal", "agree", side="neutral"),  # no side column for neutral seats
    ]
    assert polls.decision_split("proposal", ballots) == {
        "clinician_for": 2,
        "clinician_against": 1,
        "clinician_abstain": 0,
        "management_for": 0,
        "management_against": 1,
        "management_abstain": 1,
    }
    assert polls.decision_split("ranked", ballots) is None


def test_every_fixed_answer_has_a_decision_column():
    for kind, mapping in polls.DECISION_SPLIT.items():
        assert set(mapping) == {key for key, _, _ in polls.CHOICES[kind]}


def test_the_draft_outcome_says_when_quorum_was_not_met():
    result = polls.tally("consent", _choices("consent", "consent"))
    q = polls.quorum({"clinician": 1}, 1, 2)
    draft = polls.draft_outcome("Weekly huddles", result, q)
    assert draft.startswith("Poll “Weekly huddles” closed with 1 voter. Quorum not met")
    assert "(management side)" in draft


def test_the_kinds_match_the_model_choices():
    from commonground.deliberation.models import Poll

    assert [k for k, _ in polls.KINDS] == list(Poll.Kind.values)


def test_tallies_are_pure_functions_of_the_ballots():
    rng = random.Random(4)
    ballots = [Ballot(choice=rng.choice(["agree", "abstain", "disagree"])) for _ in range(30)]
    assert polls.tally("proposal", ballots) == polls.tally("proposal", list(reversed(ballots)))
