"""Reads and view models for the access dashboards (clinic and region). Aggregates only.

Every count that leaves here has been through ``suppression``: each table is suppressed as a
whole with its row and column totals (primary and complementary suppression), a rate and its
denominator are shown only when both the compliant and the noncompliant cells are, and wait
statistics only over 11 waits or more. Pages, CSV exports and evidence files all use the same
``Table`` objects, so no exit shows an unsuppressed number.

Queries are constant per page: the runs, the settings and the scope's aggregates (and, on the
region page, the clinics' parity rows), whatever the number of periods or clinics.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from commonground.access import parity, suppression
from commonground.access.calendars import CALENDARS, alternate
from commonground.access.models import AccessAggregate, AccessSettings, AggregateRun
from commonground.core.exports import safe_cell
from commonground.organizations.models import Clinic, Region

DMHC_STANDARD = 0.70
HIDDEN_COUNTS = "counts under 11, and counts they could be worked out from, are hidden"
SUPPRESSION_NOTE = (
    f"counts from 1 to 10, and counts they could be worked out from, shown as "
    f"{suppression.SUPPRESSED}"
)
MONTHS_SHOWN = 24
WEEKS_SHOWN = 26
BREAKDOWN_MONTHS = 12
PARITY_MONTHS = 12

DASHBOARD_METRICS = ("initial_non_urgent_mh", "initial_psychiatry", "follow_up_sb221", "urgent")
METRIC_LABELS = {
    "initial_non_urgent_mh": "First therapy appointment within 10 business days",
    "initial_psychiatry": "First psychiatry appointment within 15 business days",
    "follow_up_sb221": "Follow-up within 10 business days",
    "urgent": "Urgent appointment within 48 hours (96 with prior authorisation)",
    "initial_primary_care": "First primary care appointment within 10 business days",
    "initial_specialist": "First specialist appointment within 15 business days",
}
WAIT_UNITS = {"urgent": "hours"}
STATUS_COLUMNS = (
    ("compliant", "Met the standard"),
    ("noncompliant", "Missed it"),
    ("exception", "Documented exception"),
    ("patient_preference", "Patient chose later"),
    ("pending", "Still open"),
    ("unknown_request_date", "No request date"),
)
DIMENSIONS = {
    "provider_class": "Provider class",
    "modality": "Modality",
    "product_line": "Product line",
}
VALUE_LABELS = {
    "lcsw": "LCSW",
    "lmft": "LMFT",
    "lpcc": "LPCC",
    "psych_np": "Psychiatric NP",
    "sud_counselor": "SUD counselor",
    "aba": "ABA",
    "pcp": "Primary care",
    "specialist_md": "Specialist physician",
    "in_person": "In person",
    "medi_cal": "Medi-Cal",
    "unknown": "Not recorded",
}
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
COLOURS = {"series": "#0072b2", "standard": "#8a4b08", "p90": "#52606d"}


def value_label(value: str) -> str:
    return VALUE_LABELS.get(value, value.replace("_", " ").capitalize())


def month_text(day: dt.date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.year}"


def period_text(day: dt.date, period: str) -> str:
    return (
        f"Week of {day.day} {_MONTHS[day.month - 1]} {day.year}"
        if period == "week"
        else month_text(day)
    )


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


# -- scope and data --------------------------------------------------------------------------


@dataclass
class Scope:
    region: Region
    clinic: Clinic | None = None

    @property
    def name(self) -> str:
        return self.clinic.name if self.clinic is not None else self.region.name

    @property
    def slug(self) -> str:
        return self.clinic.slug if self.clinic is not None else self.region.slug


@dataclass
class Data:
    scope: Scope
    run: AggregateRun | None  # the figures shown (latest finished run)
    active: AggregateRun | None  # a recompute queued or running
    settings: AccessSettings
    rows: list[AccessAggregate]
    clinic_parity_rows: list[AccessAggregate] = field(default_factory=list)
    # On a region dashboard, its clinics' rows of the same figures (see _status_table).
    clinic_rows: list[AccessAggregate] = field(default_factory=list)
    # Per metric, its month, week and breakdown tables suppressed together (``linked``).
    linked_tables: dict[str, dict[str, suppression.Published]] = field(default_factory=dict)

    @property
    def latest(self) -> dt.date | None:
        """The newest month of appointment figures (slots and encounters keep their own)."""
        return max(
            (
                r.period_start
                for r in self.rows
                if r.period == "month" and r.metric not in SIDE_METRICS
            ),
            default=None,
        )


def load(scope: Scope, *, today: dt.date | None = None) -> Data:
    """The scope's figures: constant queries (runs, settings, aggregates, parity rows)."""
    runs = AggregateRun.objects.filter(region=scope.region).order_by("-created_at")
    # Each asked for on its own: rejected counts uploads or failed runs, however many, never
    # hide the newest figures.
    done = runs.filter(state=AggregateRun.State.DONE).first()
    active = runs.filter(state__in=(AggregateRun.State.QUEUED, AggregateRun.State.RUNNING)).first()
    settings, _ = AccessSettings.objects.get_or_create(region=scope.region)
    if done is None:
        return Data(scope, None, active, settings, [])
    base = AccessAggregate.objects.filter(region=scope.region, source=done.source)
    if done.source == "extract":
        base = base.filter(calendar=done.calendar)
    ours = base.filter(clinic=scope.clinic) if scope.clinic else base.filter(clinic__isnull=True)
    rows = list(ours.order_by("period_start"))
    data = Data(scope, done, active, settings, rows)
    latest = data.latest
    if scope.clinic is None:
        data.clinic_rows = list(
            base.filter(clinic__isnull=False, metric__in=[*DASHBOARD_METRICS, *SIDE_METRICS]).only(
                "clinic_id",
                "metric",
                "period",
                "period_start",
                "dimension",
                "value",
                "not_applicable",
                CHANGED,
                *(c for c, _ in STATUS_COLUMNS),
            )
        )
    if scope.clinic is None and latest is not None:
        first = _months_back(latest, PARITY_MONTHS - 1)
        wanted = [m for pair in parity.PAIRS for m in pair[1:]]
        data.clinic_parity_rows = list(
            base.filter(
                clinic__isnull=False,
                period="month",
                dimension="total",
                metric__in=wanted,
                period_start__gte=first,
            )
        )
    return data


def _months_back(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, 1)


# -- tables ----------------------------------------------------------------------------------


