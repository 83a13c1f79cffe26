"""FHIR Bulk Data exports: a completion manifest and its ndjson files, as one input. No Django.

A Bulk Data export (access-and-parity.md section 6.2; HL7 ``bulk-data``, ``export.md``) ends
with a manifest::

    {"transactionTime": "2025-04-01T06:00:00Z", "request": "...$export?_type=Appointment",
     "requiresAccessToken": true,
     "output": [{"type": "Appointment", "url": ".../Appointment.000.ndjson", "count": 5000},
                {"type": "Appointment", "url": ".../Appointment.001.ndjson"}, ...],
     "error": [{"type": "OperationOutcome", "url": ".../errors.ndjson"}],
     "deleted": [{"type": "Bundle", "url": ".../del.ndjson"}]}

The files themselves are behind URLs that need a token, so an export reaches us as files:

* a ZIP archive holding the manifest (any ``.json`` member that is a manifest) and the files
  it lists; a URL is matched to a member by its path, else by its last segment;
* on the command line, also the manifest itself with its files in the same directory;
* a ZIP without a manifest is read too, with a warning that it gives no cut-off: every
  ``.ndjson`` member line by line and every ``.json`` member whole (a resource or a Bundle),
  in name order.

Nothing is extracted to disk: members are streamed line by line. The archive is refused
whole for a zip bomb (too many members, a member expanding more than ``Limits.max_ratio``
times, more than ``Limits.max_total`` bytes in all), encryption, a listed file that is
missing, or a member of JSON data that the manifest does not list. Each output file must
hold the resource type the manifest gives it and, when the manifest gives a ``count``, that
many resources: a short file is a truncated download.

``transactionTime`` is the export's data cut-off T: the data describe the record as of T, so
a request still waiting at T is pending at T. The error files (OperationOutcome, one per
line) are read and summarised by severity and code: their text is not kept, as it can name
a patient's resources. Deleted Appointments, Encounters and Slots (an incremental export's
``deleted`` files: Bundles of DELETE requests) are listed for the importer, which removes
appointments and encounters from the store unless the stored state is dated after the
export, and slots from the export's own snapshot; other deleted resources are counted.

Error reports name lines of the file a problem is in. One line numbering runs through the
whole export (``Sources``): the manifest first, then each file in reading order (the
manifest's, but Appointment files after the others: ``reading_order``), each file starting
one past the end of the previous one, so that line 0 of a file means the file as a whole;
``Sources.locate`` turns such a line back into the file's name and its own line.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import io
import json
import lzma
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, unquote, urlsplit

from .fhir import (
    MAX_LINE_CHARS,
    Item,
    bounded_lines,
    feed_name,
    iter_document,
    iter_ndjson,
    line_too_long,
    reference,
    url_parts,
)

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
DATA_SUFFIXES = (".ndjson", ".jsonl", ".json")
MAX_MANIFEST_BYTES = 16 << 20


@dataclass(frozen=True)
class Limits:
    max_entries: int = 10_000
    max_ratio: float = 200.0  # uncompressed / compressed, for members over ``ratio_floor``
    ratio_floor: int = 1 << 20
    max_total: int = 64 << 30  # bytes uncompressed, all members together


@dataclass(frozen=True)
class Part:
    """One file of the export, opened on demand (read once, streamed)."""

    name: str  # as the reports name it: the member's path, or the file's name
    role: str  # "output" | "error" | "deleted"
    type: str  # the resource type the manifest gives ("" when there is no manifest)
    count: int | None  # the number of resources the manifest gives, if any
    open: Callable[[], IO[bytes]]
    document: bool = False  # one JSON document (a resource or a Bundle), not ndjson


@dataclass
class Sources:
    """One line numbering over several files: (first line, name), in reading order."""

    starts: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def add(self, start: int, name: str) -> None:
        self.starts.append(start)
        self.names.append(name)

    def locate(self, line: int) -> tuple[str, int]:
        """(file name, its own line) for a line of the whole export."""
        if not self.starts or line < self.starts[0]:
            return "", line
        at = bisect.bisect_right(self.starts, line) - 1
        return self.names[at], line - self.starts[at]

    def __bool__(self) -> bool:
        return bool(self.starts)


@dataclass
class Export:
    """A manifest (or none) and the files to read, with what was wrong with the whole."""

    manifest_name: str = ""
    transaction_time: dt.datetime | None = None
    # Requested with ``_since`` (or listing deletions, which only such an export has): its
    # files hold what changed since then, not the whole record.
    incremental: bool = False
    feed: str = ""  # ``export_feed`` of the manifest's request: which export this is a run of
    parts: list[Part] = field(default_factory=list)
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)  # manifest lines
    warnings: list[str] = field(default_factory=list)
    manifest_lines: int = 0


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC)


def looks_like_export_zip(path: Path) -> bool:
    """A ZIP of ndjson / JSON files (and no workbook part): a Bulk Data export."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError):
        return False
    if "[Content_Types].xml" in names:
        return False
    return any(n.lower().endswith(DATA_SUFFIXES) for n in names)


