"""The chart view model: engine output in words and as a Vega-Lite spec (no database)."""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any

import pytest

from commonground.improvement import charts, spc
from commonground.improvement.charts import ChartInput, ChartOutput, build_chart

START = datetime.date(2025, 1, 6)  # a Monday
WEEKS = [START + datetime.timedelta(weeks=i) for i in range(40)]
BEFORE = [14, 15, 13, 16, 14, 15, 13, 14, 16, 15, 14, 13]
AFTER = [10, 9, 11, 10, 9, 10, 11, 9, 10, 10, 9, 10]
STEADY = [12, 13, 12, 14, 12, 13, 11, 13, 12, 14, 13, 12] * 2  # 24 weeks, no signal


def chart(values: list[float | None], **options: Any) -> ChartOutput:
    options.setdefault("title", "Median wait")
    options.setdefault("periods", WEEKS[: len(values)])
    return build_chart(ChartInput(values=values, **options))


def rows(output: ChartOutput) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = output.spec["data"]["values"]
    return values


def walk(spec: Any) -> list[dict[str, Any]]:
    """Every unit layer of a (nested) layer spec."""
    found: list[dict[str, Any]] = []
    for layer in spec.get("layer", []):
        found.extend(walk(layer) if "layer" in layer else [layer])
    return found


def mark_type(layer: dict[str, Any]) -> str:
    mark = layer["mark"]
    return str(mark["type"] if isinstance(mark, dict) else mark)


def contrast(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    lum = 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)
    return 1.05 / (lum + 0.05)


# --------------------------------------------------------------------------------------------
# Sentences


@pytest.mark.parametrize("kind", ["run", "i"])
def test_steady_series_is_common_cause_only(kind: str) -> None:
    output = chart(STEADY, chart=kind, direction="decrease", unit="days")
    assert output.summary[0] == "Common-cause variation only: no signals in 24 weeks."
    assert not any(point["signal"] for point in output.points)
    assert output.trial_limits is False
    assert output.variation_icon is None and output.assurance_icon is None


@pytest.mark.parametrize(
    ("direction", "opening"),
    [
        ("decrease", "Special-cause improvement"),
        ("increase", "Special-cause concern"),
        ("neutral", "Special-cause variation"),
    ],
)
def test_downward_shift_on_a_run_chart(direction: str, opening: str) -> None:
    output = chart(BEFORE + AFTER, chart="run", direction=direction)
    engine = spc.compute_chart("run", BEFORE + AFTER)
    assert engine[0]["runs_signal"] and engine[0]["longest_run"] == 12
    # The run starts with the first "after" week: 6 January + 12 weeks.
    assert output.summary[0] == (
        f"{opening} since the week of 31 March 2025: "
        "a shift of 12 points in a row below the median."
    )
    flagged = [i for i, point in enumerate(output.points) if point["signal"]]
    assert flagged == list(range(12, 24))


def test_downward_shift_on_an_i_chart_with_a_frozen_baseline() -> None:
    values = [*BEFORE, 15, 16, *AFTER]  # baseline mean 14.5; the shift starts at index 14
    output = chart(values, chart="i", direction="decrease", unit="days", baseline_points=14)
    # Against the frozen limits most later weeks are also below the lower limit.
    assert output.summary[:2] == [
        "Special-cause improvement: 10 points below the lower limit, the first in the week of "
        "14 April 2025 and the latest in the week of 30 June 2025.",
        "Special-cause improvement since the week of 14 April 2025: "
        "a shift of 12 points in a row below the centre line.",
    ]
    assert (
        "The centre line and limits come from the first 14 weeks (the baseline) and are "
        "extended to later points."
    ) in output.summary
    # The figures are the engine's.
    engine = spc.compute_chart("i", values, freeze=14)
    assert [p["cl"] for p in output.points] == [p["cl"] for p in engine]
    assert [p["ucl"] for p in output.points] == [p["ucl"] for p in engine]