@dataclass
class Table:
    """A suppressed table: what a page, a CSV export and an evidence file show."""

    key: str
    title: str
    kind: str  # over_time, breakdown, waits, parity
    metric: str
    row_heading: str
    columns: list[tuple[str, str]]  # (key, heading)
    rows: list[dict[str, Any]]  # {"key", "label", "cells": {col: text}, ...numbers for charts}
    summary: list[str]
    notes: list[str] = field(default_factory=list)
    spec: dict[str, Any] | None = None

    def csv_bytes(self, scope: Scope, data: Data) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([self.row_heading, *(h for _, h in self.columns)])
        for row in self.rows:
            writer.writerow(
                [safe_cell(row["label"]), *(safe_cell(row["cells"][k]) for k, _ in self.columns)]
            )
        width = len(self.columns) + 1
        pad = [""] * (width - 2)
        writer.writerow(["", *([""] * (width - 1))])
        writer.writerow(["Scope", safe_cell(scope.name), *pad])
        writer.writerow(["Table", safe_cell(self.title), *pad])
        if data.run is not None:
            writer.writerow(["Figures as of", str(data.run.as_of or ""), *pad])
            # "name@version" reads as an e-mail address to the evidence checker: spell it out.
            calendar = (data.run.calendar or "as supplied").replace("@", " version ")
            writer.writerow(["Calendar", safe_cell(calendar), *pad])
        writer.writerow(["Suppression", SUPPRESSION_NOTE, *pad])
        return out.getvalue().encode("utf-8")

    @property
    def lines(self) -> list[dict[str, Any]]:
        """Rows for a template: label, total flag and the cells in column order."""
        return [
            {
                "label": r["label"],
                "is_total": r["is_total"],
                "values": [r["cells"][k] for k, _ in self.columns],
            }
            for r in self.rows
        ]

    @property
    def filename(self) -> str:
        return f"access-{self.key.replace('.', '-')}.csv"


def _status_table(
    counts: dict[str, dict[str, int]],
    keys: Sequence[str],
    parts: Iterable[dict[str, dict[str, int]]] = (),
    columns: Sequence[tuple[str, str]] = STATUS_COLUMNS,
) -> suppression.Published:
    """The suppressed status table. ``parts`` are the same table for each clinic of a region
    table: their readers see both, so the region hides what would give a clinic's cell away."""
    cols = [c for c, _ in columns]

    def flat(table: dict[str, dict[str, int]]) -> dict[tuple[str, str], int]:
        return {(r, c): table.get(r, {}).get(c, 0) for r in keys for c in cols}

    published = [suppression.two_way(flat(part), list(keys), cols) for part in parts]
    whole = flat(counts)
    if not published:
        return suppression.two_way(whole, list(keys), cols)
    return suppression.two_way(
        whole,
        list(keys),
        cols,
        forced=suppression.across_parts(published, list(keys), cols, whole=whole),
        known=suppression.known_from_parts(published, list(keys), cols, whole),
        parts=published,
    )


# -- tables that show the same units ---------------------------------------------------------
#
# A metric's month table, week table and breakdowns count the same units: a month is the sum
# of its weeks (a weekly counts upload's months are), and a breakdown's "All" row is the sum
# of its twelve months. Suppressed one by one, a hidden week would follow from its month and
# the month's other weeks, and a hidden month from a breakdown's total and the other months.
# So they are suppressed together, as one system of lines: each table's own margins, and a
# line for each of these sums that holds in the figures.

LINKED_KINDS = ("month", "week", *DIMENSIONS)


@dataclass
class LinkedCounts:
    """A metric's linked tables before suppression."""

    tables: dict[str, dict[str, dict[str, int]]]  # per kind: status counts by row key, in order
    breakdown_months: list[str]  # the months a breakdown's "All" row sums
    months_of_weeks: bool = False  # a month counts the weeks starting in it (counts uploads)
    as_of: dt.date | None = None  # the figures' cut-off: no unit is dated after it


def _linked_counts(
    rows: Sequence[AccessAggregate], metric: str, *, months_of_weeks: bool, as_of: dt.date | None
) -> LinkedCounts:
    """Per table kind, its status counts by row key, in the order the table shows them."""
    tables = {
        period: {
            r.period_start.isoformat(): _counts(r)
            for r in _periods_shown(rows, metric, period, as_of)
        }
        for period in ("month", "week")
    }
    window = _breakdown_window(rows, as_of)
    for dimension in DIMENSIONS:
        tables[dimension] = _breakdown_counts(
            rows, metric, dimension, window[0] if window else None
        )
    months = [] if window is None else [m for m in tables["month"] if m >= window[0].isoformat()]
    return LinkedCounts(tables, months, months_of_weeks=months_of_weeks, as_of=as_of)


def _as_of(data: Data) -> dt.date | None:
    """The figures' cut-off, which every page of the region counts its periods back from."""
    return data.run.as_of if data.run is not None else None


def _calendar_of(data: Data) -> dict[str, Any]:
    """How the figures' months and weeks meet: whether a month counts the weeks starting in
    it (weekly counts uploads), and the cut-off after which nothing is dated."""
    if data.run is not None:
        return {"months_of_weeks": data.run.source == "counts", "as_of": _as_of(data)}
    return {"months_of_weeks": any(r.source == "counts" for r in data.rows[:1]), "as_of": None}


