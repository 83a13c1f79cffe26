"""Input formats for the importer: each reader turns an upload into the canonical CSV. No Django.

Validation, de-identification and the store work on the canonical CSV layout only
(access-and-parity.md section 6.1), so every input format is converted to it first and then
checked by ``extract.load`` exactly like a CSV upload (same types, vocabularies, date order,
duplicates, formula-injection and calendar checks):

* ``csv``: the canonical CSV, passed through untouched;
* ``xlsx``: the first worksheet, header row first (``commonground.access.xlsx``);
* ``fhir``: FHIR R4 JSON resources, Bundles or Bulk Data ndjson (``commonground.access.fhir``),
  one file or a whole export: a ZIP of ndjson files with its manifest (``access.bulk``).

``convert`` picks the reader by content first (ZIP signature, JSON), file name second, and
returns a ``Converted``: the canonical CSV, the problems the reader itself found (a formula
cell, an unmapped FHIR status, a truncated file ...), side outputs, and a line map. Error
reports always name lines of the *uploaded* file: the converted CSV's lines are mapped back
(sheet row numbers for XLSX; for FHIR the line where the resource's JSON starts) by
``Converted.finish``, which also merges the reader's problems into the ``LoadResult``.

Rows are streamed to disk (and the line map is a file of 4-byte integers), so memory stays
flat whatever the size of the upload.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import mmap
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from . import bulk, extract, fhir, xlsx
from .extract import ExtractError

CANONICAL_COLUMNS = tuple(c.name for c in extract.COLUMNS)
NO_DATA = "no data rows"
_FIRST_ON = re.compile(r"first on line (\d+)")
_CELL_PREFIX = re.compile(r"^cell [A-Z]+[0-9]+: ")  # grouped without the cell in the summary

_LINE = struct.Struct("<I")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other OLE2 files)
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "fhir",
    ".ndjson": "fhir",
    ".jsonl": "fhir",
}
LABELS = {
    "csv": "Canonical CSV extract",
    "xlsx": "Canonical extract as an Excel workbook (.xlsx)",
    "fhir": "FHIR R4 resources, Bundle or Bulk Data ndjson (one file, or a ZIP export)",
    "slots": "Slot CSV (open and booked slots: next available)",
    "encounters": "Encounter CSV (HEDIS-like follow-up after acute care)",
}


@dataclass
class Converted:
    """A canonical CSV made from an upload, and how to report its problems."""

    path: Path
    kind: str
    problems: list[ExtractError] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)
    line_map: Path | None = None  # uint32 per canonical line: the upload's line (or row)
    outputs: dict[str, Path] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    fatal: bool = False  # the reader could not make a canonical CSV: only its problems count
    booking_time_optional: bool = False  # scheduled rows may lack booked_datetime (FHIR)
    side_file: str = ""  # "slots" / "encounters": the upload is that side file, not appointments
    # A Bulk Data export: its files on one line numbering, and its transactionTime (cut-off).
    sources: bulk.Sources | None = None
    cutoff: dt.datetime | None = None
    incremental: bool = False  # what changed since the export's ``_since``, not the whole
    feed: str = ""  # the export's feed (``bulk.export_feed``); '' for other uploads

    def source_lines(self, lines: Iterable[int]) -> dict[int, int]:
        """The upload's line (sheet row) for lines of the canonical CSV."""
        wanted = sorted(set(lines))
        if self.line_map is None or not self.line_map.stat().st_size:
            return {n: n for n in wanted}
        out: dict[int, int] = {}
        with (
            self.line_map.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view,
        ):
            size = len(view) // 4
            last = struct.unpack_from("<I", view, (size - 1) * 4)[0]
            for n in wanted:
                if n <= 0:
                    out[n] = n
                elif n <= size:
                    out[n] = struct.unpack_from("<I", view, (n - 1) * 4)[0]
                else:  # "no data rows" is reported on the line after the last one
                    out[n] = last + (n - size)
        return out

    def finish(self, loaded: extract.LoadResult) -> extract.LoadResult:
        """``loaded`` with its lines mapped to the upload and the reader's problems added."""
        if self.fatal:  # the empty stand-in CSV's own complaints would only confuse
            loaded.errors, loaded.error_summary, loaded.error_count = [], {}, 0
            loaded.rows = 0
        firsts = [int(m.group(1)) for e in loaded.errors if (m := _FIRST_ON.search(e.reason))]
        lines = self.source_lines([*(e.line for e in loaded.errors), *firsts])

        def first_on(match: re.Match[str]) -> str:
            line = lines[int(match.group(1))]
            if self.sources:
                name, own = self.sources.locate(line)
                return f"first on line {own} of {name}"
            return f"first on line {line}"

        def relabel(text: str) -> str:  # "duplicate ... (first on line N)" names a line too
            return _FIRST_ON.sub(first_on, text)

        errors = [
            ExtractError(lines[e.line], e.column, e.value, relabel(e.reason), e.whole_row)
            for e in loaded.errors
        ]
        summary = dict(loaded.error_summary)
        count = loaded.error_count
        if self.problem_count and summary.get(("", NO_DATA)):
            # Every row had a problem of its own: those are the report, not "no data rows".
            count -= summary.pop(("", NO_DATA))
            errors = [e for e in errors if e.reason != NO_DATA]
        elif summary.get(("", NO_DATA)) and self.counts.get("open_requests"):
            summary.pop(("", NO_DATA))
            reason = (
                "no appointment to import: the file holds only open requests (proposed or "
                "waitlist Appointments without a booked time); the canonical extract has no "
                "row for a request without an appointment yet"
            )
            summary[("status", reason)] = 1
            errors = [
                ExtractError(0, "status", "proposed/waitlist", reason) if e.reason == NO_DATA else e
                for e in errors
            ]
        for p in self.problems:
            key = (p.column, _CELL_PREFIX.sub("", p.reason))
            summary[key] = summary.get(key, 0) + 1
        unlisted = self.problem_count - len(self.problems)
        if unlisted > 0:
            key = ("", "more problems found while reading the file (not listed)")
            summary[key] = summary.get(key, 0) + unlisted
        merged = sorted([*self.problems, *errors], key=lambda e: (e.line, e.column))
        loaded.errors = merged[: max(len(loaded.errors), len(self.problems), 1)]
        sources = self.sources
        if sources:  # several files: each line as the file's own, with the file named
            loaded.errors = [_in_file(e, sources) for e in loaded.errors]
        loaded.error_summary = summary
        loaded.error_count = count + self.problem_count
        loaded.header.warnings.extend(w for w in self.warnings if w not in loaded.header.warnings)
        return loaded


