"""The SPC engine on the worked examples of the spec, without the shared vector folder.

Figures marked "spc.md" are the worked examples A-D and tables of ``shared/docs/spc.md``
(Common Ground's SPC spec). They are printed there to six decimals, so those comparisons use
an absolute tolerance of 5e-7; where the spec gives the formula, the exact value is checked
to 1e-12 as well. The CDI counts are the ``cdi`` data set of the qicharts2 R package (Anhøj,
GPL-3), used by the qicharts2 vignette and by the spec's run-chart worked example.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from commonground.improvement import spc

SIX_DECIMALS = 5e-7


def close6(got: float | None, want: float) -> bool:
    return got is not None and math.isclose(got, want, rel_tol=0, abs_tol=SIX_DECIMALS)


def exact(got: float | None, want: float) -> bool:
    return got is not None and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15)


# --------------------------------------------------------------------------------------------
# Worked example A (spc.md section 4): made-up weekly median wait in days.

WAITS = [12, 14, 11, 15, 13, 18, 12, 16, 14, 13]


def test_example_a_i_chart_qi_profile() -> None:
    points = spc.compute_chart("i", WAITS)
    amr = 29 / 9  # MRs 2 3 4 2 5 6 4 2 1; screening limit 10.527 removes nothing
    sigma = amr / 1.128
    first = points[0]
    assert exact(first["cl"], 13.8)
    assert close6(sigma, 2.856580)
    assert close6(first["lcl"], 5.230260) and close6(first["ucl"], 22.369740)
    assert close6(first["lcl95"], 8.086840) and close6(first["ucl95"], 19.513160)
    assert exact(first["ucl"], 13.8 + 3 * sigma) and exact(first["lcl95"], 13.8 - 2 * sigma)
    assert all(point["cl"] == first["cl"] and point["ucl"] == first["ucl"] for point in points)
    assert not any(point["sigma_signal"] for point in points)
    # Screening removes nothing here, so the unscreened chart is the same.
    assert spc.compute_chart("i", WAITS, screened_mr=False) == points


def test_example_a_mr_chart() -> None:
    points = spc.compute_chart("mr", WAITS)
    assert points[0]["y"] is None  # the first moving range is undefined
    assert [point["y"] for point in points[1:]] == [2, 3, 4, 2, 5, 6, 4, 2, 1]
    assert close6(points[0]["cl"], 3.222222) and exact(points[0]["cl"], 29 / 9)
    assert close6(points[0]["ucl"], 10.527) and exact(points[0]["ucl"], 3.267 * 29 / 9)
    assert points[0]["lcl"] == 0
    assert exact(points[0]["ucl95"], 3.267 / 3 * 2 * 29 / 9)
    assert not any(point["runs_signal"] for point in points)  # no runs signal on MR charts


def test_example_a_mdc_profile() -> None:
    result = spc.compute_mdc(WAITS, "decrease")
    first = result.points[0]
    assert close6(first["lpl"], 5.228889) and close6(first["upl"], 22.371111)
    assert close6(first["near_lpl"], 8.085926) and close6(first["near_upl"], 19.514074)
    assert exact(first["upl"], 13.8 + 2.66 * 29 / 9)
    # The two profiles differ by 3/1.128 = 2.659574... against 2.66: 0.016 % of the width.
    qi = spc.compute_chart("i", WAITS)[0]
    assert qi["ucl"] != first["upl"]
    assert {point["special_cause_type"] for point in result.points} == {"Common Cause"}
    assert result.variation_icon == "common_cause"
    assert result.assurance_icon is None  # no target
    assert all(point["short_group_warning"] for point in result.points)  # 10 < 13 points


def test_example_a_runs() -> None:
    points = spc.compute_chart("run", WAITS)
    first = points[0]
    assert first["cl"] == 13.5
    assert first["lcl"] is None and first["ucl"] is None
    assert (first["n_useful"], first["longest_run"], first["n_crossings"]) == (10, 2, 8)
    assert (first["longest_run_max"], first["n_crossings_min"]) == (6, 2)
    assert not first["runs_signal"]


# --------------------------------------------------------------------------------------------
# Worked example B (spc.md section 4, the NHSRplotthedots "deviations" vignette series).

DEVIATIONS = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


def test_example_b_mdc_screened_and_unscreened() -> None:
    unscreened = spc.compute_mdc(DEVIATIONS, "increase", screen_outliers=False)
    point = unscreened.points[0]
    assert close6(point["mean"], 1.944444)
    assert close6(point["lpl"], -3.062614) and close6(point["upl"], 6.951503)
    assert exact(point["upl"], 35 / 18 + 2.66 * 32 / 17)

    screened = spc.compute_mdc(DEVIATIONS, "increase")
    point = screened.points[0]
    # The MRs next to the 10 (8 and 9) exceed 3.267 * 32/17 = 6.149 and are dropped: AMR = 1.
    assert close6(point["lpl"], -0.715556) and close6(point["upl"], 4.604444)
    assert exact(point["upl"], 35 / 18 + 2.66)

    for result in (screened, unscreened):
        labels = [p["special_cause_type"] for p in result.points]
        assert labels[4] == "Above UCL"
        assert labels[:4] + labels[5:] == ["Common Cause"] * 17
        assert result.points[4]["point_type"] == "special_cause_improvement"
        assert result.variation_icon == "common_cause"


def test_example_b_screening_on_the_i_chart() -> None:
    screened = spc.compute_chart("i", DEVIATIONS)[0]
    unscreened = spc.compute_chart("i", DEVIATIONS, screened_mr=False)[0]
    assert exact(screened["ucl"], 35 / 18 + 3 * 1 / 1.128)
    assert exact(unscreened["ucl"], 35 / 18 + 3 * (32 / 17) / 1.128)


# --------------------------------------------------------------------------------------------
# Worked example C (spc.md section 5): "% offered an appointment within 10 business days".

OFFERED = [40, 35, 50, 20]
NEW_PATIENTS = [50, 50, 60, 40]


def test_example_c_p_chart() -> None:
    points = spc.compute_chart("p", OFFERED, n=NEW_PATIENTS)
    assert exact(points[0]["cl"], 0.725)  # pooled 145/200, not the mean of the p_i (0.708333)
    expected_limits = {50: (0.535560, 0.914440), 60: (0.552066, 0.897934), 40: (0.513200, 0.936800)}
    for point, n in zip(points, NEW_PATIENTS, strict=True):
        low, high = expected_limits[n]
        assert close6(point["lcl"], low) and close6(point["ucl"], high)
        assert exact(point["ucl"], 0.725 + 3 * math.sqrt(0.725 * 0.275 / n))
    assert [point["sigma_signal"] for point in points] == [False, False, False, True]


def test_example_c_laney_p_prime_chart() -> None:
    z = [
        (c / n - 0.725) / math.sqrt(0.725 * 0.275 / n)
        for c, n in zip(OFFERED, NEW_PATIENTS, strict=True)
    ]
    for got, want in zip(z, [1.187711, -0.395904, 1.879327, -3.186964], strict=True):
        assert close6(got, want)
    sigma_z = float(np.mean(np.abs(np.diff(z)))) / 1.128
    assert close6(sigma_z, 2.637452)
    points = spc.compute_chart("pp", OFFERED, n=NEW_PATIENTS)
    week4 = points[3]
    assert close6(week4["lcl"], 0.166387) and week4["ucl"] == 1  # clamped at 1
    assert not any(point["sigma_signal"] for point in points)
    # U' has the same limits: the scale of sigma_i cancels in sigma_i * sigma_z.
    up = spc.compute_chart("up", OFFERED, n=NEW_PATIENTS)
    assert exact(up[3]["lcl"], week4["lcl"])


# --------------------------------------------------------------------------------------------
# Worked example D (spc.md section 7.5): lower is better, target 10.


def test_example_d_icons() -> None:
    # Twelve weeks fix the limits (near example A's 5.2 / 22.4, which the spec quotes), then
    # eight weeks below the mean, alternating so that no trend forms: the last point is part
    # of "7 Points Below CL".
    baseline = [*WAITS, 15, 13]
    waits = [*baseline, 12, 11, 12, 11, 12, 11, 12, 11]
    result = spc.compute_mdc(waits, "decrease", target=10, fix_after_n_points=12)
    last = result.points[-1]
    assert 5 < last["lpl"] < 10 < last["upl"] < 23
    assert last["special_cause_type"] == "7 Points Below CL"
    assert last["point_type"] == "special_cause_improvement"
    assert result.variation_icon == "improvement_low"
    assert result.assurance_icon == "inconsistent"  # the target lies between the limits
    # The same chart where higher is better is a concern; a neutral measure has no assurance.
    assert spc.compute_mdc(waits, "increase", fix_after_n_points=12).variation_icon == (
        "concern_low"
    )
    neutral = spc.compute_mdc(waits, "neutral", target=10, fix_after_n_points=12)
    assert neutral.variation_icon == "neutral_low" and neutral.assurance_icon is None


@pytest.mark.parametrize(
    ("target", "direction", "icon"),
    [
        (30, "increase", "consistent_fail"),
        (30, "decrease", "consistent_pass"),
        (1, "increase", "consistent_pass"),
        (1, "decrease", "consistent_fail"),
        (14, "increase", "inconsistent"),
    ],
)
def test_assurance_table(target: float, direction: str, icon: str) -> None:
    """spc.md section 7.5: the target against the limits of the last point."""
    assert spc.compute_mdc(WAITS, direction, target=target).assurance_icon == icon


def test_assurance_uses_the_latest_rebase_group() -> None:
    """NHSRplotthedots issue #172: after a rebase the latest limits decide."""
    series = [*WAITS, *[value + 20 for value in WAITS]]
    result = spc.compute_mdc(series, "increase", target=30, rebase=[10])
    assert result.points[-1]["mean"] == 33.8
    assert result.assurance_icon == "inconsistent"  # 30 is inside the second group's limits
    assert spc.compute_mdc(series, "increase", target=30).assurance_icon != "consistent_fail"