def test_shift_that_has_ended_is_given_from_and_to() -> None:
    values = BEFORE + AFTER + BEFORE  # median 13.5: the last 13 of BEFORE is below it too
    output = chart(values, chart="run", direction="decrease")
    engine = spc.compute_chart("run", values)
    assert engine[0]["runs_signal"] and engine[0]["longest_run"] == 13
    sentence = next(s for s in output.summary if "shift" in s)
    assert sentence == (
        "Special-cause improvement from the week of 24 March 2025 to the week of 16 June 2025: "
        "a shift of 13 points in a row below the median."
    )


def test_run_chart_with_a_baseline() -> None:
    output = chart([*BEFORE, *AFTER], chart="run", direction="decrease", baseline_points=12)
    engine = spc.compute_chart("run", [*BEFORE, *AFTER], freeze=12)
    assert [p["cl"] for p in output.points] == [p["cl"] for p in engine]
    assert (
        "The median comes from the first 12 weeks (the baseline) and is extended to later points."
    ) in output.summary


def test_point_above_the_upper_limit_is_a_concern_with_its_week() -> None:
    values = list(STEADY)
    values[20] = 30
    output = chart(values, chart="i", direction="decrease", unit="days")
    engine = spc.compute_chart("i", values)
    assert [i for i, p in enumerate(engine) if p["sigma_signal"]] == [20]
    assert output.summary[0] == (
        "Special-cause concern: one point above the upper limit in the week of 26 May 2025."
    )
    assert output.points[20]["signal"] == "concern"
    assert output.points[20]["sigma_signal"] is True
    assert output.points[20]["signal_label"] == "Concern: above the upper limit"


def test_point_above_the_upper_limit_is_an_improvement_when_higher_is_better() -> None:
    values = list(STEADY)
    values[20] = 30
    output = chart(values, chart="i", direction="increase")
    assert output.summary[0] == (
        "Special-cause improvement: one point above the upper limit in the week of 26 May 2025."
    )