def only_no_rows(loaded: extract.LoadResult) -> bool:
    """Valid but for having no appointment rows (slots, encounters or deletions only)."""
    return loaded.rows == 0 and [e.reason for e in loaded.errors] == [NO_DATA]


def _in_file(error: ExtractError, sources: bulk.Sources) -> ExtractError:
    name, own = sources.locate(error.line)
    return dataclasses.replace(error, line=own, file=name)


class Reader(Protocol):
    kind: str
    label: str

    def convert(
        self, source: Path, workdir: Path, *, max_errors: int, default_clinic: str = ""
    ) -> Converted: ...


class CsvReader:
    kind = "csv"
    label = LABELS["csv"]

    def convert(
        self, source: Path, workdir: Path, *, max_errors: int = 100_000, default_clinic: str = ""
    ) -> Converted:
        return Converted(path=source, kind=self.kind)


class SideCsvReader:
    """A slot or encounter CSV (layouts in ``slots.py`` / ``hedis.py``): no appointment rows,
    the file itself is the side output, checked whole by the importer before it is stored."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.label = LABELS[kind]

    def convert(
        self, source: Path, workdir: Path, *, max_errors: int = 100_000, default_clinic: str = ""
    ) -> Converted:
        path = workdir / "canonical.csv"
        path.write_text(",".join(CANONICAL_COLUMNS) + "\n", encoding="utf-8")
        return Converted(path=path, kind=self.kind, outputs={self.kind: source},
                         side_file=self.kind)  # fmt: skip


class _CanonicalWriter:
    """Writes the canonical CSV and, per physical line, the upload line it came from."""

    def __init__(self, workdir: Path, header: list[str], header_line: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.path = workdir / "canonical.csv"
        self.map_path = workdir / "canonical.lines"
        self._handle: IO[str] = self.path.open("w", encoding="utf-8", newline="")
        self._map: IO[bytes] = self.map_path.open("wb")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self.rows = 0
        self.write(header, header_line)
        self.rows = 0

    def write(self, cells: list[str], source_line: int) -> None:
        joined = "".join(cells)  # (one join, then searches in C: cheaper than a loop)
        if "\r" in joined:
            cells = [extract.without_carriage_returns(c) for c in cells]
            joined = "".join(cells)
        self._writer.writerow(cells)
        # Quoted line breaks make one record span several physical lines of the CSV.
        lines = 1 + joined.count("\n")
        self._map.write(_LINE.pack(max(source_line, 0)) * lines)
        self.rows += 1

    def close(self) -> None:
        self._handle.close()
        self._map.close()


class XlsxReader:
    kind = "xlsx"
    label = LABELS["xlsx"]

    def __init__(self, limits: xlsx.Limits | None = None) -> None:
        self.limits = limits or xlsx.Limits()

    def convert(
        self, source: Path, workdir: Path, *, max_errors: int = 100_000, default_clinic: str = ""
    ) -> Converted:
        workdir.mkdir(parents=True, exist_ok=True)
        out = Converted(path=workdir / "canonical.csv", kind=self.kind)

        def problem(line: int, column: str, value: str, reason: str) -> None:
            out.problem_count += 1
            if len(out.problems) < max_errors:
                out.problems.append(ExtractError(line, column, value[:200], reason))

        writer: _CanonicalWriter | None = None
        try:
            with xlsx.Workbook(source, workdir, self.limits) as book:
                header: list[str] = []
                kinds: list[bool] = []
                for number, cells in book.rows():
                    if writer is None:
                        header = self._header(cells, number, problem)
                        kinds = [
                            getattr(extract.BY_NAME.get(h), "kind", "") == "datetime"
                            for h in header
                        ]
                        writer = _CanonicalWriter(workdir, header, number)
                        continue
                    values = [""] * len(header)
                    ok = True
                    for cell in cells:
                        if cell.column >= len(header) or not header[cell.column]:
                            problem(number, "", cell.ref, "a value in a column without a header")
                            ok = False
                            continue
                        try:
                            values[cell.column] = xlsx.cell_text(
                                cell, datetime_column=kinds[cell.column], date1904=book.date1904
                            )
                        except xlsx.CellError as exc:
                            shown = f"={cell.formula}" if cell.formula is not None else cell.value
                            problem(number, header[cell.column], shown, f"cell {cell.ref}: {exc}")
                            ok = False
                    if ok and any(values):
                        writer.write(values, number)
                if writer is None:
                    problem(1, "", "", "the first worksheet is empty: no header row")
                if book.date1904:
                    out.warnings.append("the workbook uses the 1904 date system (dates converted)")
        except xlsx.XlsxError as exc:
            problem(0, "", "", f"XLSX: {exc}")
        finally:
            if writer is not None:
                writer.close()
        if writer is None:  # nothing to validate: an empty canonical file keeps load() happy
            out.path.write_text("", encoding="utf-8")
            out.fatal = True
        else:
            out.line_map = writer.map_path
        out.counts["rows"] = writer.rows if writer is not None else 0
        return out

    @staticmethod
    def _header(
        cells: list[xlsx.Cell], number: int, problem: Callable[[int, str, str, str], None]
    ) -> list[str]:
        width = max(c.column for c in cells) + 1
        header = [""] * width
        for cell in cells:
            try:
                text = xlsx.cell_text(cell)
            except xlsx.CellError as exc:
                problem(number, "", cell.value, f"cell {cell.ref}: header {exc}")
                continue
            if "\n" in text or "\r" in text:
                problem(number, "", text[:80], f"cell {cell.ref}: a header with a line break")
                continue
            header[cell.column] = text.strip()
        while header and not header[-1]:
            header.pop()
        return header


class FhirReader:
    kind = "fhir"
    label = LABELS["fhir"]

    def __init__(self, mapping: fhir.ConceptMap | None = None) -> None:
        self.mapping = mapping

    def convert(
        self,
        source: Path,
        workdir: Path,
        *,
        max_errors: int = 100_000,
        default_clinic: str = "",
        files_beside: bool = False,
    ) -> Converted:
        out = Converted(path=workdir / "canonical.csv", kind=self.kind, booking_time_optional=True)
        writer = _CanonicalWriter(workdir, list(CANONICAL_COLUMNS), 1)
        at = {c: i for i, c in enumerate(CANONICAL_COLUMNS)}

        def emit(line: int, row: dict[str, str]) -> None:
            cells = [""] * len(CANONICAL_COLUMNS)
            for name, value in row.items():
                cells[at[name]] = value
            writer.write(cells, line)

        try:
            if is_bulk_export(source):
                deleted = workdir / "deleted.txt"  # "Type<TAB>id" of what to remove
                with (
                    deleted.open("w", encoding="utf-8") as sink,
                    bulk.open_export(source, files_beside=files_beside) as export,
                ):
                    reading = bulk.Reading(deleted_sink=sink)
                    outcome = fhir.convert(
                        None,
                        workdir,
                        emit,
                        items=bulk.iter_export(export, reading),
                        stream_appointments=bulk.appointments_last(export),
                        mapping=self.mapping,
                        default_clinic=default_clinic,
                        max_errors=max_errors,
                    )
                out.sources, out.cutoff = reading.sources, export.transaction_time
                out.incremental, out.feed = export.incremental, export.feed
                outcome.warnings[:0] = [*export.warnings, *reading.warnings()]
                if export.incremental and ("slots" in outcome.outputs
                                           or reading.deleted_applied.get("Slot")):  # fmt: skip
                    outcome.warnings.append(
                        "an incremental export gives only the slots that changed since its "
                        "_since: an import applies them to the same feed's stored snapshot "
                        "before it; on their own they do not measure next available"
                    )
                outcome.counts["files"] = reading.files
                if reading.deleted_applied:
                    outcome.outputs["deleted"] = deleted
                    for kind, n in reading.deleted_applied.items():
                        outcome.counts[f"deleted_{kind.lower()}s"] = n
            else:
                outcome = fhir.convert(
                    source,
                    workdir,
                    emit,
                    ndjson=fhir.looks_like_ndjson(source),
                    mapping=self.mapping,
                    default_clinic=default_clinic,
                    max_errors=max_errors,
                )
        finally:
            writer.close()
        out.problems = outcome.problems
        out.problem_count = outcome.problem_count
        out.warnings = outcome.warnings
        out.outputs = outcome.outputs
        out.counts = {**outcome.counts, "rows": writer.rows}
        out.line_map = writer.map_path
        return out


def is_bulk_export(path: Path) -> bool:
    """A Bulk Data export: a ZIP archive of ndjson files, or a completion manifest."""
    with path.open("rb") as handle:
        head = handle.read(4)
    return bulk.is_zip(head) or bulk.looks_like_manifest(path)


READERS: dict[str, Reader] = {
    "csv": CsvReader(),
    "xlsx": XlsxReader(),
    "fhir": FhirReader(),
    "slots": SideCsvReader("slots"),
    "encounters": SideCsvReader("encounters"),
}


def reader_for(kind: str) -> Reader:
    try:
        return READERS[kind]
    except KeyError:
        raise ValueError(f"no reader for {kind!r}; known: {sorted(READERS)}") from None


def detect(path: Path, name: str = "") -> str:
    """The reader kind for a file: by content first (ZIP, OLE2, JSON), then by extension.

    A ZIP is a workbook unless it holds ndjson or JSON files and no workbook part (a Bulk
    Data export), whatever its name."""
    with path.open("rb") as handle:
        kind = detect_head(handle.read(4096), name or path.name)
    if kind == "xlsx" and bulk.looks_like_export_zip(path):
        return "fhir"
    return kind


def detect_head(head: bytes, name: str) -> str:
    """The reader kind from a file's first 4 KiB and its name (see ``detect``): a ZIP named
    ``.zip`` is a Bulk Data export, any other ZIP a workbook."""
    if head.startswith(ZIP_MAGIC):
        return "fhir" if Path(name).suffix.lower() == ".zip" else "xlsx"
    if head.startswith(OLE2_MAGIC):
        return "xls"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "fhir"
    # No signature (CSV has none): the name decides, so a damaged "x.xlsx" is reported as
    # a damaged workbook rather than as a CSV with a strange header.
    found = EXTENSIONS.get(Path(name).suffix.lower(), "csv")
    if found == "csv":  # an appointment extract, or a slot or encounter file by its header
        return side_kind(text) or "csv"
    return found


def side_kind(head: bytes) -> str | None:
    """ "slots" or "encounters" when a CSV's header is one of those layouts, else None."""
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    cols = {c.strip().strip('"').lower() for c in first.split(",")}
    if "appointment_id" in cols:
        return None
    if "encounter_id" in cols:
        return "encounters"
    if {"status", "start"} <= cols and cols & {"slot_id", "schedule_id"}:
        return "slots"
    return None


