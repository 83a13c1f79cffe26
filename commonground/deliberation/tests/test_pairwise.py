"""Bradley-Terry ranking of ideas: worked examples checked by hand, properties on random
tournaments (dominance respected, a new win never lowers the winner), finite scores for
unbeaten and uncompared ideas, and the choice of the next pair."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commonground.deliberation import pairwise as pw


def _wins(a: str, b: str, n: int) -> list[tuple[str, str]]:
    return [(a, b)] * n


# --- worked examples ------------------------------------------------------------------------


def test_two_ideas_three_wins_to_one_without_a_prior_give_log_three():
    """A beat B 3 times out of 4. Maximum likelihood: sigma(s_A - s_B) = 3/4, so the difference is
    ln 3 and, centred, s_A = ln 3 / 2. Fisher information of the difference: 4 · 3/4 · 1/4 = 3/4,
    so its variance is 4/3 and each centred score's variance is a quarter of that, 1/3."""
    ranking = pw.fit(["A", "B"], _wins("A", "B", 3) + _wins("B", "A", 1), prior_sd=1e4)
    assert ranking["A"].score == pytest.approx(math.log(3) / 2, abs=1e-6)
    assert ranking["B"].score == pytest.approx(-math.log(3) / 2, abs=1e-6)
    diff, se = ranking.difference("A", "B")
    assert diff == pytest.approx(math.log(3), abs=1e-6)
    assert se == pytest.approx(math.sqrt(4 / 3), rel=1e-5)
    assert ranking["A"].se == pytest.approx(math.sqrt(1 / 3), rel=1e-5)
    assert ranking["A"].chance == pytest.approx(100 * math.sqrt(3) / (1 + math.sqrt(3)), rel=1e-6)
    assert [r.item for r in ranking.rated] == ["A", "B"]
    assert (ranking["A"].wins, ranking["A"].losses, ranking["A"].rank) == (3, 1, 1)


def test_two_ideas_with_a_unit_prior_solve_the_stationary_equation_by_hand():
    """With prior N(0, 1) and s_A = -s_B = x, the mode solves 3 - 4sigma(2x) = x (x ~ 0.343);
    the posterior precision of the difference is 2a + 1 with a = 4 p (1 - p), p = sigma(2x)."""
    ranking = pw.fit(["A", "B"], _wins("A", "B", 3) + _wins("B", "A", 1), prior_sd=1.0)
    x = ranking["A"].score
    assert 0.34 < x < 0.35
    assert 3 - 4 * pw.logistic(2 * x) == pytest.approx(x, abs=1e-9)
    assert ranking["B"].score == pytest.approx(-x, abs=1e-12)
    p = pw.logistic(2 * x)
    a = 4 * p * (1 - p)
    assert ranking.difference("A", "B")[1] == pytest.approx(math.sqrt(2 / (2 * a + 1)), rel=1e-9)
    assert ranking["A"].se == pytest.approx(math.sqrt(2 / (2 * a + 1)) / 2, rel=1e-9)


def test_a_cycle_of_three_ties_everyone_at_zero():
    ranking = pw.fit(["A", "B", "C"], [("A", "B"), ("B", "C"), ("C", "A")])
    assert [r.score for r in ranking.rated] == pytest.approx([0, 0, 0], abs=1e-12)
    # Equal scores keep the order the items were given in.
    assert [r.item for r in ranking.rated] == ["A", "B", "C"]
    assert ranking.too_close_to_call("A") == ["B", "C"]


def test_an_unbeaten_idea_and_an_uncompared_one_stay_finite():
    ranking = pw.fit(["A", "B", "C"], _wins("A", "B", 40))
    a, b, c = ranking["A"], ranking["B"], ranking["C"]
    assert all(math.isfinite(r.score) and math.isfinite(r.se) for r in (a, b, c))
    assert a.score > c.score > b.score
    # Never compared: at the average, with the widest interval.
    assert c.score == pytest.approx(0, abs=1e-9)
    assert c.se > a.se
    assert ranking.clearly_ahead("A", "B")


def test_scores_average_zero_and_comparisons_with_strangers_are_ignored():
    outcomes = _wins("A", "B", 2) + _wins("C", "B", 1) + [("A", "Z"), ("Q", "B"), ("A", "A")]
    ranking = pw.fit(["A", "B", "C"], outcomes)
    assert ranking.n_comparisons == 3
    assert sum(r.score for r in ranking.rated) == pytest.approx(0, abs=1e-12)


def test_no_comparisons_means_no_ranking_yet_in_words():
    ranking = pw.fit(["A", "B"], [])
    assert [r.score for r in ranking.rated] == [0.0, 0.0]
    assert "No one has compared" in ranking.sentence()
    assert pw.fit([], []).sentence() == "There are no ideas to rank yet."