def looks_like_manifest(path: Path) -> bool:
    """A small JSON object with ``output`` and ``transactionTime``: a completion manifest."""
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            return False
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return False
    return _is_manifest(data)


def _is_manifest(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "resourceType" not in data
        and "output" in data
        and "transactionTime" in data
    )


def parse_transaction_time(value: Any) -> dt.datetime | None:
    """A FHIR instant with its offset (the spec requires one), else None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# -- opening an export ---------------------------------------------------------------------


@contextlib.contextmanager
def open_export(
    path: Path, limits: Limits | None = None, *, files_beside: bool = False
) -> Iterator[Export]:
    """The export in ``path``: a ZIP archive, or (``files_beside``: on the command line
    only, never for an upload, whose directory holds other files) a manifest with its files
    in the same directory."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if is_zip(head):
        with _open_zip(path, limits or Limits()) as export:
            yield export
    elif files_beside:
        yield _open_directory(path)
    else:
        reason = (
            "a Bulk Data manifest without its files: upload one ZIP archive holding the "
            "manifest and the ndjson files it lists"
        )
        yield Export(manifest_name=path.name, problems=[(0, "", "", reason)])


@contextlib.contextmanager
def _open_zip(path: Path, limits: Limits) -> Iterator[Export]:
    export = Export()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        export.problems.append((0, "", "", f"not a readable ZIP archive ({exc})"))
        yield export
        return
    with archive:
        # (macOS's Finder adds "__MACOSX/._<name>" metadata beside every file it zips.)
        members = [i for i in archive.infolist() if not i.is_dir() and not _finder_extra(i)]
        problem = _zip_problem(members, limits)
        if problem:
            export.problems.append((0, "", "", problem))
            yield export
            return
        by_name = {i.filename: i for i in members}
        if len(by_name) < len(members):  # only the last of one name could be read
            twice = sorted({i.filename for i in members if i is not by_name[i.filename]})
            export.problems.append(
                (0, "", ", ".join(twice)[:200], "the archive holds two files of the same name")
            )
            yield export
            return

        def opener(info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
            return lambda: archive.open(info)

        manifests = []
        for info in members:
            if info.filename.lower().endswith(".json") and info.file_size <= MAX_MANIFEST_BYTES:
                try:
                    data = json.loads(archive.read(info).decode("utf-8-sig"))
                except (ValueError, UnicodeDecodeError, RecursionError):
                    continue  # not JSON: not a manifest
                except UNREADABLE_MEMBER as exc:
                    export.problems.append(
                        (0, "", info.filename[:200], f"cannot be read from the archive ({exc})")
                    )
                    yield export
                    return
                if _is_manifest(data):
                    manifests.append((info, data))
        if len(manifests) > 1:
            names = ", ".join(i.filename for i, _ in manifests)
            export.problems.append(
                (0, "", names[:200], "more than one Bulk Data manifest in the archive")
            )
            yield export
            return
        if not manifests:
            export.warnings.append(
                "no Bulk Data manifest in the archive: its ndjson and JSON files were read in "
                "name order, and the data cut-off is taken from the data (no transactionTime)"
            )
            for info in sorted(members, key=lambda i: i.filename):
                name = info.filename.lower()
                if name.endswith(DATA_SUFFIXES):  # ndjson line by line; JSON whole (Bundles)
                    document = name.endswith(".json")
                    export.parts.append(
                        Part(info.filename, "output", "", None, opener(info), document)
                    )
            if not export.parts:
                export.problems.append((0, "", "", "no ndjson or JSON file in the archive"))
            yield export
            return
        info, data = manifests[0]
        export.manifest_name = info.filename
        export.manifest_lines = archive.read(info).count(b"\n") + 1

        def find(url: str) -> tuple[str, Callable[[], IO[bytes]]] | str:
            found = _match_member(url, list(by_name))
            if isinstance(found, str) and found in by_name:
                return found, opener(by_name[found])
            return found if isinstance(found, str) else "not in the archive"

        _read_manifest(export, data, find)
        listed = {p.name for p in export.parts} | {info.filename}
        for member in members:
            name = member.filename
            if name not in listed and name.lower().endswith(DATA_SUFFIXES):
                export.problems.append(
                    (0, "", name[:200], "a data file in the archive that the manifest does not "
                     "list: it would not be read (add it to the manifest or leave it out)")
                )  # fmt: skip
        yield export


# What reading a damaged or unusual member of an archive raises (a broken deflate stream, a
# bad header or CRC, a compression method zipfile does not support).
UNREADABLE_MEMBER = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, NotImplementedError,
                     OSError, EOFError)  # fmt: skip