# --------------------------------------------------------------------------------------------
# Anhøj thresholds (spc.md section 2) and the CDI run-chart worked example.


@pytest.mark.parametrize(
    ("n_useful", "longest_run_max", "n_crossings_min"),
    [
        (10, 6, 2),
        (12, 7, 3),
        (20, 7, 6),
        (24, 8, 8),
        (30, 8, 10),
        (36, 8, 13),
        (52, 9, 20),
        (100, 10, 41),
    ],
)
def test_anhoej_thresholds(n_useful: int, longest_run_max: int, n_crossings_min: int) -> None:
    assert spc.anhoej_thresholds(n_useful) == (longest_run_max, n_crossings_min)


def test_anhoej_thresholds_undefined_without_useful_points() -> None:
    assert spc.anhoej_thresholds(0) == (None, None)
    assert spc.anhoej_thresholds(1) == (3, 0)


def test_crossings_minimum_is_the_binomial_5_percent_quantile() -> None:
    from math import comb

    for n in range(2, 300, 7):
        k = spc.anhoej_thresholds(n)[1]
        assert k is not None
        cdf = [sum(comb(n - 1, i) for i in range(j + 1)) / 2 ** (n - 1) for j in (k - 1, k)]
        assert cdf[1] >= 0.05 and (k == 0 or cdf[0] < 0.05)