def test_the_sentence_names_the_leader_and_says_how_sure_we_are():
    outcomes = _wins("A", "B", 30) + _wins("A", "C", 30) + _wins("B", "C", 3) + _wins("C", "B", 2)
    ranking = pw.fit(["A", "B", "C"], outcomes)
    text = ranking.sentence({"A": "Protected return slots"}, people=12)
    assert text.startswith("From 65 choices by 12 people, “Protected return slots” comes first")
    assert "clearly ahead of every other idea" in text
    close = pw.fit(["A", "B"], [("A", "B")])
    assert "not clearly ahead of any other idea yet" in close.sentence()


def test_the_same_input_gives_the_same_ranking():
    outcomes = _wins("A", "B", 3) + _wins("B", "C", 2) + _wins("C", "A", 1) + _wins("D", "A", 1)
    first = pw.fit(list("ABCD"), outcomes)
    again = pw.fit(list("ABCD"), list(outcomes))
    assert [(r.item, r.score, r.se) for r in first.rated] == [
        (r.item, r.score, r.se) for r in again.rated
    ]


# --- properties ---------------------------------------------------------------------------

ITEMS = ["A", "B", "C", "D", "E"]
tournaments = st.lists(
    st.tuples(st.sampled_from(ITEMS), st.sampled_from(ITEMS)).filter(lambda p: p[0] != p[1]),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(tournaments, st.data())
def test_an_idea_that_dominates_another_never_scores_below_it(outcomes, data):
    """If A does at least as well as B against every third idea (no fewer wins, no more
    losses) and at least as well head to head, A's score is at least B's."""
    extra = data.draw(st.lists(st.sampled_from(["C", "D", "E"]), max_size=6))
    # Build the dominance: copy B's record onto A, then give A some extra wins.
    mirrored = [(w, loser) for w, loser in outcomes if "A" not in (w, loser)]
    for w, loser in list(mirrored):
        if w == "B":
            mirrored.append(("A", loser))
        if loser == "B":
            mirrored.append((w, "A"))
    mirrored += [("A", k) for k in extra]
    head = data.draw(st.integers(0, 3))
    mirrored += [("A", "B")] * head + [("B", "A")] * data.draw(st.integers(0, head))
    ranking = pw.fit(ITEMS, mirrored)
    assert ranking["A"].score >= ranking["B"].score - 1e-9


@settings(max_examples=150, deadline=None)
@given(tournaments, st.sampled_from(ITEMS), st.sampled_from(ITEMS))
def test_a_new_win_never_lowers_the_winners_score(outcomes, winner, loser):
    if winner == loser:
        return
    before = pw.fit(ITEMS, outcomes)
    after = pw.fit(ITEMS, [*outcomes, (winner, loser)])
    assert after[winner].score >= before[winner].score - 1e-9
    assert after[loser].score <= before[loser].score + 1e-9


@settings(max_examples=100, deadline=None)
@given(tournaments)
def test_scores_and_intervals_are_always_finite_and_ordered(outcomes):
    ranking = pw.fit(ITEMS, outcomes)
    scores = [r.score for r in ranking.rated]
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(scores))
    for r in ranking.rated:
        assert math.isfinite(r.score) and r.se > 0
        assert r.chance_low <= r.chance <= r.chance_high


# --- the next pair ------------------------------------------------------------------------


def test_the_next_pair_prefers_uncompared_ideas_with_close_scores():
    outcomes = _wins("A", "B", 20) + _wins("B", "A", 18) + _wins("A", "C", 25)
    ranking = pw.fit(["A", "B", "C", "D"], outcomes)
    pair = pw.next_pair(ranking, ["A", "B", "C", "D"], seed="p1")
    # D has never been compared: every best pair includes it.
    assert pair is not None and "D" in pair


def test_the_next_pair_skips_pairs_already_judged_and_ends_when_all_are():
    ranking = pw.fit(["A", "B", "C"], [])
    seen = [frozenset(("A", "B")), frozenset(("A", "C"))]
    pair = pw.next_pair(ranking, ["A", "B", "C"], seen=seen, seed=3)
    assert pair is not None and set(pair) == {"B", "C"}
    seen.append(frozenset(("B", "C")))
    assert pw.next_pair(ranking, ["A", "B", "C"], seen=seen, seed=3) is None
    assert pw.next_pair(ranking, ["A"], seed=3) is None


def test_the_next_pair_is_stable_per_seed_and_varies_between_people():
    ranking = pw.fit(list("ABCDEFGH"), [])
    candidates = list("ABCDEFGH")
    assert pw.next_pair(ranking, candidates, seed="p:1") == pw.next_pair(
        ranking, candidates, seed="p:1"
    )
    pairs = {pw.next_pair(ranking, candidates, seed=f"p:{k}") for k in range(20)}
    assert len(pairs) > 5