def _month_is_its_weeks(month: str, as_of: dt.date | None = None) -> bool:
    """Whether the weeks (Monday to Sunday) starting in ``month`` hold the same days as the
    month but for days nothing is counted on, as a reader may take it: its days before its
    first Monday, and theirs after its last day, fall on a weekend or after the figures'
    cut-off (it starts on a Saturday, Sunday or Monday, and ends on a Friday, Saturday or
    Sunday or on or after the cut-off)."""
    first = dt.date.fromisoformat(month)
    last = (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
    ends = last.weekday() >= 4 or (as_of is not None and as_of <= last)
    return first.weekday() in (0, 5, 6) and ends


def _linked_system(
    counts: LinkedCounts,
) -> tuple[dict[tuple[str, str, str], int], list[suppression.Line]]:
    """The kinds' tables (``_linked_counts``) as one system: cells keyed (kind, row, column),
    each table's margins, and the sums across the kinds that hold in the figures."""
    total = suppression.TOTAL
    cols = [c for c, _ in STATUS_COLUMNS]
    values: dict[tuple[str, str, str], int] = {}
    lines: list[suppression.Line] = []
    for kind in LINKED_KINDS:
        table = counts.tables[kind]
        for r, cells in table.items():
            for c in cols:
                values[(kind, r, c)] = int(cells.get(c, 0))
            values[(kind, r, total)] = sum(values[(kind, r, c)] for c in cols)
            lines.append(suppression.Line(tuple((kind, r, c) for c in cols), (kind, r, total)))
        for c in [*cols, total]:
            values[(kind, total, c)] = sum(values[(kind, r, c)] for r in table)
            lines.append(suppression.Line(tuple((kind, r, c) for r in table), (kind, total, c)))
        lines.append(suppression.Line(tuple((kind, total, c) for c in cols), (kind, total, total)))

    def link(members: list[tuple[str, str, str]], whole: tuple[str, str, str]) -> None:
        # Only a sum that holds is a line: one that does not gives no cell away.
        if members and sum(values[m] for m in members) == values[whole]:
            lines.append(suppression.Line(tuple(members), whole))

    for c in [*cols, total]:
        for dimension in DIMENSIONS:
            link([("month", m, c) for m in counts.breakdown_months], (dimension, total, c))
        for month in counts.tables["month"]:
            # An extract's month counts its own days and its weeks run Monday to Sunday, so
            # it is the sum of the weeks starting in it only where the days they differ by
            # are weekend days or after the cut-off, when a reader may take it that none was
            # counted. Elsewhere the sum holds by chance, which no reader can know: taken as
            # known, it hid every urgent month of the demo region's page.
            if counts.months_of_weeks or _month_is_its_weeks(month, counts.as_of):
                weeks = [w for w in counts.tables["week"] if w[:7] == month[:7]]
                link([("week", w, c) for w in weeks], ("month", month, c))
    return values, lines


def _suppress_linked(counts: LinkedCounts) -> dict[str, suppression.Published]:
    """The kinds' tables (``_linked_counts``), suppressed as one system of lines."""
    values, lines = _linked_system(counts)
    return _published(values, suppression.suppress(values, lines))


def _published(
    values: Mapping[tuple[str, str, str], int], hidden: set[tuple[str, str, str]]
) -> dict[str, suppression.Published]:
    published = {kind: suppression.Published(values={}, hidden=set()) for kind in LINKED_KINDS}
    for (kind, r, c), value in values.items():
        published[kind].values[(r, c)] = value
        if (kind, r, c) in hidden:
            published[kind].hidden.add((r, c))
    return published


def linked(data: Data, metric: str) -> dict[str, suppression.Published]:
    """The metric's month, week and breakdown tables, suppressed together; on a region page
    also against its clinics' own, as their pages show them (``_against_clinics``). Kept on
    ``data`` and cached per run: a region's takes a suppression of every clinic's."""
    if metric in data.linked_tables:
        return data.linked_tables[metric]
    found = _cached_linked(data.scope.region.pk, data.scope.clinic, data.run, metric)
    if found is None:
        own = _linked_counts(data.rows, metric, **_calendar_of(data))
        if data.scope.clinic is None:
            found = _against_clinics(data, metric, own)
        else:
            found = _suppress_linked(own)
        _cache_linked(data.scope.region.pk, data.scope.clinic, data.run, metric, found)
    data.linked_tables[metric] = found
    return found


def _against_clinics(
    data: Data, metric: str, own: LinkedCounts
) -> dict[str, suppression.Published]:
    """The region's linked tables, suppressed so that nothing a clinic's page hides follows
    from the region's cells, the clinics' and the sums between them
    (``suppression.suppress_with_parts``). Units counted region-wide only (an unmapped clinic
    code) are one more part, never shown, its large cells taken as known."""
    # All a clinic's rows, not only the metric's: they set its breakdowns' months.
    by_clinic: dict[int, list[AccessAggregate]] = defaultdict(list)
    for r in data.clinic_rows:
        if r.clinic_id is not None:
            by_clinic[r.clinic_id].append(r)
    values, lines = _linked_system(own)
    parts: list[suppression.Part] = []
    published: list[dict[str, suppression.Published]] = []
    for clinic_id, rows in by_clinic.items():
        mine = _cached_linked(data.scope.region.pk, clinic_id, data.run, metric)
        counts = _linked_counts(rows, metric, **_calendar_of(data))
        part_values, part_lines = _linked_system(counts)
        if mine is None:
            mine = _published(part_values, suppression.suppress(part_values, part_lines))
            _cache_linked(data.scope.region.pk, clinic_id, data.run, metric, mine)
        published.append(mine)
        theirs = frozenset((kind, r, c) for kind, p in mine.items() for r, c in p.hidden)
        parts.append(suppression.Part(part_values, part_lines, theirs))
    parts = suppression.with_rest(values, lines, parts)
    # Where a rule settles it the cheap way first: a cell hidden by one clinic only is hidden
    # here too; a cell every clinic shows is their sum, so hiding it protects nothing.
    forced: set[tuple[str, str, str]] = set()
    known: set[tuple[str, str, str]] = set()
    cols = [c for c, _ in STATUS_COLUMNS]
    for kind in LINKED_KINDS if published else ():
        keys = list(own.tables[kind])
        whole = {(r, c): own.tables[kind][r][c] for r in keys for c in cols}
        clinic_tables = [p[kind] for p in published]
        forced |= {
            (kind, r, c) for r, c in suppression.across_parts(clinic_tables, keys, cols, whole)
        }
        known |= {
            (kind, r, c) for r, c in suppression.known_from_parts(clinic_tables, keys, cols, whole)
        }
    hidden = suppression.suppress_with_parts(
        values,
        lines,
        parts,
        forced={cell for cell in forced if cell in values},
        known={cell for cell in known if cell in values},
    )
    return _published(values, hidden)


def _linked_key(region_id: int, clinic: Any, run: AggregateRun | None, metric: str) -> str | None:
    if run is None:
        return None
    clinic_id = getattr(clinic, "pk", clinic)
    return f"access-linked:{region_id}:{clinic_id or 'region'}:{run.pk}:{metric}"


def _cached_linked(
    region_id: int, clinic: Any, run: AggregateRun | None, metric: str
) -> dict[str, suppression.Published] | None:
    from django.core.cache import cache

    key = _linked_key(region_id, clinic, run, metric)
    found = cache.get(key) if key else None
    return found if isinstance(found, dict) else None


def _cache_linked(
    region_id: int,
    clinic: Any,
    run: AggregateRun | None,
    metric: str,
    tables: dict[str, suppression.Published],
) -> None:
    from django.core.cache import cache

    if (key := _linked_key(region_id, clinic, run, metric)) is not None:
        cache.set(key, tables, timeout=PANEL_CACHE_SECONDS)


def _clinic_counts(
    data: Data, wanted: Any, key: Any, columns: Sequence[tuple[str, str]] = STATUS_COLUMNS
) -> list[dict[str, dict[str, int]]]:
    """Per clinic, the status counts of the clinic rows ``wanted`` selects, keyed by ``key``."""
    by_clinic: dict[int, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: dict.fromkeys((c for c, _ in columns), 0))
    )
    for r in data.clinic_rows:
        if r.clinic_id is not None and wanted(r):
            cell = by_clinic[r.clinic_id][key(r)]
            for c, n in _counts(r, columns).items():
                cell[c] += n
    return list(by_clinic.values())


