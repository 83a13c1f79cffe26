"""The worked examples of the spec, so that the formulas are tested without shared/.

Source of every number here: shared/docs/common-ground-math.md (sections 4, 7, 8, 9, 10, 12),
which takes them from Pol.is's stored output for the red-dwarf fixture ``below-100-ptpts``
(pol.is conversation 4cvkai2ctw) and the openData conversation ``bg2050-volunteers``
(CC BY 4.0, The Computational Democracy Project). Values are restated, not copied code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from commonground.deliberation.opinion import prop_test, two_prop_test
from commonground.deliberation.opinion.pca import statement_projections
from commonground.deliberation.opinion.stats import (
    Tallies,
    group_informed_consensus,
    majority_consensus,
    priority,
    repness,
)

Z = 1.2816


def test_statement_projection_and_extremity_example() -> None:
    # Section 4: below-100-ptpts, statement 13, agree = -1 convention. The spec's inputs are
    # rounded to 6 digits, hence the 1e-5 tolerance.
    center = np.array([-0.3125])
    comps = np.array([[0.416075], [0.126980]])
    proj = statement_projections(center, comps, n_cmts=44, agree=-1.0)
    assert proj[0] == pytest.approx([-1.897454, -0.579072], abs=1e-5)
    assert float(np.linalg.norm(proj[0])) == pytest.approx(1.983848, abs=1e-5)
    # Our convention (agree = +1) mirrors the point and keeps the extremity.
    ours = statement_projections(-center, comps, n_cmts=44, agree=1.0)
    assert ours[0] == pytest.approx(-proj[0], abs=1e-12)


def test_repness_worked_example() -> None:
    # Section 7: group 0 (11 members), statement 13: na=6, nd=0, ns=6; rest NA=3, ND=4, NS=10.
    na, nd, ns, rest_a, rest_s = 6, 0, 6, 3, 10
    pa = (na + 1) / (ns + 2)
    assert pa == 0.875
    assert float(prop_test(na, ns)) == pytest.approx(2 * math.sqrt(7) * 0.5, abs=1e-12)
    assert float(prop_test(na, ns)) == pytest.approx(2.645751, abs=1e-6)
    assert pa / ((rest_a + 1) / (rest_s + 2)) == pytest.approx(2.625, abs=1e-12)
    rat = float(two_prop_test(na, rest_a, ns, rest_s))
    assert rat == pytest.approx(2.699862, abs=1e-6)
    assert np.float32(rat) == np.float32(2.6998622)  # Pol.is stores float32
    assert float(two_prop_test(nd, 4, ns, rest_s)) < rat


def test_repness_selection_on_worked_example_counts() -> None:
    # Two groups; statement 13's counts for group 0 as in section 7, with the rest split so
    # that group 1 holds NA=3, ND=4, NS=10. It is sufficient and group 0's best-agree.
    t = Tallies(
        agree=np.array([[6], [3]]),
        disagree=np.array([[0], [4]]),
        seen=np.array([[6], [10]]),
        n_members=np.array([11, 12]),
    )
    reps = repness(t, [13], np.array([False]))
    (entry,) = reps[0]
    assert entry.statement == 13 and entry.best_agree and entry.repful_for == "agree"
    assert (entry.n_success, entry.n_trials) == (6, 6)
    assert entry.repness == pytest.approx(2.625) and entry.repness_test == pytest.approx(2.699862)


def test_two_prop_test_returns_zero_when_pooled_rate_is_one() -> None:
    # Section 7: "return 0 when p̂ = 1" (every voter in both sets succeeded).
    assert float(two_prop_test(5, 7, 5, 7)) == 0.0


def test_majority_consensus_worked_example() -> None:
    # Section 8: below-100-ptpts statement 26: na=15, ns=16 -> pa=16/18, pat=3.638034.
    cons = majority_consensus(
        agree=np.array([15, 1]),
        disagree=np.array([0, 0]),
        seen=np.array([16, 16]),
        statements=[26, 27],
        mod_out=np.array([False, False]),
    )
    (first,) = cons["agree"]
    assert first.statement == 26 and (first.n_success, first.n_trials) == (15, 16)
    assert first.p_success == pytest.approx(16 / 18, abs=1e-12)
    assert first.p_test == pytest.approx(2 * math.sqrt(17) * (16 / 17 - 0.5), abs=1e-12)
    assert first.p_test == pytest.approx(3.638034, abs=1e-6)
    assert cons["disagree"] == []


def test_majority_consensus_excludes_moderated_out_and_keeps_top_five() -> None:
    n = 8
    cons = majority_consensus(
        agree=np.array([13 + j for j in range(n)]),
        disagree=np.zeros(n, dtype=np.int64),
        seen=np.full(n, 20),
        statements=list(range(n)),
        mod_out=np.array([False] * (n - 1) + [True]),
    )
    assert [e.statement for e in cons["agree"]] == [6, 5, 4, 3, 2]


def _tallies(a: list[list[int]], s: list[list[int]]) -> Tallies:
    agree = np.array(a)
    return Tallies(agree, np.zeros_like(agree), np.array(s), np.array([max(r) for r in s]))


def test_gic_worked_examples() -> None:
    # Section 9: below-100-ptpts statement 13: (A, S) = (6, 6), (3, 3), (0, 7).
    gic = group_informed_consensus(_tallies([[6], [3], [0]], [[6], [3], [7]]))
    assert gic[0] == pytest.approx(7 / 8 * 4 / 5 * 1 / 9, abs=1e-15)
    assert gic[0] == pytest.approx(0.077778, abs=1e-6)
    # bg2050-volunteers statement 2: (50, 56), (6, 7).
    gic = group_informed_consensus(_tallies([[50], [6]], [[56], [7]]))
    assert gic[0] == pytest.approx(51 / 58 * 7 / 9, abs=1e-15)
    assert gic[0] == pytest.approx(0.683908, abs=1e-6)


def test_priority_worked_example() -> None:
    # Section 10: statement 13, A=9, D=4, S=16 over the groups, extremity 1.983848.
    t = Tallies(np.array([[9]]), np.array([[4]]), np.array([[16]]), np.array([23]))
    value = priority(t, np.array([1.983848]), np.array([False]))
    importance = (1 - 4 / 18) * (1.983848 + 1) * (10 / 18)
    assert importance == pytest.approx(1.289317, abs=1e-6)
    assert value[0] == pytest.approx((importance * (1 + 8 * 2 ** (-3.2))) ** 2, abs=1e-12)
    assert value[0] == pytest.approx(5.816456, abs=1e-5)
    assert priority(t, np.array([1.983848]), np.array([True]))[0] == 49.0


def test_small_sample_acceptance_table() -> None:
    # Section 12: minimum agrees with pa > 0.5 and pat > 1.2816 for ns = 1..10.
    expected = [1, 2, 3, 3, 4, 5, 5, 6, 7, 7]
    found = []
    for ns in range(1, 11):
        for na in range(ns + 1):
            if (na + 1) / (ns + 2) > 0.5 and float(prop_test(na, ns)) > Z:
                found.append(na)
                break
    assert found == expected
    assert float(prop_test(1, 1)) == pytest.approx(math.sqrt(2))