# qicharts2 `cdi` data: hospital-acquired C. difficile infections per month, Nov 2012 - Oct 2015.
CDI = [17, 12, 27, 20, 20, 18, 22, 19, 19, 24, 17, 16, 24, 19, 19, 22, 25, 19,
       17, 6, 25, 17, 11, 14, 9, 11, 7, 13, 5, 5, 3, 5, 9, 4, 5, 9]  # fmt: skip


def test_cdi_run_chart_with_frozen_baseline() -> None:
    """spc.md section 2 worked example (qicharts2 vignette): freeze = 24."""
    points = spc.compute_chart("run", CDI, freeze=24)
    first = points[0]
    assert first["cl"] == 19  # median of months 1-24
    assert first["n_useful"] == 31  # five points equal 19
    assert first["longest_run"] == 15 and first["longest_run_max"] == 8
    assert first["n_crossings"] == 8 and first["n_crossings_min"] == 11
    assert all(point["runs_signal"] for point in points)
    assert [point["baseline"] for point in points] == [True] * 24 + [False] * 12


def test_cdi_run_chart_plain_and_split() -> None:
    plain = spc.compute_chart("run", CDI)[0]
    assert (plain["cl"], plain["n_useful"], plain["longest_run"], plain["n_crossings"]) == (
        17,
        32,
        14,
        6,
    )
    assert plain["runs_signal"]
    split = spc.compute_chart("run", CDI, parts=[24])
    assert split[0]["cl"] == 19 and not split[0]["runs_signal"] and split[0]["n_obs"] == 24
    assert split[30]["cl"] == 6 and split[30]["part"] == 2 and not split[30]["runs_signal"]