def test_monthly_periods_are_written_as_months() -> None:
    months = [datetime.date(2024 + (m // 12), m % 12 + 1, 1) for m in range(24)]
    output = chart(BEFORE + AFTER, periods=months, chart="run", period_label="month")
    assert output.summary[0] == (
        "Special-cause variation since January 2025: "
        "a shift of 12 points in a row below the median."
    )
    assert output.points[0]["period_text"] == "January 2024"


def test_too_few_crossings() -> None:
    # Long alternating blocks: no run longer than 8 of 24, but only 3 crossings.
    values = [15.0] * 6 + [10.0] * 6 + [15.0] * 6 + [10.0] * 6
    engine = spc.compute_chart("run", values)[0]
    assert engine["runs_signal"] and engine["longest_run"] <= engine["longest_run_max"]
    output = chart(values, chart="run", direction="decrease")
    assert output.summary[0] == (
        "Special-cause variation over 24 weeks: too few crossings of the median "
        f"(3; at least {engine['n_crossings_min']} expected for 24 points off the median)."
    )


def test_dates_are_written_without_locale() -> None:
    assert charts.format_date(datetime.date(2025, 3, 3)) == "3 March 2025"
    assert charts.format_date(datetime.date(2025, 12, 25)) == "25 December 2025"


# --------------------------------------------------------------------------------------------
# Missing and excluded points, phases, trial limits


def test_missing_points_are_null_in_the_spec_never_zero() -> None:
    values: list[float | None] = list(STEADY)
    values[3] = None
    values[10] = None
    output = chart(values, chart="i", unit="days")
    data = rows(output)
    assert data[3]["value"] is None and data[10]["value"] is None
    assert data[3]["category"] is None
    assert all(row["value"] != 0 for row in data)
    assert output.points[3]["value"] is None
    assert output.n_points == 24 and output.n_values == 22
    # The series line breaks at a missing value instead of joining its neighbours.
    series = [
        layer
        for layer in walk(output.spec)
        if mark_type(layer) == "line" and layer["encoding"]["y"]["field"] == "value"
    ]
    assert series and series[0]["mark"]["invalid"] == "break-paths-show-domains"
    assert "2 weeks have no value: shown as a gap, never as zero." in output.summary
    # The JSON text has null, not 0 or NaN.
    text = json.dumps(output.spec, allow_nan=False)
    assert '"value": null' in text


def test_missing_denominator_makes_the_point_missing() -> None:
    output = chart(
        [40, 35, 50, 20],
        denominators=[50, None, 60, 40],
        chart="p",
        multiply=100,
        unit="%",
    )
    assert output.points[1]["value"] is None
    assert rows(output)[1]["value"] is None


def test_phase_starts_give_separate_centre_lines_matching_the_engine() -> None:
    values = [*BEFORE, 15, 14, *AFTER]
    output = chart(values, chart="i", phase_starts=[14], unit="days")
    engine = spc.compute_chart("i", values, parts=[14])
    for mine, theirs in zip(output.points, engine, strict=True):
        assert mine["phase"] == theirs["part"]
        assert mine["cl"] == theirs["cl"]
        assert mine["lcl"] == theirs["lcl"] and mine["ucl"] == theirs["ucl"]
    data = rows(output)
    assert {row["phase"] for row in data[:14]} == {1}
    assert {row["phase"] for row in data[14:]} == {2}
    assert data[0]["cl"] != data[-1]["cl"]
    lines = [layer for layer in walk(output.spec) if mark_type(layer) == "line"]
    by_field = {layer["encoding"]["y"]["field"]: layer for layer in lines}
    for name in ("cl", "lcl", "ucl"):
        assert by_field[name]["encoding"]["detail"] == {"field": "phase", "type": "nominal"}
    assert by_field["ucl"]["mark"]["strokeDash"]  # limits are dashed, the centre line is not
    assert "strokeDash" not in by_field["cl"]["mark"]
    assert output.n_phases == 2
    assert any(s.startswith("The chart has 2 phases") for s in output.summary)


def test_phase_start_at_zero_is_ignored() -> None:
    output = chart(STEADY, chart="i", phase_starts=[0])
    assert output.n_phases == 1


def test_mdc_phase_starts_are_rebase_indices() -> None:
    values = [*BEFORE, 15, 14, *AFTER]
    output = chart(values, profile="mdc", direction="decrease", phase_starts=[14])
    engine = spc.compute_mdc(values, "decrease", rebase=[14])
    assert [p["cl"] for p in output.points] == [p["mean"] for p in engine.points]
    assert [p["phase"] for p in output.points] == [p["rebase_group"] + 1 for p in engine.points]


def test_trial_limits_under_13_points() -> None:
    short = chart(STEADY[:12], chart="i")
    assert short.trial_limits is True
    assert "Fewer than 13 points: the limits are trial limits." in short.summary
    assert "trial limits" in short.spec["title"]["text"]
    full = chart(STEADY[:13], chart="i")
    assert full.trial_limits is False
    assert not any("trial" in sentence for sentence in full.summary)


def test_trial_limits_for_a_short_phase() -> None:
    values = [*STEADY, 9, 10, 9, 10, 9]
    output = chart(values, chart="i", phase_starts=[24])
    assert output.trial_limits is True
    assert (
        "The limits of the phase starting in the week of 23 June 2025 come from fewer than 13 "
        "points: they are trial limits."
    ) in output.summary


def test_excluded_points_are_kept_off_the_limits_and_circled() -> None:
    values = list(STEADY)
    values[5] = 40
    output = chart(values, chart="i", excluded=[5])
    engine = spc.compute_chart("i", values, exclude=[5])
    assert output.points[5]["excluded"] is True
    assert output.points[5]["cl"] == engine[5]["cl"]
    assert output.points[5]["signal"] == "neutral"  # still gets its sigma signal
    assert "excluded from the limits" in output.points[5]["note"]
    circled = [
        layer
        for layer in walk(output.spec)
        if layer.get("transform") == [{"filter": {"field": "excluded", "equal": True}}]
    ]
    assert len(circled) == 1
    assert any("excluded" in sentence for sentence in output.summary)


# --------------------------------------------------------------------------------------------
# Making Data Count


def test_mdc_worked_example_d_icons_and_assurance() -> None:
    # spc.md 7.5, worked example D: lower is better, target 10, last point in a downward shift.
    values = BEFORE + AFTER
    output = chart(values, profile="mdc", direction="decrease", target=10, unit="days")
    engine = spc.compute_mdc(values, "decrease", target=10)
    assert output.variation_icon == engine.variation_icon == "improvement_low"
    assert output.assurance_icon == engine.assurance_icon == "inconsistent"
    assert output.variation_label == "Special-cause improvement (lower values)"
    assert output.assurance_label == "Hit and miss: may or may not meet the target"
    assert output.profile_label == "MDC 7-point"
    assert (
        "The target of 10 days lies between the process limits: it may or may not be met."
        in output.summary
    )
    assert (
        "Special-cause improvement since the week of 31 March 2025: "
        "12 points in a row below the mean."
    ) in output.summary
    assert output.points[-1]["point_type"] == "special_cause_improvement"
    assert output.points[-1]["special_cause_type"] == "7 Points Below CL"


@pytest.mark.parametrize(
    ("direction", "target", "icon", "words"),
    [
        ("increase", 30, "consistent_fail", "above the upper process limit: the process will not"),
        ("decrease", 30, "consistent_pass", "above the upper process limit: the process meets"),
        ("increase", 1, "consistent_pass", "below the lower process limit: the process meets"),
        ("decrease", 1, "consistent_fail", "below the lower process limit: the process will not"),
    ],
)
def test_mdc_assurance_icons(direction: str, target: float, icon: str, words: str) -> None:
    output = chart(STEADY, profile="mdc", direction=direction, target=target)
    assert output.assurance_icon == icon
    assert output.assurance_label == charts.ASSURANCE_LABELS[icon]
    assert any(words in sentence for sentence in output.summary)


def test_mdc_neutral_direction_has_no_assurance() -> None:
    output = chart(STEADY, profile="mdc", direction="neutral", target=10)
    assert output.assurance_icon is None and output.assurance_label is None
    assert output.variation_icon == "common_cause"
    assert output.variation_label == "Common-cause variation"


def test_every_engine_icon_has_words() -> None:
    icons = {
        spc._variation_icon(kind, sign)
        for kind in (
            "special_cause_improvement",
            "special_cause_concern",
            "special_cause_neutral_high",
            "special_cause_neutral_low",
            "common_cause",
        )
        for sign in (-1, 1)
    }
    assert icons <= set(charts.VARIATION_LABELS)
    assert {"consistent_pass", "consistent_fail", "inconsistent"} == set(charts.ASSURANCE_LABELS)


def test_qi_profile_has_no_icons() -> None:
    output = chart(BEFORE + AFTER, chart="i", direction="decrease", target=10)
    assert output.variation_icon is None and output.assurance_icon is None
    assert output.profile_label == "Anhøj (qicharts2)"


def test_mdc6_uses_six_point_rules() -> None:
    values = [*STEADY[:11], 12, 12, 12, 12, 12, 12, 13.5]  # six points below the mean (12.47)
    six = chart(values, profile="mdc6", direction="decrease")
    seven = chart(values, profile="mdc", direction="decrease")
    assert six.profile_label == "MDC 6-point"
    assert [p["special_cause_type"] for p in six.points[11:17]] == ["6 Points Below CL"] * 6
    assert six.summary[0] == (
        "Special-cause improvement from the week of 24 March 2025 to the week of 28 April 2025: "
        "6 points in a row below the mean."
    )
    assert all(p["special_cause_type"] == "Common Cause" for p in seven.points)


def test_mdc_outside_limit_sentence() -> None:
    values = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]  # spc.md worked example B
    output = chart(values, profile="mdc", direction="decrease")
    assert output.points[4]["special_cause_type"] == "Above UCL"
    assert output.summary[0] == (
        "Special-cause concern: one point above the upper limit in the week of 3 February 2025."
    )


def test_mdc_charts_the_rate_times_multiply() -> None:
    counts, sizes = [40, 35, 50, 20] * 4, [50, 50, 60, 40] * 4
    output = chart(
        counts, denominators=sizes, profile="mdc", multiply=100, unit="%", direction="increase"
    )
    rates = [c / n * 100 for c, n in zip(counts, sizes, strict=True)]
    engine = spc.compute_mdc(rates, "increase")
    assert [p["value"] for p in output.points] == pytest.approx(rates)
    assert [p["ucl"] for p in output.points] == pytest.approx([p["upl"] for p in engine.points])


def test_mdc_short_baseline_is_ignored_with_a_sentence() -> None:
    output = chart(STEADY, profile="mdc", direction="decrease", baseline_points=8)
    engine = spc.compute_mdc(STEADY, "decrease")
    assert [p["cl"] for p in output.points] == [p["mean"] for p in engine.points]
    assert any("shorter than the 12 points" in sentence for sentence in output.summary)


# --------------------------------------------------------------------------------------------
# The spec


def test_spec_is_json_serialisable_and_described() -> None:
    values: list[float | None] = list(BEFORE + AFTER)
    values[2] = None
    output = chart(
        values,
        chart="i",
        direction="decrease",
        target=10,
        unit="days",
        annotations=[(WEEKS[12], "PDSA 2: adopt")],
    )
    text = json.dumps(output.spec, allow_nan=False)
    assert json.loads(text) == output.spec
    assert output.spec["description"] == " ".join(output.summary) == output.description
    assert output.spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert output.spec["width"] == "container"
    assert 200 <= output.spec["height"] <= 320
    x = walk(output.spec)[0]["encoding"]["x"]
    assert x["type"] == "temporal" and x["axis"]["format"]
    # Local dates (no UTC offset), so the browser shows the same calendar day everywhere.
    assert rows(output)[0]["date"] == "2025-01-06T00:00:00"


def test_spec_is_deterministic() -> None:
    def make() -> str:
        return json.dumps(chart(BEFORE + AFTER, chart="i", direction="decrease").spec)

    assert make() == make()


def test_annotations_are_rules_with_short_labels() -> None:
    long_note = "PDSA 3: adopt same-week triage for every new referral"
    output = chart(
        STEADY, chart="i", annotations=[(WEEKS[12], long_note), (WEEKS[4], "PDSA 1: test")]
    )
    group = next(
        layer
        for layer in output.spec["layer"]
        if "layer" in layer and layer["data"]["values"][0].get("date_text")
    )
    notes = group["data"]["values"]
    assert [note["date"] for note in notes] == ["2025-02-03T00:00:00", "2025-03-31T00:00:00"]
    assert notes[1]["text"] == long_note
    assert len(notes[1]["label"]) <= 28 and notes[1]["label"].endswith("…")
    kinds = [mark_type(layer) for layer in group["layer"]]
    assert kinds[0] == "rule" and "text" in kinds
    assert group["layer"][0]["encoding"]["x"]["field"] == "date"


def test_target_is_a_horizontal_rule() -> None:
    output = chart(STEADY, chart="i", target=10, unit="days")
    rules = [
        layer
        for layer in walk(output.spec)
        if mark_type(layer) == "rule" and layer["encoding"].get("y", {}).get("field") == "target"
    ]
    assert len(rules) == 1
    target_data = next(layer for layer in output.spec["layer"] if "layer" in layer)["data"]
    assert target_data["values"][0]["target"] == 10.0


def test_signals_differ_by_colour_and_shape() -> None:
    values = list(STEADY)
    values[20] = 30
    values[8] = 2
    output = chart(values, chart="i", direction="decrease")
    points = walk(output.spec)[-1]
    colour, shape = points["encoding"]["color"], points["encoding"]["shape"]
    assert colour["field"] == shape["field"] == "category"
    assert colour["scale"]["domain"] == shape["scale"]["domain"]
    assert len(set(colour["scale"]["range"])) == len(colour["scale"]["domain"]) == 3
    assert len(set(shape["scale"]["range"])) == 3
    by_category = {row["category"] for row in rows(output)}
    assert by_category == set(colour["scale"]["domain"])
    tooltip_titles = [item["title"] for item in points["encoding"]["tooltip"]]
    assert tooltip_titles == ["Week", "Value", "Centre line", "Limits", "Signal"]


def test_colours_contrast_with_white() -> None:
    for name, colour in charts.COLOURS.items():
        assert contrast(colour) >= 3, name


def test_run_chart_has_no_limit_layers() -> None:
    output = chart(STEADY, chart="run")
    fields = {
        layer["encoding"]["y"]["field"] for layer in walk(output.spec) if mark_type(layer) == "line"
    }
    assert fields == {"cl", "value"}
    assert output.has_limits is False


def test_stepped_p_chart_limits_are_explained() -> None:
    output = chart(
        [40, 35, 50, 20] * 4,
        denominators=[50, 50, 60, 40] * 4,
        chart="p",
        multiply=100,
        unit="%",
        direction="increase",
    )
    engine = spc.compute_chart("p", [40, 35, 50, 20] * 4, n=[50, 50, 60, 40] * 4, multiply=100)
    assert [p["lcl"] for p in output.points] == [p["lcl"] for p in engine]
    assert any("limits step" in sentence for sentence in output.summary)
    assert rows(output)[0]["value_text"] == "80%"


# --------------------------------------------------------------------------------------------
# Input checks


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"periods": WEEKS[:3]}, "periods"),
        ({"periods": [WEEKS[1], WEEKS[0], WEEKS[2], WEEKS[3]]}, "ascending"),
        ({"chart": "xbar"}, "unknown chart"),
        ({"profile": "ihi"}, "unknown profile"),
        ({"direction": "up"}, "unknown direction"),
        ({"phase_starts": [9]}, "phase_starts"),
        ({"excluded": [-1]}, "excluded"),
        ({"period_label": "day"}, "period_label"),
        ({"denominators": [1, 2]}, "denominators"),
        ({"denominators": [10, -1, 10, 10], "profile": "mdc"}, "negative"),
    ],
)
def test_bad_input_is_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        chart([1.0, 2.0, 3.0, 4.0], **options)