def _rate_cells(pub: suppression.Published, row: str) -> tuple[int | None, float | None]:
    c, n = pub.value(row, "compliant"), pub.value(row, "noncompliant")
    if c is None or n is None:
        return None, None
    return c + n, (c / (c + n) if c + n else None)


def _status_rows(
    pub: suppression.Published,
    keys: Sequence[str],
    labels: dict[str, str],
    columns: Sequence[tuple[str, str]] = STATUS_COLUMNS,
) -> list[dict[str, Any]]:
    rows = []
    for key in [*keys, suppression.TOTAL]:
        denominator, rate = _rate_cells(pub, key)
        cells = {c: pub.text(key, c) for c, _ in columns}
        cells["units"] = pub.text(key, suppression.TOTAL)
        cells["denominator"] = suppression.SUPPRESSED if denominator is None else f"{denominator:,}"
        cells["rate"] = pct(rate) if denominator is not None else "not shown"
        if columns is STATUS_COLUMNS:
            cells[SENSITIVITY] = _sensitivity_text(pub, key)
        rows.append(
            {
                "key": key,
                "label": "All" if key == suppression.TOTAL else labels[key],
                "cells": cells,
                "rate": rate,
                "is_total": key == suppression.TOTAL,
            }
        )
    return rows


SENSITIVITY = "sensitivity_rate"
STATUS_TABLE_COLUMNS = [
    ("rate", "Rate"),
    ("denominator", "Rate denominator"),
    (SENSITIVITY, "Rate with exceptions and patient choices counted as missed"),
    *STATUS_COLUMNS,
    ("units", "All units"),
]


def _sensitivity_text(pub: suppression.Published, row: str) -> str:
    """The sensitivity rate (access-and-parity.md 4): met over met, missed, documented
    exceptions and patient choices; shown only when all four cells are."""
    cells = [pub.value(row, c) for c in ("compliant", "noncompliant", "exception")]
    cells.append(pub.value(row, "patient_preference"))
    if any(v is None for v in cells):
        return "not shown"
    met, *rest = (int(v or 0) for v in cells)
    total = met + sum(rest)
    return pct(met / total) if total else "—"


def _counts(
    row: AccessAggregate, columns: Sequence[tuple[str, str]] = STATUS_COLUMNS
) -> dict[str, int]:
    return {c: int(getattr(row, c)) for c, _ in columns}


def _periods_shown(
    rows: Iterable[AccessAggregate], metric: str, period: str, as_of: dt.date | None = None
) -> list[AccessAggregate]:
    """The rows of an over-time table, oldest first: the weeks or months up to the figures'
    cut-off (the latest rows, without one)."""
    wanted = sorted(
        (r for r in rows if r.metric == metric and r.period == period and r.dimension == "total"),
        key=lambda r: r.period_start,
    )
    if as_of is None:
        return wanted[-(WEEKS_SHOWN if period == "week" else MONTHS_SHOWN) :]
    first = _first_period_shown(period, as_of)
    return [r for r in wanted if r.period_start >= first]


def _first_period_shown(period: str, as_of: dt.date) -> dt.date:
    """The oldest week or month an over-time table shows: counted back from the cut-off,
    the same for a region and each of its clinics, so that no clinic's table holds a period
    its region's does not (a clinic whose figures end earlier would otherwise reach further
    back, and its totals would sum other periods than the region's)."""
    if period == "week":  # the 26 weeks starting from 181 days before the cut-off
        return as_of - dt.timedelta(days=7 * WEEKS_SHOWN - 1)
    return _months_back(as_of, MONTHS_SHOWN - 1)


def over_time(data: Data, metric: str, period: str) -> Table:
    wanted = _periods_shown(data.rows, metric, period, _as_of(data))
    keys = [r.period_start.isoformat() for r in wanted]
    labels = {r.period_start.isoformat(): period_text(r.period_start, period) for r in wanted}
    shown_keys = set(keys)

    def clinic_row(r: AccessAggregate) -> bool:  # a clinic's row of a period shown here
        return (
            r.metric == metric
            and r.period == period
            and r.dimension == "total"
            and r.period_start.isoformat() in shown_keys
        )

    def start(r: AccessAggregate) -> str:
        return r.period_start.isoformat()

    pub = linked(data, metric)[period]
    rows = _status_rows(pub, keys, labels)
    title = f"{METRIC_LABELS[metric]}, by {period}"
    table = Table(
        key=f"{period}.{metric}",
        title=title,
        kind="over_time",
        metric=metric,
        row_heading=period.capitalize(),
        columns=STATUS_TABLE_COLUMNS,
        rows=rows,
        summary=[],
    )
    table.summary = over_time_summary(
        metric, period, [(r["key"], r["rate"]) for r in rows if not r["is_total"]]
    )
    calendars = _calendar_names(data, metric)
    if calendars is not None and keys:
        # Suppressed as a table with its total, and on a region page against its clinics'.
        changed_columns = ((CHANGED, ""),)
        changed = _status_table(
            {start(r): _counts(r, changed_columns) for r in wanted},
            keys,
            _clinic_counts(data, clinic_row, start, changed_columns),
            changed_columns,
        )
        table.columns = [*table.columns, (CHANGED, f"Status differs under {calendars[1]}")]
        for row in rows:
            row["cells"][CHANGED] = changed.text(row["key"], CHANGED)
        table.summary.append(
            calendar_summary(
                changed.value(suppression.TOTAL, CHANGED), len(keys), period, *calendars
            )
        )
    table.notes = _proxy_notes(data)
    table.spec = _rate_spec(table, period)
    return table


def over_time_summary(
    metric: str, period: str, series: Sequence[tuple[str, float | None]]
) -> list[str]:
    """Plain words for a rate series: the latest rate against the 70% line, and its run."""
    label = METRIC_LABELS[metric]
    unit = "week" if period == "week" else "month"
    if not series:
        return [f"{label}: no figures yet."]
    out = []
    last_key, last_rate = series[-1]
    last_day = dt.date.fromisoformat(last_key)
    when = (
        f"the week of {last_day.day} {_MONTHS[last_day.month - 1]} {last_day.year}"
        if period == "week"
        else month_text(last_day)
    )
    if last_rate is None:
        out.append(f"{label}: no rate for {when} ({HIDDEN_COUNTS}).")
        published = [(k, r) for k, r in series if r is not None]
        if not published:
            return out
        last_key, last_rate = published[-1]
        last_day = dt.date.fromisoformat(last_key)
        when = (
            f"the week of {last_day.day} {_MONTHS[last_day.month - 1]} {last_day.year}"
            if period == "week"
            else month_text(last_day)
        )
    if last_rate is None:  # pragma: no cover - a published rate was found above
        return out
    below = last_rate < DMHC_STANDARD
    run = 0
    for _, rate in reversed([(k, r) for k, r in series if dt.date.fromisoformat(k) <= last_day]):
        if rate is None or (rate < DMHC_STANDARD) != below:
            break
        run += 1
    where = "below" if below else "at or above"
    sentence = f"{label}: {pct(last_rate)} in {when}, {where} the 70% standard"
    if run >= 2:
        sentence += f" for the {ordinal(run)} {unit} running"
    out.append(sentence + ".")
    return out