def test_cdi_c_chart_split_after_the_change() -> None:
    """qicharts2 vignette: the C-chart mean goes from 19 to 7 with an upper limit near 15."""
    points = spc.compute_chart("c", CDI, parts=[24])
    before, after = points[0], points[30]
    assert round(before["cl"]) == 19 and round(after["cl"]) == 7
    assert exact(after["cl"], 85 / 12)
    assert round(after["ucl"]) == 15 and after["lcl"] == 0  # clamped at zero
    assert exact(after["lcl95"], 85 / 12 - 2 * math.sqrt(85 / 12))  # 2-sigma, not clamped


def test_parts_override_freeze() -> None:
    """spc.md section 1: freeze and parts cannot be combined; parts win (qicharts2 #20)."""
    assert spc.compute_chart("run", CDI, freeze=12, parts=[24]) == spc.compute_chart(
        "run", CDI, parts=[24]
    )


# --------------------------------------------------------------------------------------------
# Other per-chart rules of the spec.


def test_excluded_point_is_off_the_limits_but_still_signals() -> None:
    """spc.md section 1 (qicharts2 ex_7.1_5 / ex_7.3_3 behaviour)."""
    counts = [5, 6, 4, 5, 40, 5, 6, 4, 5, 6]
    with_outlier = spc.compute_chart("c", counts)
    excluded = spc.compute_chart("c", counts, exclude=[4])
    assert exact(excluded[0]["cl"], (sum(counts) - 40) / 9)
    assert with_outlier[0]["cl"] != excluded[0]["cl"]
    assert excluded[4]["sigma_signal"] and not excluded[4]["include"]
    assert excluded[0]["n_obs"] == 9


def test_multiply_scales_values_but_never_signals() -> None:
    plain = spc.compute_chart("u", OFFERED, n=NEW_PATIENTS)
    scaled = spc.compute_chart("u", OFFERED, n=NEW_PATIENTS, multiply=1000)
    for a, b in zip(plain, scaled, strict=True):
        assert exact(b["ucl"], a["ucl"] * 1000) and exact(b["y"], a["y"] * 1000)
        assert a["sigma_signal"] == b["sigma_signal"] and a["runs_signal"] == b["runs_signal"]


def test_g_chart_shows_the_median_and_uses_the_mean_for_limits() -> None:
    days_between = [10, 3, 25, 7, 14, 2, 30, 9, 12, 5]
    point = spc.compute_chart("g", days_between)[0]
    mean = sum(days_between) / 10
    assert point["cl"] == 9.5  # median
    assert exact(point["ucl"], mean + 3 * math.sqrt(mean * (mean + 1)))
    assert point["lcl"] == 0


