"""The CSV parsing and JSON formatting behind ``commonground spc`` (no app registration needed)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from commonground.improvement import cli
from commonground.improvement.management.commands.spc import Command

WAITS = [12, 14, 11, 15, 13, 18, 12, 16, 14, 13]  # spc.md worked example A


def csv_text(header: str | None, rows: list[str]) -> str:
    return "\n".join(([header] if header else []) + rows) + "\n"


@pytest.mark.parametrize("header", ["y", "Value", "values", "count", "numerator", "wait_days"])
def test_value_column_names(header: str) -> None:
    series = cli.read_series(csv_text(header, [str(v) for v in WAITS]))
    assert series.y == WAITS and series.n is None


def test_values_and_denominators_among_other_columns() -> None:
    text = csv_text(
        "week,count,size,note", ["2025-01-06,40,50,", "2025-01-13,35,50,x", "2025-01-20,,60,"]
    )
    series = cli.read_series(text)
    assert series.y == [40, 35, None]
    assert series.n == [50, 50, 60]


def test_headerless_csv_and_missing_tokens() -> None:
    assert cli.read_series("3\nNA\n\n5\nnull\n").y == [3, None, 5, None]
    series = cli.read_series("40,50\n35,50\n")
    assert series.y == [40, 35] and series.n == [50, 50]
    assert cli.read_series("\ufeffy\n1\n2\n").y == [1, 2]  # a byte-order mark from Excel
    assert cli.read_series("\ufeffy,n\n1,2\n").n == [2]  # the header still matches


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no data"),
        ("y\n", "header but no data"),
        ("week,median\n1,3\n", "no value column"),
        ("y\n3\nthree\n", "line 3, column y"),
        ("1,2,3\n", "one column"),
        ("y\ninf\n", "infinite"),
    ],
)
def test_unusable_csv(text: str, message: str) -> None:
    with pytest.raises(cli.SpcInputError, match=message):
        cli.read_series(text)


def test_int_lists() -> None:
    assert cli.parse_int_list("24, 36", "--parts") == [24, 36]
    assert cli.parse_int_list(None, "--parts") == []
    with pytest.raises(cli.SpcInputError, match="--parts"):
        cli.parse_int_list("24,x", "--parts")


def test_qi_profile_prints_a_points_array() -> None:
    series = cli.read_series(csv_text("y", [str(v) for v in WAITS]))
    output = json.loads(cli.to_json(cli.run(series, chart="i", freeze=8)))
    assert isinstance(output, list) and len(output) == 10
    assert output[0]["cl"] == pytest.approx(sum(WAITS[:8]) / 8)
    assert [p["baseline"] for p in output] == [True] * 8 + [False] * 2
    run_chart = json.loads(cli.to_json(cli.run(series, chart="run", parts=[5])))
    assert run_chart[0]["lcl"] is None and run_chart[9]["part"] == 2


def test_mdc_profile_prints_points_and_icons() -> None:
    series = cli.read_series(csv_text("y", [str(v) for v in WAITS]))
    output = json.loads(cli.to_json(cli.run(series, profile="mdc", direction="decrease")))
    assert set(output) == {"profile", "points", "variation_icon", "assurance_icon"}
    assert output["points"][0]["upl"] == pytest.approx(13.8 + 2.66 * 29 / 9)
    assert output["variation_icon"] == "common_cause" and output["assurance_icon"] is None
    rebased = cli.run(series, profile="mdc", parts=[5], target=10)
    assert isinstance(rebased, dict)
    assert [p["rebase_group"] for p in rebased["points"]] == [0] * 5 + [1] * 5
    assert rebased["assurance_icon"] == "inconsistent"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"chart": "p"}, "needs denominators"),
        ({"chart": "p", "profile": "mdc"}, "XmR"),
        ({"direction": "decrease"}, "belong to --profile mdc"),
        ({"profile": "mdc", "exclude": [2]}, "belong to --profile qi"),
        ({"profile": "mdc", "freeze": 5}, "fix_after_n_points"),
        ({"profile": "spc"}, "unknown profile"),
    ],
)
def test_option_errors(kwargs: dict[str, object], message: str) -> None:
    series = cli.Series(y=list(map(float, WAITS)), n=None)
    with pytest.raises(cli.SpcInputError, match=message):
        cli.run(series, **kwargs)  # type: ignore[arg-type]


def test_management_command_class(tmp_path: Path) -> None:
    """The Command class itself (an instance needs no INSTALLED_APPS entry)."""
    path = tmp_path / "waits.csv"
    path.write_text(csv_text("week,y", [f"{i},{v}" for i, v in enumerate(WAITS)]))
    out = io.StringIO()
    call_command(Command(), str(path), "--chart", "i", "--parts", "5", stdout=out)
    points = json.loads(out.getvalue())
    assert len(points) == 10 and points[9]["part"] == 2
    out = io.StringIO()
    call_command(Command(), str(path), "--profile", "mdc", "--direction", "decrease", stdout=out)
    assert json.loads(out.getvalue())["variation_icon"] == "common_cause"
    with pytest.raises(CommandError, match="cannot read"):
        call_command(Command(), str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="needs denominators"):
        call_command(Command(), str(path), "--chart", "p")


def test_an_empty_denominator_column_counts_as_no_denominators():
    from commonground.improvement.cli import read_series

    series = read_series("y,n\n12,\n15,\n11,\n")
    assert series.y == [12.0, 15.0, 11.0]
    assert series.n is None