CHANGED = "changed_other_calendar"
CALENDAR_NAMES = dict(AccessSettings.CalendarChoice.choices)


def _calendar_names(data: Data, metric: str) -> tuple[str, str] | None:
    """The names of the run's holiday calendar and of the other preset; None where no
    calendar is involved (urgent clocks count hours; weekly counts come as supplied)."""
    if metric == "urgent" or data.run is None or data.run.source != "extract":
        return None
    name = (data.run.calendar or "").split("@")[0]
    if name not in CALENDARS:
        return None
    return CALENDAR_NAMES[name], CALENDAR_NAMES[alternate(name).name]


def calendar_summary(changed: int | None, periods: int, period: str, ours: str, other: str) -> str:
    """Plain words for how many of the shown results the other holiday calendar would change."""
    span = f"these {periods} {period}s" if periods != 1 else f"this {period}"
    prefix = f"Counted with {other} instead of {ours}"
    if changed is None:
        return (
            f"{prefix}, the number of results in {span} whose status would change is not "
            f"shown ({HIDDEN_COUNTS})."
        )
    if changed == 0:
        return f"{prefix}, no result in {span} would change status."
    results = "result" if changed == 1 else "results"
    return f"{prefix}, {changed:,} {results} in {span} would change status."


def _breakdown_window(
    rows: Iterable[AccessAggregate], as_of: dt.date | None = None
) -> tuple[dt.date, dt.date] | None:
    """The twelve months a breakdown sums: up to the month of the figures' cut-off (the same
    for a region and each of its clinics), or without one the newest month of the
    dashboard's metrics."""
    if as_of is not None:
        latest_month = as_of.replace(day=1)
        return (_months_back(latest_month, BREAKDOWN_MONTHS - 1), latest_month)
    latest = max(
        (r.period_start for r in rows if r.period == "month" and r.metric in DASHBOARD_METRICS),
        default=None,
    )
    return None if latest is None else (_months_back(latest, BREAKDOWN_MONTHS - 1), latest)


def _breakdown_counts(
    rows: Iterable[AccessAggregate], metric: str, dimension: str, first: dt.date | None
) -> dict[str, dict[str, int]]:
    """Status counts by the dimension's value over the months from ``first``, in row order."""
    counts: dict[str, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys((c for c, _ in STATUS_COLUMNS), 0)
    )
    for r in rows:
        if (
            r.metric == metric
            and r.period == "month"
            and r.dimension == dimension
            and first is not None
            and r.period_start >= first
        ):
            for c, n in _counts(r).items():
                counts[r.value][c] += n
    keys = sorted(counts, key=lambda v: (v == "unknown", value_label(v)))
    return {k: counts[k] for k in keys}


def breakdown(data: Data, metric: str, dimension: str) -> Table:
    window = _breakdown_window(data.rows, _as_of(data))
    first, latest = window if window else (None, None)
    keys = list(_breakdown_counts(data.rows, metric, dimension, first))
    pub = linked(data, metric)[dimension]
    rows = _status_rows(pub, keys, {k: value_label(k) for k in keys})
    span = f"{month_text(first)} to {month_text(latest)}" if first and latest else "no figures"
    table = Table(
        key=f"{dimension}.{metric}",
        title=f"{METRIC_LABELS[metric]}, by {DIMENSIONS[dimension].lower()} ({span})",
        kind="breakdown",
        metric=metric,
        row_heading=DIMENSIONS[dimension],
        columns=STATUS_TABLE_COLUMNS,
        rows=rows,
        summary=[],
    )
    table.summary = breakdown_summary(metric, dimension, rows)
    table.spec = _bar_spec(table) if _has_bars(table) else None
    return table