def test_t_chart_transforms_and_back_transforms() -> None:
    hours = [286, 948, 536, 124, 816, 729, 4, 143, 431, 8, 2837, 596, 81, 227, 603, 492, 1199]
    points = spc.compute_chart("t", hours)
    x = [h ** (1 / 3.6) for h in hours]
    cl_x = sum(x) / len(x)
    assert math.isclose(points[0]["cl"], cl_x**3.6, rel_tol=1e-12)
    assert points[0]["lcl"] == 0  # negative on the transformed scale
    assert [p["y"] for p in points] == hours
    with pytest.raises(ValueError, match="greater than zero"):
        spc.compute_chart("t", [3, 0, 2])


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="unknown chart"):
        spc.compute_chart("xmr", WAITS)
    with pytest.raises(ValueError, match="needs denominators"):
        spc.compute_chart("p", OFFERED)
    with pytest.raises(ValueError, match="no denominator"):
        spc.compute_chart("c", OFFERED, n=NEW_PATIENTS)
    with pytest.raises(ValueError, match="outside"):
        spc.compute_chart("i", WAITS, exclude=[10])
    with pytest.raises(ValueError, match="freeze"):
        spc.compute_chart("i", WAITS, freeze=0)
    with pytest.raises(ValueError, match="improvement_direction"):
        spc.compute_mdc(WAITS, "up")
    with pytest.raises(ValueError, match="fix_after_n_points"):
        spc.compute_mdc(WAITS, "increase", fix_after_n_points=6)
    with pytest.raises(TypeError):
        spc.compute_chart("i", ["12", 13])  # type: ignore[list-item]


# --------------------------------------------------------------------------------------------
# MDC rules (spc.md section 7).


def test_mdc_trend_precedence_and_direction() -> None:
    """A trend may cross the mean; every point of it is flagged with its direction."""
    y = [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 2, 8, 2, 8, 2, 8, 5, 5]
    result = spc.compute_mdc(y, "increase", screen_outliers=False)
    labels = [p["special_cause_type"] for p in result.points]
    assert result.points[0]["mean"] == 4.875  # the trend crosses the mean
    assert labels == ["7 Point Trend (Increasing)"] * 8 + ["Common Cause"] * 8
    falling = spc.compute_mdc([-v for v in y], "increase", screen_outliers=False)
    assert falling.points[0]["special_cause_type"] == "7 Point Trend (Decreasing)"
    assert falling.points[0]["point_type"] == "special_cause_concern"
    assert result.points[0]["point_type"] == "special_cause_improvement"


def test_mdc_tie_breaks_a_trend_and_mean_breaks_a_shift() -> None:
    rising_with_tie = [1, 2, 3, 3, 4, 5, 6, 7]
    assert spc.trend_ends(rising_with_tie).tolist() == [0] * 8
    sides = [1, 1, 1, 0, 1, 1, 1, 1]
    assert spc.shift_ends(sides).tolist() == [0] * 8
    assert spc.shift_ends([1] * 6 + [1, -1]).tolist() == [0] * 6 + [1, 0]


def test_mdc_six_point_rules() -> None:
    y = [10, 11, 9, 10, 11, 9, 13, 13.5, 12.5, 13, 13.2, 12.8]
    seven = spc.compute_mdc(y, "increase", screen_outliers=False)
    six = spc.compute_mdc(y, "increase", screen_outliers=False, rule_length=6)
    assert "6 Points Above CL" in {p["special_cause_type"] for p in six.points}
    assert "7 Points Above CL" not in {p["special_cause_type"] for p in seven.points}
    assert six.profile == "mdc6" and seven.profile == "mdc"


def test_mdc_two_in_three_needs_the_same_side() -> None:
    """NHSRplotthedots issues #143 and #153."""
    assert spc.two_in_three_windows([1, 0, 1], [1, -1, 1]).tolist() == [0, 0, 0]
    assert spc.two_in_three_windows([1, 0, 1], [1, 1, 1]).tolist() == [1, 1, 1]
    labels = spc.special_cause_types(
        [5, 1, 5], [1, 1, 1], [True, False, True], [False, False, False]
    )
    assert labels == ["2 in 3 Above CL", "Common Cause", "2 in 3 Above CL"]


def test_mdc_rebase_groups_and_short_group_warning() -> None:
    series = [*CDI[:24], *CDI[24:]]
    result = spc.compute_mdc(series, "decrease", rebase=[24])
    assert [p["rebase_group"] for p in result.points] == [0] * 24 + [1] * 12
    assert [p["short_group_warning"] for p in result.points] == [False] * 24 + [True] * 12
    assert exact(result.points[0]["mean"], sum(CDI[:24]) / 24)
    assert exact(result.points[-1]["mean"], sum(CDI[24:]) / 12)
