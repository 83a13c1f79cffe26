"""Plain functions behind ``commonground spc``: read a CSV, run the SPC engine, print JSON.

No Django import, so the parsing and formatting are tested without a configured project; the
management command (``management/commands/spc.py``) only wires them to the command line.

CSV input
    One value per line, in time order, with an optional header row. Accepted headers
    (case-insensitive): values ``y``, ``value``, ``values``, ``count``, ``numerator``;
    denominators ``n``, ``denominator``, ``size``. Other columns (dates, notes) are ignored.
    A file with a single column uses it as the values whatever its header. Without a header
    the first column is ``y`` and a second one, if any, is ``n``. An empty cell or ``NA``,
    ``NaN``, ``null``, ``None`` is a missing point (never zero).

Output
    QI profile: a JSON array with one object per point (see ``spc.compute_chart``).
    MDC profile: a JSON object with ``points`` (see ``spc.compute_mdc``), ``variation_icon``
    and ``assurance_icon``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from commonground.improvement import spc

Y_HEADERS = ("y", "value", "values", "count", "numerator")
N_HEADERS = ("n", "denominator", "size")
MISSING_TOKENS = frozenset({"", "na", "nan", "null", "none"})
PROFILE_CHOICES = ("qi", "mdc")


class SpcInputError(ValueError):
    """The CSV or the options cannot be used; the message is meant for the user."""


@dataclass(frozen=True)
class Series:
    y: list[float | None]
    n: list[float | None] | None


def _number(cell: str, line: int, column: str) -> float | None:
    text = cell.strip()
    if text.lower() in MISSING_TOKENS:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SpcInputError(f"line {line}, column {column}: {text!r} is not a number") from None
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise SpcInputError(f"line {line}, column {column}: infinite value")
    return value


def _is_number_or_missing(cell: str) -> bool:
    text = cell.strip()
    if text.lower() in MISSING_TOKENS:
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_series(text: str) -> Series:
    """Values (and denominators) from CSV text; see the module docstring for the format."""
    rows = [
        (number, row)
        for number, row in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1)
        if any(cell.strip() for cell in row)
    ]
    if not rows:
        raise SpcInputError("the CSV has no data")
    first = rows[0][1]
    has_header = not all(_is_number_or_missing(cell) for cell in first)
    if has_header:
        headers = [cell.strip().lower() for cell in first]
        rows = rows[1:]
        y_col = next((headers.index(h) for h in Y_HEADERS if h in headers), None)
        if y_col is None and len(headers) == 1:
            y_col = 0
        if y_col is None:
            raise SpcInputError(
                f"no value column: name it one of {', '.join(Y_HEADERS)} "
                f"(found {', '.join(headers)})"
            )
        n_col = next((headers.index(h) for h in N_HEADERS if h in headers), None)
        y_name = headers[y_col]
        n_name = headers[n_col] if n_col is not None else ""
    else:
        if len(first) > 2:
            raise SpcInputError("a CSV without a header may have one column (y) or two (y, n)")
        y_col, n_col = 0, (1 if len(first) == 2 else None)
        y_name, n_name = "y", "n"
    if not rows:
        raise SpcInputError("the CSV has a header but no data")

    y: list[float | None] = []
    n: list[float | None] = []
    for line, row in rows:
        cells = row + [""] * (max(y_col, n_col or 0) + 1 - len(row))
        y.append(_number(cells[y_col], line, y_name))
        if n_col is not None:
            n.append(_number(cells[n_col], line, n_name))
    # A denominator column left entirely empty means "no denominators", not "every point
    # missing" (a spreadsheet export often keeps the header of an unused column).
    has_denominators = n_col is not None and any(value is not None for value in n)
    return Series(y=y, n=n if has_denominators else None)


def parse_int_list(text: str | None, name: str) -> list[int]:
    """``"24, 36"`` -> ``[24, 36]``; empty or None -> ``[]``."""
    if text is None or not text.strip():
        return []
    out = []
    for item in text.split(","):
        try:
            out.append(int(item.strip()))
        except ValueError:
            raise SpcInputError(f"{name}: {item.strip()!r} is not a whole number") from None
    return out


def run(
    series: Series,
    *,
    chart: str = "i",
    freeze: int | None = None,
    parts: Sequence[int] = (),
    exclude: Sequence[int] = (),
    multiply: float = 1,
    screen: bool = True,
    profile: str = "qi",
    direction: str | None = None,
    target: float | None = None,
    rule_length: int = 7,
) -> list[dict[str, Any]] | dict[str, Any]:
    """Run the engine for one series.

    ``profile="qi"`` calls ``spc.compute_chart`` (``screen`` is ``screened_mr``).
    ``profile="mdc"`` calls ``spc.compute_mdc`` on an XmR chart (``chart`` must be ``i``):
    ``parts`` become rebase points (a new group after the k-th point), ``freeze`` becomes
    ``fix_after_n_points``, ``direction`` defaults to ``increase`` (as in NHSRplotthedots)
    and ``screen`` is ``screen_outliers``. Engine errors become :class:`SpcInputError`.
    """
    try:
        if profile == "qi":
            if direction is not None or target is not None:
                raise SpcInputError("--direction and --target belong to --profile mdc")
            return spc.compute_chart(
                chart,
                series.y,
                n=series.n,
                freeze=freeze,
                parts=list(parts),
                exclude=list(exclude),
                multiply=multiply,
                screened_mr=screen,
            )
        if profile == "mdc":
            if chart != "i":
                raise SpcInputError("the MDC profile is an XmR chart: use --chart i")
            if exclude or multiply != 1:
                raise SpcInputError("--exclude and --multiply belong to --profile qi")
            y = series.y
            if series.n is not None:
                y = [
                    None if a is None or b is None or b == 0 else a / b
                    for a, b in zip(series.y, series.n, strict=True)
                ]
            result = spc.compute_mdc(
                y,
                direction or "increase",
                target=target,
                rebase=[k for k in parts if 0 < k < len(y)],
                fix_after_n_points=freeze,
                screen_outliers=screen,
                rule_length=rule_length,
            )
            return result.as_dict()
    except (ValueError, TypeError) as error:
        if isinstance(error, SpcInputError):
            raise
        raise SpcInputError(str(error)) from error
    raise SpcInputError(
        f"unknown profile {profile!r}; expected one of {', '.join(PROFILE_CHOICES)}"
    )


def to_json(result: list[dict[str, Any]] | dict[str, Any], indent: int | None = 2) -> str:
    """Strict JSON (no NaN: undefined values are already None)."""
    return json.dumps(result, indent=indent, allow_nan=False, ensure_ascii=False)