def breakdown_summary(metric: str, dimension: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    shown = [r for r in rows if not r["is_total"] and r["rate"] is not None]
    dim = DIMENSIONS[dimension].lower()
    if not shown:
        return [f"No rate by {dim} can be shown ({HIDDEN_COUNTS})."]
    below = [r["label"] for r in shown if r["rate"] < DMHC_STANDARD]
    lowest = min(shown, key=lambda r: r["rate"])
    out = [f"Lowest rate by {dim}: {lowest['label']}, {pct(lowest['rate'])}."]
    if below:
        out.append(f"Below the 70% standard: {', '.join(below)}.")
    else:
        out.append("Every shown group is at or above the 70% standard.")
    return out


def waits(data: Data, metric: str) -> Table:
    unit = WAIT_UNITS.get(metric, "business days")
    wanted = [
        r
        for r in data.rows
        if r.metric == metric and r.period == "month" and r.dimension == "total"
    ][-MONTHS_SHOWN:]
    rows = []
    for r in wanted:
        values = {
            "mean": suppression.statistic(r.mean_wait, r.observed),
            "median": suppression.statistic(r.median_wait, r.observed),
            "p90": suppression.statistic(r.p90_wait, r.observed),
        }
        rows.append(
            {
                "key": r.period_start.isoformat(),
                "label": month_text(r.period_start),
                "cells": {k: "not shown" if v is None else f"{v:.1f}" for k, v in values.items()},
                "is_total": False,
                **values,
            }
        )
    table = Table(
        key=f"waits.{metric}",
        title=(
            f"Waits for {METRIC_LABELS[metric][0].lower()}{METRIC_LABELS[metric][1:]}: "
            f"median and 90th percentile ({unit})"
        ),
        kind="waits",
        metric=metric,
        row_heading="Month",
        columns=[
            ("median", f"Median ({unit})"),
            ("p90", f"90th percentile ({unit})"),
            ("mean", f"Mean ({unit})"),
        ],
        rows=rows,
        summary=[],
    )
    shown = [r for r in rows if r["median"] is not None]
    if shown:
        last = shown[-1]
        table.summary = [
            f"In {last['label']} half of the waits were {last['median']:.0f} {unit} or less, "
            f"and one in ten was longer than {last['p90']:.0f} {unit}."
        ]
    else:
        table.summary = ["Too few observed waits to show (statistics need 11 or more)."]
    table.notes = ["Observed waits only; requests still open at the cut-off are not in them."]
    table.spec = _waits_spec(table, unit)
    return table


def parity_table(data: Data) -> Table:
    settings = data.settings
    thresholds = parity.Thresholds(
        rate_points=settings.parity_rate_points, median_ratio=settings.parity_median_ratio
    )
    latest = data.latest
    first = _months_back(latest, PARITY_MONTHS - 1) if latest else None
    period = (first, latest) if first and latest else None
    span = f"{month_text(first)} to {month_text(latest)}" if first and latest else "no figures"
    rows = []
    summary = []
    for label, mh, ms in parity.PAIRS:
        cohorts = _cohorts(data, mh, ms, first)
        comparison = parity.compare(label, cohorts[mh], cohorts[ms], [], period, thresholds)
        cells = _parity_cells(comparison)
        rows.append({"key": mh, "label": label.capitalize(), "cells": cells, "is_total": False})
        summary.append(_parity_sentence(comparison))
    return Table(
        key="parity",
        title=f"Parity: mental health against the medical comparator ({span})",
        kind="parity",
        metric="",
        row_heading="Comparison",
        columns=[
            ("mh_rate", "Mental health rate"),
            ("ms_rate", "Medical rate"),
            ("difference", "Difference (95% CI)"),
            ("ratio", "Ratio (95% CI)"),
            ("flag", "Potential material difference"),
        ],
        rows=rows,
        summary=summary,
        notes=[
            f"Flag: a difference of {settings.parity_rate_points * 100:.0f} points or more with "
            f"a confidence interval excluding 0, or a median-wait ratio of "
            f"{settings.parity_median_ratio:g} or more. These are the committee's thresholds, "
            "not the law's.",
            *parity.CAVEATS[:4],
        ],
    )


def _cohorts(data: Data, mh: str, ms: str, first: dt.date | None) -> dict[str, parity.Cohort]:
    cohorts = {m: parity.Cohort(m, 0, 0, []) for m in (mh, ms)}
    if first is None:
        return cohorts
    if data.scope.clinic is None:
        # The same clinics for both: those with units of both metrics in the period.
        by_clinic: dict[int | None, set[str]] = defaultdict(set)
        for r in data.clinic_parity_rows:
            if r.metric in (mh, ms) and r.denominator:
                by_clinic[r.clinic_id].add(r.metric)
        shared = {c for c, found in by_clinic.items() if found == {mh, ms}}
        source: Iterable[AccessAggregate] = [
            r for r in data.clinic_parity_rows if r.clinic_id in shared
        ]
    else:
        source = [
            r
            for r in data.rows
            if r.period == "month" and r.dimension == "total" and r.period_start >= first
        ]
    hist: dict[str, dict[int, int]] = {mh: defaultdict(int), ms: defaultdict(int)}
    for r in source:
        if r.metric not in cohorts or r.period_start < first:
            continue
        cohorts[r.metric].compliant += r.compliant
        cohorts[r.metric].noncompliant += r.noncompliant
        for wait, n in (r.waits or {}).items():
            hist[r.metric][int(wait)] += int(n)
    for m, cohort in cohorts.items():
        cohort.waits = sorted(hist[m].items())
    return cohorts


def _parity_cells(c: parity.Comparison) -> dict[str, str]:
    def rate(cohort: parity.Cohort) -> str:
        if c.suppressed:
            return "not shown (a count under 11)"
        return pct(cohort.compliant / cohort.n) if cohort.n else "no data"

    cells = {"mh_rate": rate(c.mh), "ms_rate": rate(c.ms), "difference": "—", "ratio": "—"}
    if c.difference is not None:
        d, lo, hi = c.difference
        cells["difference"] = f"{100 * d:+.1f} points ({100 * lo:+.1f} to {100 * hi:+.1f})"
    if c.ratio is not None:
        r, lo, hi = c.ratio
        cells["ratio"] = f"{r:.2f} ({lo:.2f} to {hi:.2f})"
    cells["flag"] = {True: "Yes", False: "No", None: "—"}[c.material]
    return cells


def _parity_sentence(c: parity.Comparison) -> str:
    if c.suppressed:
        return f"{c.label.capitalize()}: not shown, a count is under 11."
    if c.difference is None:
        return f"{c.label.capitalize()}: not enough data for both groups."
    d, lo, hi = c.difference
    direction = "lower" if d < 0 else "higher"
    text = (
        f"{c.label.capitalize()}: mental health {pct(c.mh.compliant / c.mh.n)} against "
        f"medical {pct(c.ms.compliant / c.ms.n)}, {abs(100 * d):.0f} points {direction} "
        f"(95% CI {100 * lo:+.0f} to {100 * hi:+.0f})."
    )
    if c.material:
        text += " Flagged as a potential material difference by the committee's threshold."
    return text


def _proxy_notes(data: Data) -> list[str]:
    if data.run is not None and data.run.source == "counts":
        return ["Figures from weekly counts supplied by the health system."]
    return [
        "Rate = met ÷ (met + missed). Exceptions, patient choices and open requests are "
        "counted separately. Where offers are not tracked the booked date stands in for the "
        "offered date."
    ]


# -- supply (slots) and HEDIS-like follow-up (encounters) -----------------------------------

SUPPLY_KINDS = {
    "next": ("supply_next_available", "next available appointment"),
    "third": ("supply_third_next_available", "third-next available appointment"),
}
HEDIS_LABELS = {
    "hedis_fuh": "After a psychiatric hospital stay (FUH)",
    "hedis_fum": "After an emergency visit for mental illness (FUM)",
    "hedis_fua": "After an emergency visit for substance use (FUA)",
}
SIDE_METRICS = (
    *(m for m, _ in SUPPLY_KINDS.values()),
    *(f"{m}_{d}" for m in HEDIS_LABELS for d in (7, 30)),
)
SUPPLY_COLUMNS = (
    ("compliant", "Within the standard"),
    ("noncompliant", "Beyond it"),
    ("not_applicable", "No free slot in the feed, or no standard"),
)
HEDIS_COLUMNS = (
    ("compliant", "Followed up"),
    ("noncompliant", "Not followed up"),
    ("pending", "Window still open"),
    ("exception", "Excluded"),
)
HEDIS_MONTHS = 12


def _count_table_rows(
    pub: suppression.Published,
    keys: Sequence[str],
    labels: dict[str, str],
    columns: Sequence[tuple[str, str]],
) -> list[dict[str, Any]]:
    rows = _status_rows(pub, keys, labels, columns)
    for row in rows:
        row["cells"].pop("units", None)
    return rows


def supply_table(data: Data, kind: str) -> Table:
    """Next (or third-next) available by provider class at the newest measurement month."""
    metric, noun = SUPPLY_KINDS[kind]
    mine = [r for r in data.rows if r.metric == metric and r.period == "month"]
    month = max((r.period_start for r in mine), default=None)
    current = [r for r in mine if r.period_start == month and r.dimension == "provider_class"]
    counts = {r.value: _counts(r, SUPPLY_COLUMNS) for r in current}
    keys = sorted(counts, key=lambda v: (v == "unknown", value_label(v)))
    parts = _clinic_counts(
        data,
        lambda r: r.metric == metric and r.period_start == month
        and r.dimension == "provider_class",
        lambda r: r.value,
        SUPPLY_COLUMNS,
    )  # fmt: skip
    pub = _status_table(counts, keys, parts, SUPPLY_COLUMNS)
    rows = _count_table_rows(pub, keys, {k: value_label(k) for k in keys}, SUPPLY_COLUMNS)
    medians = {r.value: suppression.statistic(r.median_wait, r.observed) for r in current}
    total = next((r for r in mine if r.period_start == month and r.dimension == "total"), None)
    if total is not None:
        medians[suppression.TOTAL] = suppression.statistic(total.median_wait, total.observed)
    for row in rows:
        median = medians.get(row["key"])
        row["cells"]["median"] = "not shown" if median is None else f"{median:.0f}"
    when = month_text(month) if month else "no slot feed yet"
    table = Table(
        key=f"supply.{kind}",
        title=f"Days to the {noun}, by provider class ({when})",
        kind="supply",
        metric=metric,
        row_heading="Provider class",
        columns=[
            ("rate", "Share within the standard"),
            ("denominator", "Measured"),
            *SUPPLY_COLUMNS,
            ("median", "Median (business days)"),
        ],
        rows=rows,
        summary=[],
        notes=[
            "From the schedule feed's free slots on the day it was exported, counted in "
            "business days from that day; one unit per provider where the feed names them. "
            "Standards: 10 business days, 15 for psychiatrists and specialist physicians. "
            "This emulates the DMHC survey's concept; it is not DMHC's telephone survey.",
        ],
    )
    shown = [r for r in rows if r["is_total"] and r["rate"] is not None]
    if month is None:
        table.summary = ["No schedule feed has been imported, so there is no supply figure."]
    elif shown:
        table.summary = [
            f"On the last feed of {when}, {pct(shown[0]['rate'])} of the providers measured "
            f"had a {noun} within their standard."
        ]
    else:
        table.summary = [f"No share can be shown for {when} ({HIDDEN_COUNTS})."]
    table.spec = _bar_spec(table) if _has_bars(table) else None
    return table


def hedis_table(data: Data) -> Table:
    """HEDIS-like 7- and 30-day follow-up over the twelve months of index events up to the
    figures' cut-off (the same months for a region and each of its clinics, as its other
    tables), or without one up to the newest month of events."""
    mine = [r for r in data.rows if r.metric.startswith("hedis_") and r.period == "month"]
    as_of = _as_of(data)
    latest = max((r.period_start for r in mine), default=None)
    if latest is not None and as_of is not None:
        latest = as_of.replace(day=1)
    first = _months_back(latest, HEDIS_MONTHS - 1) if latest else None
    keys = [f"{m}_{d}" for m in HEDIS_LABELS for d in (7, 30)]
    counts = {k: dict.fromkeys((c for c, _ in HEDIS_COLUMNS), 0) for k in keys}
    for r in mine:
        if r.dimension == "total" and first is not None and r.period_start >= first:
            for c, n in _counts(r, HEDIS_COLUMNS).items():
                counts[r.metric][c] += n
    keys = [k for k in keys if any(counts[k].values())]
    parts = _clinic_counts(
        data,
        lambda r: r.metric.startswith("hedis_") and r.dimension == "total"
        and first is not None and r.period_start >= first,
        lambda r: r.metric,
        HEDIS_COLUMNS,
    )  # fmt: skip
    pub = _status_table(counts, keys, parts, HEDIS_COLUMNS)
    labels = {
        k: f"{HEDIS_LABELS[k.rsplit('_', 1)[0]]}, within {k.rsplit('_', 1)[1]} days" for k in keys
    }
    rows = _count_table_rows(pub, keys, labels, HEDIS_COLUMNS)
    rows = [r for r in rows if not r["is_total"]]  # 7- and 30-day rows count the same events
    span = f"{month_text(first)} to {month_text(latest)}" if first and latest else "no figures"
    table = Table(
        key="hedis",
        title=f"HEDIS-like follow-up after acute care ({span})",
        kind="hedis",
        metric="",
        row_heading="Measure",
        columns=[("rate", "Rate"), ("denominator", "Counted events"), *HEDIS_COLUMNS],
        rows=rows,
        summary=[],
        notes=[
            "HEDIS-like, not HEDIS: NCQA's value sets are licensed, so diagnoses are matched "
            "by ICD-10-CM ranges and continuous enrollment cannot be checked. Events whose "
            "30-day window was still open at the cut-off are left out of the rate.",
        ],
    )
    shown = [r for r in rows if r["rate"] is not None]
    if latest is None:
        table.summary = ["No encounter data has been imported, so there is no HEDIS-like rate."]
    elif shown:
        table.summary = [f"{r['label']}: {pct(r['rate'])}." for r in shown]
    else:
        table.summary = [f"No rate can be shown ({HIDDEN_COUNTS})."]
    table.spec = _bar_spec(table) if shown else None
    return table


def side_tables(data: Data) -> list[Table]:
    """The supply and HEDIS-like tables that have figures (none without slots or encounters);
    cached per run like the panels, as a region's are checked against all its clinics'."""
    if data.run is None:
        return []
    from django.core.cache import cache

    clinic = data.scope.clinic.pk if data.scope.clinic is not None else "region"
    key = f"access-side-tables:{data.scope.region.pk}:{clinic}:{data.run.pk}"
    found = cache.get(key)
    if isinstance(found, list):
        return found
    built = _build_side_tables(data)
    cache.set(key, built, timeout=PANEL_CACHE_SECONDS)
    return built


def _build_side_tables(data: Data) -> list[Table]:
    metrics = {r.metric for r in data.rows}
    out = []
    if "supply_next_available" in metrics:
        out += [supply_table(data, kind) for kind in SUPPLY_KINDS]
    if any(m.startswith("hedis_") for m in metrics):
        out.append(hedis_table(data))
    return out


# -- the page --------------------------------------------------------------------------------


def table_keys() -> list[str]:
    keys = []
    for metric in DASHBOARD_METRICS:
        keys += [f"month.{metric}", f"week.{metric}"]
        keys += [f"{d}.{metric}" for d in DIMENSIONS]
        keys.append(f"waits.{metric}")
    return [*keys, "parity", *(f"supply.{k}" for k in SUPPLY_KINDS), "hedis"]


def build_table(data: Data, key: str) -> Table | None:
    """One table by its key (None for an unknown key)."""
    if key == "parity":
        return parity_table(data)
    if key == "hedis":
        return hedis_table(data)
    if key.startswith("supply.") and key[7:] in SUPPLY_KINDS:
        return supply_table(data, key[7:])
    head, _, metric = key.partition(".")
    if metric not in DASHBOARD_METRICS:
        return None
    if head in ("month", "week"):
        return over_time(data, metric, head)
    if head in DIMENSIONS:
        return breakdown(data, metric, head)
    if head == "waits":
        return waits(data, metric)
    return None


@dataclass
class MetricPanel:
    metric: str
    label: str
    over_time: Table
    breakdowns: list[Table]
    waits: Table


# Keys carry the run, and a recompute makes a new run, so a long life is never stale.
PANEL_CACHE_SECONDS = 30 * 24 * 3600


def panels(data: Data, period: str) -> list[MetricPanel]:
    """The metric panels; cached per run (a recompute makes a new run, so never stale).

    Suppression audits linear programmes for hidden cells, and a region's tables are checked
    against all its clinics' tables: building a region's panels takes seconds, so the
    recompute builds them in the background (``warm``) and pages read them from the cache."""
    if data.run is None:
        return []
    from django.core.cache import cache

    clinic = data.scope.clinic.pk if data.scope.clinic is not None else "region"
    key = f"access-panels:{data.scope.region.pk}:{clinic}:{data.run.pk}:{period}"
    found = cache.get(key)
    if isinstance(found, list):
        return found
    built = _build_panels(data, period)
    cache.set(key, built, timeout=PANEL_CACHE_SECONDS)
    return built


def warm(region: Region) -> None:
    """Build and cache the region dashboard's panels for the newest figures."""
    data = load(Scope(region))
    for period in ("month", "week"):
        panels(data, period)
    side_tables(data)


def _build_panels(data: Data, period: str) -> list[MetricPanel]:
    return [
        MetricPanel(
            metric=m,
            label=METRIC_LABELS[m],
            over_time=over_time(data, m, period),
            breakdowns=[breakdown(data, m, d) for d in DIMENSIONS],
            waits=waits(data, m),
        )
        for m in DASHBOARD_METRICS
    ]


# -- Vega-Lite specs -------------------------------------------------------------------------


def _config() -> dict[str, Any]:
    return {
        "font": 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
        "view": {"stroke": None},
        "axis": {"labelColor": "#1f2933", "titleColor": "#1f2933", "gridColor": "#e5e7eb"},
        "legend": {"labelColor": "#1f2933", "orient": "bottom", "title": None},
    }


def _standard_layer(axis: str) -> list[dict[str, Any]]:
    return [
        {
            "mark": {
                "type": "rule",
                "color": COLOURS["standard"],
                "strokeDash": [6, 4],
                "strokeWidth": 1.5,
            },
            "encoding": {axis: {"datum": 70, "type": "quantitative"}},
        },
        {
            "mark": {
                "type": "text",
                "color": COLOURS["standard"],
                "align": "left",
                "dx": 4,
                "dy": -6,
                "fontSize": 11,
            },
            "encoding": {
                axis: {"datum": 70, "type": "quantitative"},
                **({"x": {"value": 0}} if axis == "y" else {"y": {"value": 0}}),
                "text": {"value": "DMHC 70% standard"},
            },
        },
    ]


def _rate_spec(table: Table, period: str) -> dict[str, Any]:
    values = [
        {
            "date": r["key"],
            "period": r["label"],
            "rate": None if r["rate"] is None else round(100 * r["rate"], 1),
            "rate_text": r["cells"]["rate"],
        }
        for r in table.rows
        if not r["is_total"]
    ]
    x = {
        "field": "date",
        "type": "temporal",
        "title": period.capitalize(),
        "axis": {"format": "%b %Y" if period == "month" else "%d %b"},
    }
    y = {
        "field": "rate",
        "type": "quantitative",
        "title": "Met the standard (%)",
        "scale": {"domain": [0, 100]},
    }
    tooltip = [
        {"field": "period", "title": period.capitalize()},
        {"field": "rate_text", "title": "Rate"},
    ]
    return {
        "$schema": _SCHEMA,
        "description": " ".join(table.summary),
        "width": "container",
        "height": 220,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": values},
        "layer": [
            *_standard_layer("y"),
            {
                "mark": {
                    "type": "line",
                    "color": COLOURS["series"],
                    "invalid": "break-paths-show-domains",
                },
                "encoding": {"x": x, "y": y},
            },
            {
                "mark": {"type": "point", "filled": True, "color": COLOURS["series"]},
                "encoding": {"x": x, "y": y, "tooltip": tooltip},
            },
        ],
        "config": _config(),
    }


def _has_bars(table: Table) -> bool:
    """Whether some group's rate is shown: a chart of hidden rates is an empty frame."""
    return any(r["rate"] is not None for r in table.rows if not r["is_total"])


def _bar_spec(table: Table) -> dict[str, Any]:
    values = [
        {
            "group": r["label"],
            "rate": None if r["rate"] is None else round(100 * r["rate"], 1),
            "rate_text": r["cells"]["rate"],
        }
        for r in table.rows
        if not r["is_total"]
    ]
    return {
        "$schema": _SCHEMA,
        "description": " ".join(table.summary),
        "width": "container",
        "height": max(60, 26 * len(values)),
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "bar", "color": COLOURS["series"]},
                "encoding": {
                    "y": {"field": "group", "type": "nominal", "title": None, "sort": None},
                    "x": {
                        "field": "rate",
                        "type": "quantitative",
                        "title": "Met the standard (%)",
                        "scale": {"domain": [0, 100]},
                    },
                    "tooltip": [
                        {"field": "group", "title": table.row_heading},
                        {"field": "rate_text", "title": "Rate"},
                    ],
                },
            },
            *_standard_layer("x"),
        ],
        "config": _config(),
    }


def _waits_spec(table: Table, unit: str) -> dict[str, Any]:
    values = []
    for r in table.rows:
        for stat, name in (("median", "Median"), ("p90", "90th percentile")):
            if r[stat] is not None:
                values.append(
                    {"date": r["key"], "month": r["label"], "statistic": name, "wait": r[stat]}
                )
    return {
        "$schema": _SCHEMA,
        "description": " ".join(table.summary),
        "width": "container",
        "height": 200,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "date", "type": "ordinal", "timeUnit": "yearmonth", "title": "Month"},
            "xOffset": {"field": "statistic"},
            "y": {"field": "wait", "type": "quantitative", "title": unit.capitalize()},
            "color": {
                "field": "statistic",
                "type": "nominal",
                "scale": {
                    "domain": ["Median", "90th percentile"],
                    "range": [COLOURS["series"], COLOURS["p90"]],
                },
            },
            "tooltip": [
                {"field": "month"},
                {"field": "statistic"},
                {"field": "wait", "format": ".1f"},
            ],
        },
        "config": _config(),
    }