def test_empty_series() -> None:
    output = build_chart(ChartInput(title="New measure", periods=[], values=[]))
    assert output.summary == ["No values yet: there is nothing to chart for New measure."]
    assert output.trial_limits is False
    json.dumps(output.spec, allow_nan=False)


def test_numbers_in_sentences_are_short() -> None:
    output = chart(STEADY, profile="mdc", direction="decrease", target=12.3456, unit="%")
    assert any("The target of 12.35%" in sentence for sentence in output.summary)
    assert re.fullmatch(r"\d+(\.\d{1,2})?", output.points[0]["cl_text"])
    assert not math.isnan(output.points[0]["cl"])


# --------------------------------------------------------------------------------------------
# The include template (Django templates only: no database)


def test_include_renders_text_table_and_spec() -> None:
    from django.template.loader import render_to_string

    values: list[float | None] = list(BEFORE + AFTER)
    values[4] = None
    output = chart(values, profile="mdc", direction="decrease", target=10, unit="days")
    html = render_to_string(
        "improvement/includes/chart.html", {"chart": output, "chart_id": "chart-abc"}
    )
    assert '<figure class="chart" id="chart-abc" data-chart-spec="chart-abc-spec">' in html
    assert '<div class="chart-canvas" aria-hidden="true"></div>' in html
    match = re.search(
        r'<script id="chart-abc-spec" type="application/json">(.*?)</script>', html, re.S
    )
    assert match is not None
    assert json.loads(match.group(1)) == output.spec
    assert '<template class="chart-spec">' in html
    assert "MDC 7-point" in html
    assert "Variation: Special-cause improvement (lower values)" in html
    assert "Assurance: Hit and miss" in html
    for sentence in output.summary:
        assert f"<li>{sentence}</li>" in html.replace("&#x27;", "'")
    assert "<summary>Data" in html
    assert "No value" in html  # the missing week
    assert html.count("<tr>") == 1 + len(values)
    assert "Lower process limit" in html
    assert "style=" not in html and "<script>" not in html  # CSP: no inline style or script
