"""Builders for small canonical extracts and a one-call pipeline for tests."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import duckdb

from commonground.access import extract, metrics
from commonground.access.calendars import alternate, calendar_version
from commonground.access.format_guide import SPEC_EXAMPLE

# The three synthetic rows of access-and-parity.md section 6.1, verbatim (the format guide's
# template starts from them).
SPEC_ROWS = SPEC_EXAMPLE

HEADER = [c.name for c in extract.COLUMNS if c.name not in ("referral_id", "clinic_name")]

DEFAULTS: dict[str, str] = {
    "patient_id": "P1",
    "clinic_id": "OAK",
    "provider_id": "PR1",
    "provider_class": "lcsw",
    "service_line": "MH",
    "visit_type": "RETURN THERAPY 45",
    "appointment_kind": "follow_up",
    "urgency": "non_urgent",
    "prior_auth_required": "false",
    "request_datetime": "",
    "first_offered_start": "",
    "duration_min": "45",
    "status": "completed",
    "cancel_datetime": "",
    "cancel_initiator": "",
    "cancel_reason": "",
    "modality": "video",
    "is_group": "false",
    "episode_id": "",
    "longer_interval_documented": "false",
    "patient_requested_later": "false",
    "recommended_return_days": "",
    "out_of_network": "false",
    "product_line": "commercial",
    "patient_birth_year": "1980",
}


def row(appointment_id: str, start: str, **fields: str) -> dict[str, str]:
    """One appointment; ``booked_datetime`` defaults to the start day at 08:00."""
    out = dict(DEFAULTS)
    out["appointment_id"] = appointment_id
    out["appointment_start"] = start
    out["booked_datetime"] = fields.pop("booked", start[:10] + "T08:00:00")
    out.update(fields)
    return out


def initial(appointment_id: str, request: str, start: str, **fields: str) -> dict[str, str]:
    """An initial non-urgent appointment for a request (booked at the request time)."""
    fields.setdefault("appointment_kind", "initial")
    fields.setdefault("visit_type", "NEW THERAPY INTAKE 60")
    fields.setdefault("booked", request)
    return row(appointment_id, start, request_datetime=request, **fields)


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    cols = header or HEADER
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: r.get(c, "") for c in cols})
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


class Run:
    """Load a file and compute the units, as ``commonground access check`` does."""

    def __init__(
        self,
        path: Path,
        *,
        calendar: str = "federal",
        as_of: str | None = None,
        timezone: str = extract.DEFAULT_TZ,
        keep_patient_id: bool = False,
    ) -> None:
        self.con = duckdb.connect()
        extract.configure(self.con, timezone=timezone, memory_limit="256MB")
        self.version = calendar_version(calendar)
        self.loaded = extract.load(self.con, path, self.version, keep_patient_id=keep_patient_id)
        assert self.loaded.valid, self.loaded.errors
        cut = dt.date.fromisoformat(as_of) if as_of else self.loaded.last_event_day
        assert cut is not None
        self.as_of = cut
        other = alternate(calendar)
        first = min(self.loaded.first_day or cut, cut)
        last = max(self.loaded.last_day or cut, cut)
        metrics.build_calendar_table(self.con, self.version, other, first, last)
        metrics.compute_units(
            self.con, metrics.Options(calendar=self.version, as_of=cut, alternate=other)
        )

    def units(self, metric: str | None = None) -> list[dict[str, Any]]:
        return metrics.unit_rows(self.con, metric)

    def unit(self, metric: str, start_id: str) -> dict[str, Any]:
        found = [u for u in self.units(metric) if u["start_appointment_id"] == start_id]
        assert len(found) == 1, (metric, start_id, self.units())
        return found[0]


def run(tmp_path: Path, rows: list[dict[str, str]], **kwargs: Any) -> Run:
    return Run(write_csv(tmp_path / "extract.csv", rows), **kwargs)
