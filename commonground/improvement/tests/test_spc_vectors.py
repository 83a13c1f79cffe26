"""Conformance of the SPC engine with the open reference vectors in ``shared/spc-vectors/``.

The vectors (qicharts2 0.8.1 regression references and vignette examples, PowerBI-SPC golden
files generated with qicharts2, NHSRplotthedots 0.2.2 rule cases and series) live outside the
repository, in ``<repo>/../shared/spc-vectors/`` (``COMMONGROUND_SHARED_DIR`` overrides the
``shared`` folder). When they are absent these tests skip; the worked examples of the spec in
``test_spc_examples.py`` still exercise the engine.

Tolerances (spec section 9): relative 1e-9 for full-precision values; absolute
0.5·10^-(precision+2) for the rounded PowerBI-SPC golden files; exact for booleans, integers
and labels.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from commonground.improvement import spc

REL_TOL = 1e-9
# A value expected to be exactly 0 (e.g. a mean of a symmetric series) cannot be compared
# relatively; this absolute floor is far below any figure in the vectors.
ZERO_TOL = 1e-12


def _shared_dir() -> Path:
    override = os.environ.get("COMMONGROUND_SHARED_DIR")
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parents[3]  # tests -> improvement -> commonground -> repo
    assert (repo / "pyproject.toml").is_file(), repo
    return (repo / ".." / "shared").resolve()


VECTORS = _shared_dir() / "spc-vectors"
needs_vectors = pytest.mark.skipif(
    not VECTORS.is_dir(), reason=f"reference vectors not found at {VECTORS}"
)


def _files(pattern: str) -> list[Path]:
    return sorted(VECTORS.glob(pattern)) if VECTORS.is_dir() else []


# --------------------------------------------------------------------------------------------
# Comparison helpers: collect every mismatch so one failing vector reports all its differences.


class Mismatches:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.checked = 0

    def number(self, where: str, got: Any, want: Any, abs_tol: float | None = None) -> None:
        self.checked += 1
        if want is None or (isinstance(want, float) and math.isnan(want)):
            if got is not None:
                self.items.append(f"{where}: got {got!r}, want NA")
            return
        if got is None:
            self.items.append(f"{where}: got NA, want {want!r}")
            return
        if abs_tol is not None:
            ok = math.isclose(got, want, rel_tol=0, abs_tol=abs_tol)
        else:
            ok = math.isclose(got, want, rel_tol=REL_TOL, abs_tol=ZERO_TOL)
        if not ok:
            self.items.append(f"{where}: got {got!r}, want {want!r}")

    def exact(self, where: str, got: Any, want: Any) -> None:
        self.checked += 1
        if got != want or type(got) is not type(want):
            self.items.append(f"{where}: got {got!r}, want {want!r}")

    def check(self) -> None:
        assert self.checked > 0, "nothing was compared"
        assert not self.items, "\n".join(self.items[:40])


def _na(cell: str) -> bool:
    return cell in ("", "NA", "NaN")


def _float(cell: str) -> float | None:
    return None if _na(cell) else float(cell)


def _int(cell: str) -> int | None:
    return None if _na(cell) else int(float(cell))


def _bool(cell: str) -> bool:
    return {"TRUE": True, "FALSE": False, "1": True, "0": False}[cell]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------------------------
# qicharts2 regression references (tests/testthat of qicharts2 0.8.1)

QIC_INDEX = VECTORS / "qicharts2-tests" / "index.json"
QIC_CASES: dict[str, Any] = json.loads(QIC_INDEX.read_text()) if QIC_INDEX.is_file() else {}
SUBGROUP_CHARTS = {"xbar", "s"}
POINT_CASES = sorted(
    name
    for name, case in QIC_CASES.items()
    if case["expected"].endswith(".expected.csv")
    and case["qic_call"]["chart"] not in SUBGROUP_CHARTS
)
SUBGROUP_CASES = sorted(
    name for name, case in QIC_CASES.items() if case["qic_call"]["chart"] in SUBGROUP_CHARTS
)
SUMMARY_CASES = sorted(
    name for name, case in QIC_CASES.items() if case["expected"].endswith("_summary.csv")
)

POINT_NUMBERS = ("cl", "lcl", "ucl")
POINT_INTEGERS = (
    "n_obs",
    "n_useful",
    "longest_run",
    "longest_run_max",
    "n_crossings",
    "n_crossings_min",
)
POINT_BOOLEANS = ("sigma_signal", "runs_signal", "baseline", "include")


def _compare_point(m: Mismatches, where: str, got: dict[str, Any], want: dict[str, str]) -> None:
    """One row of a qicharts2 ``*.expected.csv`` against one point of compute_chart."""
    m.number(f"{where} y", got["y"], _float(want["y"]))
    for key in POINT_NUMBERS:
        m.number(f"{where} {key}", got[key], _float(want[key]))
    for key in POINT_INTEGERS:
        m.exact(f"{where} {key}", got[key], _int(want[key.replace("_", ".")]))
    for key in POINT_BOOLEANS:
        m.exact(f"{where} {key}", got[key], _bool(want[key.replace("_", ".")]))
    m.exact(f"{where} part", got["part"], int(want["part"]))


def _one_based_to_zero(positions: list[int]) -> list[int]:
    return [k - 1 for k in positions]


@needs_vectors
@pytest.mark.parametrize("case_name", POINT_CASES)
def test_qicharts2_regression_points(case_name: str) -> None:
    case = QIC_CASES[case_name]
    call = case["qic_call"]
    rows = _read_csv(VECTORS / "qicharts2-tests" / case["input"])
    want = _read_csv(VECTORS / "qicharts2-tests" / case["expected"])
    assert len(rows) == len(want), "one input row per point in these cases"
    y = [_float(row[call["y"]]) for row in rows]
    n = [_float(row[call["n"]]) for row in rows] if "n" in call else None
    points = spc.compute_chart(
        call["chart"],
        y,
        n=n,
        freeze=call.get("freeze"),
        parts=call.get("part"),
        exclude=_one_based_to_zero(call.get("exclude", [])),
        multiply=call.get("multiply", 1),
        screened_mr=True,  # qicharts2's test suite runs with the package attached
    )
    m = Mismatches()
    for i, (got, expected) in enumerate(zip(points, want, strict=True)):
        _compare_point(m, f"{case_name} point {i + 1}", got, expected)
    m.check()


def _subgroups(rows: list[dict[str, str]], x: str, y: str) -> list[list[float | None]]:
    groups: dict[str, list[float | None]] = {}
    for row in rows:
        if _na(row[x]):  # qicharts2 drops rows without an x before aggregating
            continue
        groups.setdefault(row[x], []).append(_float(row[y]))
    return [groups[key] for key in sorted(groups, key=float)]


@needs_vectors
@pytest.mark.parametrize("case_name", SUBGROUP_CASES)
def test_qicharts2_regression_subgroups(case_name: str) -> None:
    """Xbar and S charts (optional in the spec).

    One deliberate deviation: with varying subgroup sizes qicharts2 pools the standard
    deviations over sum(n_i - 1) of *all* subgroups, so an empty subgroup (NA_test, sample 16)
    counts as -1 degree of freedom (75 instead of 76). The engine treats an empty subgroup as
    missing. The limits then differ from the reference by exactly sqrt(75/76) in half-width;
    every other figure must match as is.
    """
    case = QIC_CASES[case_name]
    call = case["qic_call"]
    rows = _read_csv(VECTORS / "qicharts2-tests" / case["input"])
    want = _read_csv(VECTORS / "qicharts2-tests" / case["expected"])
    groups = _subgroups(rows, call["x"], call["y"])
    assert len(groups) == len(want)
    points = spc.compute_subgroup_chart(call["chart"], groups)

    sizes = [sum(value is not None for value in group) for group in groups]
    reference_dof = sum(size - 1 for size in sizes)
    engine_dof = sum(size - 1 for size in sizes if size > 0)
    varying = len({size for size in sizes if size > 0}) > 1
    ratio = math.sqrt(reference_dof / engine_dof) if varying else 1.0
    if case_name == "NA_test":
        assert (reference_dof, engine_dof) == (75, 76)

    m = Mismatches()
    for i, (got, expected) in enumerate(zip(points, want, strict=True)):
        where = f"{case_name} subgroup {i + 1}"
        if ratio != 1.0:
            # Compare with the reference's limits rescaled to the engine's degrees of freedom
            # (only an Xbar chart has an empty subgroup in the vectors).
            assert call["chart"] == "xbar"
            cl = float(expected["cl"])
            for key in ("lcl", "ucl"):
                if not _na(expected[key]):
                    rescaled = cl + (float(expected[key]) - cl) * ratio
                    expected = {**expected, key: repr(rescaled)}
        _compare_point(m, where, got, expected)
    m.check()


def _hai_series(case: dict[str, Any]) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    """Aggregate hospital_infections as qicharts2 does: per facet and x, y = Σn / Σdays."""
    call = case["qic_call"]
    rows = _read_csv(VECTORS / "qicharts2-tests" / "hospital_infections.input.csv")
    facets = call.get("facets", "")
    categorical = call["x"].startswith("reorder(")
    if categorical:  # hai_4: the last six months, hospitals ordered by mean days (reorder)
        rows = [row for row in rows if row["month"] >= "2016-07-01"]
        days: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            days[row["hospital"]].append(float(row["days"]))
        order = sorted(days, key=lambda h: (math.fsum(days[h]) / len(days[h]), h))
        x_key = "hospital"
    else:
        order = sorted({row["month"] for row in rows})
        x_key = "month"

    def facet_of(row: dict[str, str]) -> tuple[str, str]:
        if facets == "~ infection":
            return (row["infection"], "1")
        if facets == "hospital ~ infection":
            return (row["hospital"], row["infection"])
        return ("1", "1")

    sums: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(lambda: [0.0, 0.0])
    )
    for row in rows:
        cell = sums[facet_of(row)][row[x_key]]
        cell[0] += float(row["n"])
        cell[1] += float(row["days"])
    series = {}
    for facet, by_x in sums.items():
        keys = [x for x in order if x in by_x]
        series[facet] = ([by_x[x][0] for x in keys], [by_x[x][1] for x in keys])
    return series


@needs_vectors
@pytest.mark.parametrize("case_name", SUMMARY_CASES)
def test_qicharts2_regression_summaries(case_name: str) -> None:
    case = QIC_CASES[case_name]
    call = case["qic_call"]
    categorical = call["x"].startswith("reorder(")
    series = _hai_series(case)
    want_rows = _read_csv(VECTORS / "qicharts2-tests" / case["expected"])
    m = Mismatches()
    for want in want_rows:
        facet = (want["facet1"], want["facet2"])
        y, n = series[facet]
        points = spc.compute_chart(
            call["chart"], y, n=n, multiply=call.get("multiply", 1), screened_mr=True
        )
        (got,) = [row for row in spc.summarize_parts(points) if row["part"] == int(want["part"])]
        where = f"{case_name} {facet}"
        for key in (
            "n_obs",
            "n_useful",
            "longest_run",
            "longest_run_max",
            "n_crossings",
            "n_crossings_min",
        ):
            m.exact(f"{where} {key}", got[key], _int(want[key.replace("_", ".")]))
        # Categorical x (a funnel plot): qicharts2 computes the runs figures but never signals.
        runs_signal = False if categorical else got["runs_signal"]
        m.exact(f"{where} runs.signal", int(runs_signal), int(want["runs.signal"]))
        m.number(f"{where} aLCL", got["lcl"], _float(want["aLCL"]))
        m.number(f"{where} CL", got["cl"], _float(want["CL"]))
        m.number(f"{where} aUCL", got["ucl"], _float(want["aUCL"]))
        m.exact(f"{where} sigma.signal", got["sigma_signal"], int(want["sigma.signal"]))
    m.check()


# --------------------------------------------------------------------------------------------
# qicharts2 vignette examples (per-point JSON)

VIGNETTES = _files("qicharts2-vignette/*.json")


@needs_vectors
@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_qicharts2_vignette(path: Path) -> None:
    data = json.loads(path.read_text())
    params, given, expected = data["params"], data["input"], data["expected"]
    points = spc.compute_chart(
        params["chart"],
        given["y"],
        n=given.get("n"),
        freeze=params.get("freeze"),
        parts=params.get("part"),
        exclude=_one_based_to_zero(params.get("exclude", [])),
        multiply=params.get("multiply", 1),
        screened_mr=params["screened_mr"],
    )
    m = Mismatches()
    assert len(points) == len(expected["y"])
    for i, got in enumerate(points):
        where = f"{path.stem} point {i + 1}"
        for key in ("y", "cl", "lcl", "ucl", "lcl95", "ucl95"):
            name = {"lcl95": "lcl.95", "ucl95": "ucl.95"}.get(key, key)
            m.number(f"{where} {key}", got[key], expected[name][i])
        for key in (*POINT_INTEGERS, *POINT_BOOLEANS, "part"):
            m.exact(f"{where} {key}", got[key], expected[key.replace("_", ".")][i])
    m.check()


# --------------------------------------------------------------------------------------------
# PowerBI-SPC golden files (qicharts2 output rounded to precision + 2 decimals)

GOLDEN = _files("powerbi-spc-golden/*.json")


@needs_vectors
@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_powerbi_spc_golden(path: Path) -> None:
    data = json.loads(path.read_text())
    meta, given, expected = data["metadata"], data["inputs"], data["expected"]
    tolerance = 0.5 * 10 ** -(meta["precision"] + 2)
    points = spc.compute_chart(
        meta["chart_type"], given["numerators"], n=given.get("denominators"), screened_mr=True
    )
    m = Mismatches()
    assert len(points) == len(expected["values"])
    for i, got in enumerate(points):
        where = f"{path.stem} point {i + 1}"
        m.number(f"{where} values", got["y"], expected["values"][i], tolerance)
        m.number(f"{where} targets", got["cl"], expected["targets"][i], tolerance)
        if "ul99" not in expected:  # run chart: centre line only
            continue
        sigma = None if got["ucl95"] is None else (got["ucl95"] - got["cl"]) / 2
        derived = {
            "ul99": got["ucl"],
            "ll99": got["lcl"],
            "ul95": got["ucl95"],
            "ll95": got["lcl95"],
            "ul68": None if sigma is None else got["cl"] + sigma,
            "ll68": None if sigma is None else got["cl"] - sigma,
        }
        for key, value in derived.items():
            m.number(f"{where} {key}", value, expected[key][i], tolerance)
    m.check()


# --------------------------------------------------------------------------------------------
# NHSRplotthedots (Making Data Count)

PTD_PATH = VECTORS / "nhsrplotthedots" / "nhsrplotthedots_vectors.json"
PTD: dict[str, Any] = json.loads(PTD_PATH.read_text()) if PTD_PATH.is_file() else {}
PTD_UNITS = PTD.get("unit", [])
PTD_SERIES = sorted(PTD.get("series", {}))


def _run_helper(fun: str, args: dict[str, Any]) -> list[Any]:
    if fun == "ptd_seven_point_one_side_mean":
        return spc.shift_ends(args["v"], 7).tolist()
    if fun == "ptd_part_of_seven_trend":
        return spc.part_of_run(args["v"], 7).tolist()
    if fun == "ptd_seven_point_trend":
        return spc.trend_ends(args["y"], 7).tolist()
    if fun == "ptd_two_in_three":
        return spc.two_in_three_windows(args["v"], args["rtm"]).tolist()
    if fun == "ptd_special_cause_type":
        return spc.special_cause_types(
            args["y"], args["relative_to_mean"], args["close_to_limits"], args["outside_limits"]
        )
    if fun == "ptd_point_type":
        return spc.point_types(args["special_cause_type"], args["improvement_direction"])
    raise AssertionError(f"no adapter for {fun}")


@needs_vectors
@pytest.mark.parametrize(
    "case", PTD_UNITS, ids=[f"{i}-{case['fun']}" for i, case in enumerate(PTD_UNITS)]
)
def test_nhsrplotthedots_rule_helpers(case: dict[str, Any]) -> None:
    assert _run_helper(case["fun"], case["args"]) == case["expected"]


@needs_vectors
@pytest.mark.parametrize("name", PTD_SERIES)
def test_nhsrplotthedots_series(name: str) -> None:
    series = PTD["series"][name]
    screened = "screen_outliers = FALSE" not in series["source"] and "unscreened" not in name
    result = spc.compute_mdc(series["y"], "increase", screen_outliers=screened)
    m = Mismatches()
    for i, got in enumerate(result.points):
        where = f"{name} point {i + 1}"
        m.number(f"{where} mean", got["mean"], series["mean_col"])
        m.number(f"{where} lpl", got["lpl"], series["lpl"])
        m.number(f"{where} upl", got["upl"], series["upl"])
        m.exact(
            f"{where} special_cause_type",
            got["special_cause_type"],
            series["special_cause_type"][i],
        )
        m.exact(f"{where} point_type", got["point_type"], series["point_type"][i])
    m.exact(f"{name} points", len(result.points), len(series["y"]))
    m.check()


# --------------------------------------------------------------------------------------------
# Anhøj thresholds

THRESHOLDS = VECTORS / "anhoej_thresholds_10_100.json"


@needs_vectors
def test_anhoej_thresholds_table() -> None:
    table = json.loads(THRESHOLDS.read_text())
    got = [spc.anhoej_thresholds(n) for n in table["n_useful"]]
    assert [g[0] for g in got] == table["longest_run_max"]
    assert [g[1] for g in got] == table["n_crossings_min"]


def test_vector_folder_is_where_ci_puts_it() -> None:
    """Skips are only acceptable when the shared folder is really absent (not a path bug)."""
    if not VECTORS.is_dir():
        pytest.skip(f"reference vectors not found at {VECTORS}")
    assert QIC_CASES and VIGNETTES and GOLDEN and PTD_UNITS and PTD_SERIES