def _finder_extra(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    return name.startswith("__MACOSX/") or posixpath.basename(name).startswith("._")


def _zip_problem(members: list[zipfile.ZipInfo], limits: Limits) -> str:
    if len(members) > limits.max_entries:
        return f"more than {limits.max_entries:,} files in the archive"
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            return f"{info.filename}: an encrypted member (export without a password)"
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            return (
                f"{info.filename}: expands {ratio:,.0f} times: refused as a possible zip bomb "
                f"(limit {limits.max_ratio:,.0f} times)"
            )
        total += info.file_size
    if total > limits.max_total:
        return f"more than {limits.max_total:,} bytes uncompressed in all: refused"
    return ""


def _url_path(url: str) -> str:
    try:
        return unquote(urlsplit(url).path).lstrip("/")
    except ValueError:  # not a URL (an unclosed IPv6 bracket): names no file
        return ""


def _match_member(url: str, names: list[str]) -> str | tuple[()]:
    """The member a manifest URL names: by its path's tail, else by its last segment."""
    path = _url_path(url)
    if not path:
        return ()
    tails = [n for n in names if path == n or path.endswith("/" + n)]
    if len(tails) == 1:
        return tails[0]
    base = posixpath.basename(path)
    same = [n for n in names if posixpath.basename(n) == base]
    if len(same) == 1:
        return same[0]
    if len(same) > 1:
        return f"matches more than one file in the archive ({', '.join(sorted(same)[:3])})"
    return ()


def _open_directory(path: Path) -> Export:
    export = Export(manifest_name=path.name)
    raw = path.read_bytes()
    export.manifest_lines = raw.count(b"\n") + 1
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", 0)
        export.problems.append((line, "", "", f"the manifest is not valid JSON ({exc})"))
        return export
    folder = path.parent

    def find(url: str) -> tuple[str, Callable[[], IO[bytes]]] | str:
        base = posixpath.basename(_url_path(url))
        target = folder / base if base else None
        if target is None or not target.is_file():
            return "not found beside the manifest"
        if target.is_symlink() or target.resolve().parent != folder.resolve():
            return "a link to a file elsewhere: only the files beside the manifest are read"
        return base, lambda: target.open("rb")

    _read_manifest(export, data, find)
    return export


def _read_manifest(
    export: Export,
    data: Any,
    find: Callable[[str], tuple[str, Callable[[], IO[bytes]]] | str],
) -> None:
    """Check the manifest and list its files (problems at line 0 of the manifest)."""

    def problem(value: Any, reason: str) -> None:
        export.problems.append((0, "", str(value)[:200], reason))

    def url_problem(url: str, reason: str) -> None:
        problem(shown_url(url), reason)

    if not isinstance(data, dict):
        problem("", "the manifest is not a JSON object")
        return
    raw_time = data.get("transactionTime")
    export.transaction_time = parse_transaction_time(raw_time)
    if export.transaction_time is None:
        problem(raw_time or "", "transactionTime must be an instant with its time zone "
                "(for example 2025-04-01T06:00:00Z): it is the data cut-off")  # fmt: skip
    seen: set[str] = set()
    for role in ("output", "error", "deleted"):
        entries = data.get(role, [])
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            problem(role, f"the manifest's {role} must be a list")
            continue
        for number, entry in enumerate(entries, start=1):
            where = f"{role}[{number - 1}]"
            if not isinstance(entry, dict):
                problem(where, "a manifest entry that is not an object")
                continue
            kind, url, count = entry.get("type"), entry.get("url"), entry.get("count")
            if not isinstance(url, str) or not url:
                problem(where, "a manifest entry without a url")
                continue
            if role == "output" and (not isinstance(kind, str) or not kind):
                url_problem(url, "a manifest output without a resource type")
                continue
            if count is not None and (
                isinstance(count, bool) or not isinstance(count, int) or count < 0
            ):
                problem(count, f"{where}: count must be a whole number of resources")
                continue
            found = find(url)
            if isinstance(found, str):
                url_problem(url, f"a file the manifest lists is missing: {found}")
                continue
            name, opener = found
            if name in seen:
                url_problem(url, "the manifest lists the same file twice")
                continue
            seen.add(name)
            declared = kind if isinstance(kind, str) and role == "output" else ""
            export.parts.append(Part(name, role, declared, count, opener))
    if not any(p.role in ("output", "deleted") for p in export.parts) and not export.problems:
        problem("", "the manifest lists no output file")  # (an export of deletions only is fine)
    request = data.get("request")
    export.incremental = any(p.role == "deleted" for p in export.parts) or (
        isinstance(request, str) and "_since" in parse_qs(_query(request))
    )
    export.feed = export_feed(request)


def shown_url(url: str) -> str:
    """A manifest URL as a report may keep it: without a user name, password or query (an
    access token or a pre-signed download's signature)."""
    parts = url_parts(url)
    if parts is None:
        return ""
    base, segments = parts
    return base + "/".join(segments)


def export_feed(request: object) -> str:
    """Which feed an export is a run of: its kick-off request's URL without the query, the
    operation (``$export``) or any credentials, e.g. ``https://ehr.example.org/fhir/Group/g7``.

    Every run of one feed speaks for the same schedules, and only for those: an incremental
    run's slots complete the feed's own latest snapshot, not another system's or group's.
    '' when the manifest gives no request (a feed of its own, as are uploads of other kinds).
    """
    parts = url_parts(request)
    if parts is None:
        return ""
    base, segments = parts
    if segments and unquote(segments[-1]).startswith("$"):
        segments.pop()
    return feed_name(base, segments)


# -- reading it ----------------------------------------------------------------------------


FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # the id datatype of FHIR R4
# Deleted resources an import applies (``ingest.stage_deleted``); the store keeps no others.
APPLIED_DELETIONS = ("Appointment", "Encounter", "Slot")


@dataclass
class Reading:
    """What reading the export's files found besides the resources."""

    sources: Sources = field(default_factory=Sources)
    error_issues: dict[str, int] = field(default_factory=dict)  # "severity code" -> count
    deleted: int = 0  # resources the deleted files list
    # Of which those an import applies (``APPLIED_DELETIONS``), by type, written to
    # ``deleted_sink`` as "Type<TAB>id" lines.
    deleted_applied: dict[str, int] = field(default_factory=dict)
    deleted_sink: IO[str] | None = None
    files: int = 0

    def warnings(self) -> list[str]:
        out = []
        if self.error_issues:
            total = sum(self.error_issues.values())
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.error_issues.items()))
            out.append(
                f"the export's error file lists {total} problem(s) the server met while "
                f"exporting ({kinds}): resources it could not export are missing from the data"
            )
        if self.deleted:
            applied = ", ".join(
                f"{self.deleted_applied[t]} {t}(s)" for t in APPLIED_DELETIONS
                if self.deleted_applied.get(t)
            ) or "none the store keeps"  # fmt: skip
            out.append(
                f"the export lists {self.deleted} deleted resource(s), of which {applied}: "
                "an import removes appointments and encounters from the store unless it "
                "holds a state dated after the export, and slots from the export's own "
                "snapshot; other deleted resources are not kept anyway"
            )
        return out