def convert(
    source: Path,
    workdir: Path,
    *,
    name: str = "",
    kind: str | None = None,
    max_errors: int = 100_000,
    default_clinic: str = "",
    files_beside: bool = False,
) -> Converted:
    """Convert an upload to the canonical CSV. ``kind`` "csv" or None means: detect it.

    ``files_beside``: a Bulk Data manifest may name files in its own directory (the command
    line's files; never an upload's).

    (Import jobs record kind "csv" for every upload until the job model has choices for the
    other formats, so "csv" cannot be taken at its word.)
    """
    workdir.mkdir(parents=True, exist_ok=True)
    found = detect(source, name) if kind is None or kind == "csv" else kind
    if found == "xls":
        out = Converted(path=workdir / "canonical.csv", kind="xls", problem_count=1, fatal=True)
        out.path.write_text("", encoding="utf-8")
        out.problems.append(
            ExtractError(
                0, "", "", "a legacy Excel .xls (or other OLE2) file: save it as .xlsx or CSV"
            )
        )
        return out
    # ``default_clinic``: the clinic of an import made for one clinic, for FHIR appointments
    # that name none (the canonical layouts require their clinic column).
    reader = reader_for(found)
    if isinstance(reader, FhirReader):
        return reader.convert(
            source,
            workdir,
            max_errors=max_errors,
            default_clinic=default_clinic,
            files_beside=files_beside,
        )
    return reader.convert(source, workdir, max_errors=max_errors, default_clinic=default_clinic)
