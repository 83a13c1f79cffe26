"""Benchmark: a FHIR Bulk Data export (ZIP of a manifest and ndjson files) through the reader,
against parsing its JSON lines alone, in one process, at two sizes.

    .venv/bin/python benchmarks/fhir_bulk_bench.py [--rows 200000 --rows 1000000]
        [--file-resources 250000] [--repeat 1] [--workdir DIR] [--keep]

For each ``--rows``:

1. Takes the seeded canonical extract (``access_generate.py``; reused from ``--workdir``) and
   writes the same appointments as a Bulk Data export: one FHIR R4 ``Appointment`` per row
   (status, created, start, minutesDuration, requestedPeriod, appointmentType FOLLOWUP /
   EMERGENCY, cancelationReason and the R5 cancellation date extension, Patient /
   Practitioner / Location participants, provider class and service line in Common Ground's
   own code systems), split into ndjson files of ``--file-resources`` resources, with a
   completion manifest, zipped (deflate). Outside the repository.
2. Times, in this process, best of ``--repeat``:
   (ref) every line of every file read out of the ZIP and parsed with ``json.loads``: what
         any reader of the export pays before mapping anything;
   (convert) ``readers.convert`` end to end: the archive checked, every resource staged and
         mapped, the canonical CSV and its line map written; checks that no problem was
         found and that it holds one row per appointment that is not an open request.
3. Prints rows/s, the ratio to the reference and the peak resident memory of each phase
   (``VmHWM``, reset before each; Linux only). The two sizes show whether memory stays flat.

No absolute-time assertions: the machine is shared, so only the ratios mean much.
This is a benchmark, not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _p in (REPO, REPO / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from access_bench import extract_file, load_average  # noqa: E402
from xlsx_bench import timed  # noqa: E402

from commonground.access import fhir, readers  # noqa: E402

# Canonical status -> Appointment.status (the inverse of fhir.STATUS_MAP, one code each).
FHIR_STATUS = {
    "requested": "proposed",
    "scheduled": "booked",
    "arrived": "arrived",
    "checked_in": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
    "left_without_seen": "noshow",  # R4 has no code for it: a patient who did not stay
    "entered_in_error": "entered-in-error",
}
CANCEL_CODE = {"patient": "pat", "provider": "prov"}  # anything else: "other"


def appointment(row: dict[str, str]) -> dict[str, Any]:
    """The FHIR R4 Appointment a canonical row describes (what a scheduling system exports)."""
    res: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": row["appointment_id"],
        "status": FHIR_STATUS[row["status"]],
        "specialty": [
            {"coding": [{"system": fhir.CG_PROVIDER_CLASS, "code": row["provider_class"]}]}
        ],
        "serviceCategory": [
            {"coding": [{"system": fhir.CG_SERVICE_LINE, "code": row["service_line"]}]}
        ],
        "participant": [
            {"actor": {"reference": f"Patient/{row['patient_id']}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{row['provider_id']}"}, "status": "accepted"},
            {"actor": {"reference": f"Location/{row['clinic_id']}"}, "status": "accepted"},
        ],
    }
    if row["booked_datetime"]:
        res["created"] = row["booked_datetime"]
    if row["appointment_start"]:
        res["start"] = row["appointment_start"]
        if row["duration_min"]:
            res["minutesDuration"] = int(row["duration_min"])
    if row["request_datetime"]:
        res["requestedPeriod"] = [{"start": row["request_datetime"]}]
    if row["urgency"] == "urgent":
        res["appointmentType"] = {"coding": [{"system": fhir.V2_0276, "code": "EMERGENCY"}]}
    elif row["appointment_kind"] == "follow_up":
        res["appointmentType"] = {"coding": [{"system": fhir.V2_0276, "code": "FOLLOWUP"}]}
    if row["status"] == "cancelled":
        code = CANCEL_CODE.get(row["cancel_initiator"], "other")
        res["cancelationReason"] = {"coding": [{"system": fhir.CANCEL_REASON, "code": code}]}
        if row["cancel_datetime"]:
            res["extension"] = [
                {"url": fhir.CANCELLATION_DATE_EXTENSION, "valueDateTime": row["cancel_datetime"]}
            ]
    return res


def write_export(csv_path: Path, out: Path, per_file: int) -> tuple[int, int]:
    """The export as a ZIP; returns (appointments, of which open requests)."""
    total = requests = 0
    outputs: list[dict[str, Any]] = []
    with (
        csv_path.open(newline="", encoding="utf-8") as handle,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
    ):
        rows = iter(csv.DictReader(handle))
        row = next(rows, None)
        # Row by row (no file's rows held in memory: the phases timed after this one would
        # start from a process grown by them); a member is opened only for a row to write.
        for number in itertools.count():
            if row is None:
                break
            name = f"Appointment.{number:03d}.ndjson"
            count = 0
            with archive.open(name, "w", force_zip64=True) as member:
                text = io.TextIOWrapper(member, encoding="utf-8", newline="\n")
                while row is not None and count < per_file:
                    text.write(json.dumps(appointment(row), separators=(",", ":")) + "\n")
                    requests += row["status"] == "requested"
                    count += 1
                    row = next(rows, None)
                text.flush()
                text.detach()
            url = f"https://ehr.example/bulk/{name}"
            outputs.append({"type": "Appointment", "url": url, "count": count})
            total += count
        manifest = {
            "transactionTime": "2025-10-31T23:00:00Z",
            "request": "https://ehr.example/fhir/$export?_type=Appointment",
            "requiresAccessToken": True,
            "output": outputs,
            "error": [],
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    return total, requests


def parse_lines(path: Path) -> int:
    """The floor: every line of every ndjson member parsed as JSON."""
    n = 0
    loads = json.loads
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".ndjson"):
                continue
            with archive.open(info) as raw:
                for line in io.TextIOWrapper(raw, encoding="utf-8"):
                    loads(line)
                    n += 1
    return n


def convert(path: Path, workdir: Path, expected_rows: int) -> int:
    out = workdir / "convert"
    shutil.rmtree(out, ignore_errors=True)
    converted = readers.convert(path, out, name=path.name)
    if converted.problem_count:
        raise SystemExit(f"the export had problems: {converted.problems[:3]}")
    rows = converted.counts["rows"]
    if rows != expected_rows:
        raise SystemExit(f"{rows:,} canonical rows, expected {expected_rows:,}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append")
    parser.add_argument("--file-resources", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    sizes = args.rows or [200_000, 1_000_000]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cg-fhir-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {load_average()}")
    results = []
    try:
        for rows in sizes:
            csv_path = extract_file(workdir, rows)
            export = workdir / f"export-{rows}.zip"
            start = time.perf_counter()
            total, requests = write_export(csv_path, export, args.file_resources)
            files = -(-total // args.file_resources)
            print(
                f"wrote {total:,} Appointments in {files} file(s) "
                f"({export.stat().st_size / 1e6:,.0f} MB zipped) in "
                f"{time.perf_counter() - start:.1f} s; {requests:,} open requests"
            )
            ref = timed(lambda p=export: parse_lines(p), args.repeat)
            ours = timed(lambda p=export, n=total - requests: convert(p, workdir, n), args.repeat)
            results.append((rows, ref, ours))
        print(f"load average after: {load_average()}\n")
        heads = ("best s", "rows/s", "÷ ref", "RSS before", "peak RSS MB")
        print(f"{'':30}" + "".join(f"{h:>12}" for h in heads))
        for rows, ref, ours in results:
            for label, (seconds, n, before, peak) in (
                (f"json.loads, {rows:,} lines", ref),
                (f"readers.convert, {rows:,}", ours),
            ):
                ratio = seconds / ref[0]
                print(
                    f"{label:30}{seconds:12.2f}{n / seconds:12,.0f}{ratio:12.2f}"
                    f"{before:12,.0f}{peak:12,.0f}"
                )
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