def appointments_last(export: Export) -> bool:
    """Whether ``reading_order`` reads every Appointment after everything else: the manifest
    gives the type of every output file (and a file of another type is a problem)."""
    outputs = [p for p in export.parts if p.role == "output"]
    return bool(outputs) and all(p.type for p in outputs)


def reading_order(export: Export) -> list[Part]:
    """The export's files as they are read: the Appointment files after the files their
    references point to, so each Appointment can be mapped as it is read (``fhir.convert``'s
    ``stream_appointments``), then the error and deleted files. Else the manifest's order."""
    if not appointments_last(export):
        return export.parts
    return sorted(export.parts, key=lambda p: (p.role != "output", p.type == "Appointment"))


def iter_export(export: Export, reading: Reading) -> Iterator[Item]:
    """The resources of the export's output files, as Items on one line numbering.

    Problems of the whole export come first (at the manifest's lines); error files and
    deleted lists are read into ``reading``; a short or mistyped file is a problem."""
    reading.sources.add(0, export.manifest_name or "(archive)")
    for line, _column, value, reason in export.problems:
        yield Item(line, None, reason, value, plain_value=True)
    if export.problems:
        return
    start = export.manifest_lines + 1
    for part in reading_order(export):
        reading.sources.add(start, part.name)
        last = yield from _read_part(part, start, reading)
        start += last + 1


def _query(url: str) -> str:
    try:
        return urlsplit(url).query
    except ValueError:  # not a URL: no query
        return ""


def _read_part(part: Part, start: int, reading: Reading) -> Generator[Item, None, int]:
    """One file's Items (lines shifted by ``start``); returns its last line number."""
    reading.files += 1
    resources = 0
    last = 0
    try:
        raw = part.open()
    except UNREADABLE_MEMBER as exc:
        yield Item(start, None, f"the file cannot be read from the archive ({exc})")
        return last
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        try:
            if part.role == "deleted":  # Bundles of DELETE requests, one per line
                for number, line_text in bounded_lines(text, MAX_LINE_CHARS):
                    last = number
                    if line_text is None:
                        yield Item(start + number, None, line_too_long(MAX_LINE_CHARS))
                        continue
                    if line_text.strip():
                        problem = _read_deleted(line_text, reading)
                        if problem:
                            yield Item(start + number, None, problem)
                return last
            for item in iter_document(text) if part.document else iter_ndjson(text):
                last = max(last, item.line)
                line = start + item.line
                if item.resource is None:
                    yield replace(item, line=line)  # a problem, or a Bundle's DELETE entry
                    continue
                resources += 1
                kind = item.resource.get("resourceType")
                if part.role == "error":
                    _count_issues(item.resource, reading)
                elif part.type and kind != part.type:
                    found = str(kind or "resource without a type")
                    article = "an" if found[:1] in "AEIOU" else "a"
                    yield Item(
                        line,
                        None,
                        f"{article} {found} in a file the manifest lists as {part.type}",
                    )
                else:
                    yield Item(line, item.resource, text=item.text)
        except UnicodeDecodeError:
            yield Item(start, None, "the file is not valid UTF-8")
            return last
        except UNREADABLE_MEMBER as exc:
            yield Item(start, None, f"the file cannot be read from the archive ({exc})")
            return last
    if part.count is not None and resources != part.count:
        yield Item(
            start,
            None,
            f"the manifest gives {part.count:,} resources for this file and it holds "
            f"{resources:,}: an incomplete download?",
            str(resources),
            plain_value=True,
        )
    return last


def _count_issues(outcome: dict[str, Any], reading: Reading) -> None:
    issues = outcome.get("issue") if outcome.get("resourceType") == "OperationOutcome" else None
    for issue in issues if isinstance(issues, list) else [{}]:
        issue = issue if isinstance(issue, dict) else {}
        severity = issue.get("severity") if isinstance(issue.get("severity"), str) else "error"
        code = issue.get("code") if isinstance(issue.get("code"), str) else "unknown"
        key = f"{severity} {code}"[:60]
        reading.error_issues[key] = reading.error_issues.get(key, 0) + 1


def _read_deleted(line: str, reading: Reading) -> str:
    """Count a line of a deleted file and write its Appointment ids; a problem, or ""."""
    try:
        bundle = json.loads(line)
    except (ValueError, RecursionError):
        return "not valid JSON in a list of deleted resources: the deletions cannot be applied"
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    if not isinstance(entries, list):
        return "a line of a deleted file that is not a Bundle with entries"
    for entry in entries:
        request = entry.get("request") if isinstance(entry, dict) else None
        url = request.get("url") if isinstance(request, dict) else None
        found = reference({"reference": url}) if isinstance(url, str) else None
        if found is None and isinstance(entry, dict):
            found = reference({"reference": entry.get("fullUrl")})
        if found is None:
            return "a deleted entry without a resource type and id (request.url Type/id)"
        if not FHIR_ID.fullmatch(found[1]):
            return "a deleted entry whose id is not a FHIR id (letters, digits, '-', '.'; 64)"
        reading.deleted += 1
        if found[0] in APPLIED_DELETIONS:
            reading.deleted_applied[found[0]] = reading.deleted_applied.get(found[0], 0) + 1
            if reading.deleted_sink is not None:
                reading.deleted_sink.write(f"{found[0]}\t{found[1]}\n")
    return ""
