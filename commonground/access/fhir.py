"""FHIR R4 scheduling data as canonical appointment rows. No Django.

Input (access-and-parity.md section 6.2): single JSON resources, Bundles (searchset,
collection, transaction, batch) or Bulk Data ndjson (one resource per line), holding
Appointment plus, where given, Encounter, Slot, Schedule, ServiceRequest, PractitionerRole
and Patient. Other resource types are counted and ignored.

Flat memory: JSON documents are walked with a streaming reader that decodes one Bundle entry
at a time (``iter_resources``); ndjson is read line by line. Everything an Appointment refers
to may come later in the file, so pass 1 stages resources in an SQLite file in the caller's
private work directory and pass 2 maps Appointments in file order, looking references up there.
A Bulk Data export, whose manifest types every file, is read with its Appointment files last
(``bulk.reading_order``): each Appointment is then mapped as it is read, never staged.

Mapping (section 6.2 table; first non-null wins):

* appointment_id: Appointment.id (else the first identifier value);
* patient_id: the participant whose actor references ``Patient/`` (R5: ``subject``);
* provider_id: a Practitioner participant (an attender first), through PractitionerRole to
  its practitioner when the role is given;
* clinic_id: a Location participant, else Slot -> Schedule.actor Location / HealthcareService;
* provider_class and service_line: PractitionerRole.code / specialty, then Appointment
  specialty, serviceType, serviceCategory, then the Slot and Schedule codes, through a
  concept map (``DEFAULT_CONCEPT_MAP`` plus the deployment's own entries); a code in the
  system ``urn:commonground:provider-class`` / ``urn:commonground:service-line`` is taken as
  the canonical value itself;
* request_datetime: basedOn -> ServiceRequest.authoredOn, else the earliest
  requestedPeriod.start, else ``created`` (not for FOLLOWUP visits, whose clock starts at the
  prior visit);
* booked_datetime: created; appointment_start: start; duration: minutesDuration or end - start;
* status: the table in the spec; proposed and waitlist appointments (and cancelled ones
  without a start) are open requests, not appointments: they go to a separate output because
  the canonical layout has no row for them yet;
* cancel_initiator: the cancelationReason code prefix (pat -> patient, prov -> provider,
  other codes -> clinic); urgency: appointmentType EMERGENCY, never priority alone;
  appointment_kind: appointmentType FOLLOWUP; referral_id: the basedOn ServiceRequest;
* an Encounter linked to a booked Appointment completes it (finished -> completed,
  arrived / triaged / in-progress -> arrived) and gives the modality (VR -> video,
  AMB -> in_person).

Unmapped status, class or appointment-type codes block the import, each reported with the
line where its resource starts, the canonical column, the value and the reason. Slots and
Encounters are also written to separate outputs (``slots.csv``, ``encounters.csv``): the
canonical CSV has no place for them, and next / third-next available and the HEDIS-like
measures read them once that wiring exists.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from .extract import ExtractError, without_carriage_returns
from .hedis import ENCOUNTER_STATUSES
from .slots import MAX_FEED_LENGTH, SLOT_STATUSES, iso_datetime

SNOMED = "http://snomed.info/sct"
NUCC = "http://nucc.org/provider-taxonomy"
V2_0276 = "http://terminology.hl7.org/CodeSystem/v2-0276"
V3_ACTCODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CANCEL_REASON = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
CG_PROVIDER_CLASS = "urn:commonground:provider-class"
CG_SERVICE_LINE = "urn:commonground:service-line"
CANCELLATION_DATE_EXTENSION = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationDate"
)

MAX_RESOURCE_CHARS = 64 * 1024 * 1024
MAX_LINE_CHARS = MAX_RESOURCE_CHARS

# Appointment.status (http://hl7.org/fhir/appointmentstatus) -> canonical status.
STATUS_MAP = {
    "pending": "scheduled",
    "booked": "scheduled",
    "arrived": "arrived",
    "fulfilled": "completed",
    "cancelled": "cancelled",
    "noshow": "no_show",
    "entered-in-error": "entered_in_error",
    "checked-in": "checked_in",
    # No time finalised yet: a request still waiting (its wait runs until an offer).
    "proposed": "requested",
    "waitlist": "requested",
}
REQUEST_STATUSES = ("proposed", "waitlist")
APPOINTMENT_STATUSES = tuple(STATUS_MAP)

APPOINTMENT_TYPES = ("CHECKUP", "EMERGENCY", "FOLLOWUP", "ROUTINE", "WALKIN")  # v2-0276

CANCEL_REASONS = frozenset(
    {
        "pat", "pat-crs", "pat-cpp", "pat-dec", "pat-fb", "pat-lt", "pat-mt", "pat-mv",
        "pat-preg", "pat-swl", "pat-ucp",
        "prov", "prov-pers", "prov-dch", "prov-edu", "prov-hosp", "prov-labs", "prov-mri",
        "prov-onc",
        "maint", "meds-inc",
        "other", "oth-cms", "oth-err", "oth-fin", "oth-iv", "oth-int", "oth-mu", "oth-room",
        "oth-oerr", "oth-swie", "oth-weath",
    }
)  # fmt: skip

ENCOUNTER_DONE = frozenset({"finished", "completed", "discharged"})
ENCOUNTER_ARRIVED = frozenset({"arrived", "triaged", "in-progress"})
# Encounter.class: v3 ActCode encounter codes.
ENCOUNTER_CLASSES = frozenset(
    {"AMB", "EMER", "FLD", "HH", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR"}
)
CLASS_MODALITY = {"VR": "video", "AMB": "in_person"}

PROVIDER_CLASSES = (
    "psychiatrist", "psychologist", "lcsw", "lmft", "lpcc", "psych_np", "sud_counselor",
    "aba", "pcp", "specialist_md", "ancillary", "other",
)  # fmt: skip
SERVICE_LINES = ("MH", "SUD", "PC", "MS_SPECIALTY", "ANCILLARY")
CLASS_LINE = {
    "psychiatrist": "MH", "psychologist": "MH", "lcsw": "MH", "lmft": "MH", "lpcc": "MH",
    "psych_np": "MH", "aba": "MH", "sud_counselor": "SUD", "pcp": "PC",
    "specialist_md": "MS_SPECIALTY", "ancillary": "ANCILLARY",
}  # fmt: skip

# (system, code) -> (provider_class, service_line). SNOMED CT practice settings and the NUCC
# provider taxonomy (US licence types, which is what separates an LCSW from a psychiatrist).
# Deployments add their local codes (``ConceptMap(concept_map=...)``).
DEFAULT_CONCEPT_MAP: dict[tuple[str, str], tuple[str, str]] = {
    (SNOMED, "394814009"): ("pcp", "PC"),  # General practice
    (SNOMED, "419772000"): ("pcp", "PC"),  # Family practice
    (SNOMED, "394802001"): ("pcp", "PC"),  # General medicine
    (SNOMED, "394587001"): ("psychiatrist", "MH"),  # Psychiatry
    (SNOMED, "394588006"): ("psychiatrist", "MH"),  # Child and adolescent psychiatry
    (SNOMED, "394579002"): ("specialist_md", "MS_SPECIALTY"),  # Cardiology
    (SNOMED, "394583002"): ("specialist_md", "MS_SPECIALTY"),  # Endocrinology
    (SNOMED, "394591006"): ("specialist_md", "MS_SPECIALTY"),  # Neurology
    (NUCC, "2084P0800X"): ("psychiatrist", "MH"),
    (NUCC, "2084P0804X"): ("psychiatrist", "MH"),  # child & adolescent psychiatry
    (NUCC, "103T00000X"): ("psychologist", "MH"),
    (NUCC, "1041C0700X"): ("lcsw", "MH"),
    (NUCC, "106H00000X"): ("lmft", "MH"),
    (NUCC, "101YP2500X"): ("lpcc", "MH"),
    (NUCC, "363LP0808X"): ("psych_np", "MH"),
    (NUCC, "101YA0400X"): ("sud_counselor", "SUD"),
    (NUCC, "103K00000X"): ("aba", "MH"),
    (NUCC, "207Q00000X"): ("pcp", "PC"),  # family medicine
    (NUCC, "207R00000X"): ("pcp", "PC"),  # internal medicine
    (NUCC, "208D00000X"): ("pcp", "PC"),  # general practice
    (NUCC, "207RC0000X"): ("specialist_md", "MS_SPECIALTY"),  # cardiovascular disease
    (NUCC, "2084N0400X"): ("specialist_md", "MS_SPECIALTY"),  # neurology
}

# Appointment statuses accepted without ``created`` (booked, and pending, which maps alike).
BOOKING_TIME_OPTIONAL = frozenset({"booked", "pending"})
SLOT_COLUMNS = (
    "slot_id", "schedule_id", "status", "start", "end", "clinic_id", "provider_id",
    "provider_class", "service_line", "overbooked", "feed",
)  # fmt: skip
ENCOUNTER_COLUMNS = (
    "encounter_id", "patient_id", "status", "class", "start", "end", "appointment_ids",
    "principal_dx", "other_dx", "discharge_disposition", "patient_birth_year", "clinic_id",
)  # fmt: skip
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
REQUEST_COLUMNS = (
    "appointment_id", "patient_id", "clinic_id", "status", "created", "request_datetime",
    "requested_start", "requested_end",
)  # fmt: skip


# What the reader tells the data steward about rows it kept, changed or set apart: a counter
# and the sentence after its number.
COUNT_WARNINGS = (
    ("requests_waiting", "proposed or waitlist Appointment(s) read as requests still waiting "
     "(status requested): pending until their deadline, then noncompliant if nothing was "
     "offered"),
    ("open_requests", "Appointment(s) cancelled before a time was set are withdrawn requests, "
     "not appointment rows: kept apart (requests.csv)"),
    ("clinic_from_import", "Appointment(s) named no clinic: given the clinic of this import"),
    ("booked_without_created", "booked Appointment(s) without created: kept, with the booking "
     'time unknown (a new request\'s wait then has no start: "unknown request date")'),
    ("slots_written", "Slot(s) read and kept apart (slots.csv): they give next and third-next "
     "available"),
    ("Encounter", "Encounter(s) read: they complete linked appointments and, with their "
     "ICD-10-CM reason codes, feed the HEDIS-like measures (encounters.csv kept apart)"),
    ("entered_in_error_dropped", "Appointment(s) entered-in-error without enough data for a "
     "row were dropped"),
    ("cancel_reason_local", "Appointment(s) gave a cancelationReason in a local code system "
     "only (not appointment-cancellation-reason): who cancelled is unknown for them"),
    ("bundle_deletions", "Bundle entr(ies) asked to DELETE a resource and were not applied: "
     "only a Bulk Data export's deleted files remove stored data (an appointment sent again "
     "with status entered-in-error leaves every measure)"),
)  # fmt: skip


# What mapping one resource raises when its elements do not have their FHIR R4 shapes.
MALFORMED = (TypeError, AttributeError, KeyError, IndexError, ValueError)


# -- reading JSON with flat memory ---------------------------------------------------------


@dataclass
class Item:
    """A resource read from the file, with the line its JSON starts on."""

    line: int
    resource: dict[str, Any] | None
    problem: str = ""  # set instead of ``resource`` when the JSON could not be read
    value: str = ""  # the raw text read (withheld from kept reports) unless ``plain_value``
    plain_value: bool = False  # ``value`` is a name or a number, not a record's text
    text: str = ""  # the resource's own JSON text (an ndjson line), when it was read whole
    origin: str = ""  # the server a Bundle entry's ``fullUrl`` names (Slots only: ``entry_feed``)
    deletion: bool = False  # a Bundle entry that asks to DELETE a resource (none is read)


class _Stream:
    """A text buffer over a file for ``raw_decode``, tracking line numbers incrementally."""

    def __init__(self, handle: IO[str], max_value: int) -> None:
        self.handle = handle
        self.max_value = max_value
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.chunk = 1 << 16
        self.counted = 0  # buf index up to which newlines are counted
        self.line_no = 1  # line at ``counted``
        self.dropped = 0  # characters consumed and dropped from the front of ``buf``
        self.decoder = json.JSONDecoder()

    def fill(self) -> bool:
        if self.eof:
            return False
        data = self.handle.read(self.chunk)
        if not data:
            self.eof = True
            return False
        if self.pos > (1 << 20):  # drop what was consumed
            self.line()
            self.buf = self.buf[self.pos :]
            self.counted -= self.pos
            self.dropped += self.pos
            self.pos = 0
        self.buf += data
        return True

    def line(self) -> int:
        if self.pos > self.counted:
            self.line_no += self.buf.count("\n", self.counted, self.pos)
            self.counted = self.pos
        return self.line_no

    def peek(self) -> str:
        """The next non-blank character ('' at the end of the file)."""
        while True:
            buf, pos = self.buf, self.pos
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self.fill():
                return ""

    def value(self) -> Any:
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if len(self.buf) - self.pos > self.max_value:
                    raise ValueError(
                        f"a JSON value longer than {self.max_value:,} characters"
                    ) from None
                self.chunk = min(self.chunk * 2, 1 << 24)
                if not self.fill():
                    raise
                continue
            if end == len(self.buf) and self.fill():
                continue  # a number may go on in the next chunk
            if _unpaired_surrogate(self.buf, self.pos, end, value):
                raise ValueError(NOT_UNICODE)
            self.pos = end
            return value


def _json_problem(exc: Exception, base_line: int = 0) -> tuple[int, str]:
    if isinstance(exc, json.JSONDecodeError):
        return base_line + exc.lineno, f"not valid JSON ({exc.msg}; truncated file?)"
    return base_line, str(exc)


def iter_document(handle: IO[str], max_value: int = MAX_RESOURCE_CHARS) -> Iterator[Item]:
    """The resources of one JSON document: a resource, or a Bundle's entries one by one."""
    s = _Stream(handle, max_value)
    first = s.peek()
    if first == "":
        yield Item(1, None, "the file is empty")
        return
    if first != "{":
        yield Item(s.line(), None, "expected a JSON object (a FHIR resource or a Bundle)")
        return
    start = s.line()
    s.pos += 1
    fields: dict[str, Any] = {}
    kept = 0  # characters of the members kept in ``fields`` (a Bundle's entries are not)
    entries = 0
    try:
        while True:
            ch = s.peek()
            if ch == "}":
                s.pos += 1
                break
            if ch == ",":
                s.pos += 1
                continue
            if ch != '"':
                raise ValueError("not valid JSON (expected a member name; truncated file?)")
            key = s.value()
            if s.peek() != ":":
                raise ValueError("not valid JSON (expected ':'; truncated file?)")
            s.pos += 1
            if key == "entry" and s.peek() == "[":
                s.pos += 1
                while True:
                    ch = s.peek()
                    if ch == "]":
                        s.pos += 1
                        break
                    if ch == ",":
                        s.pos += 1
                        continue
                    if ch == "":
                        raise ValueError("the file ends inside the Bundle's entries (truncated)")
                    line = s.line()
                    entries += 1
                    yield from _entry(s.value(), line)
            else:
                s.peek()
                before = s.dropped + s.pos
                fields[key] = s.value()
                # The members kept are one resource: bounded as one value is.
                kept += s.dropped + s.pos - before
                if kept > max_value:
                    raise ValueError(f"a JSON value longer than {max_value:,} characters")
    except (ValueError, RecursionError) as exc:
        line = s.line()
        reason = str(exc)
        if isinstance(exc, json.JSONDecodeError):
            reason = f"not valid JSON ({exc.msg}; truncated file?)"
        elif s.eof and not reason.startswith("the file ends"):
            reason = "the file ends inside a JSON value (truncated)"
        yield Item(line, None, reason)
        return
    if s.peek() != "":
        yield Item(s.line(), None, "more data after the JSON document (use ndjson for many)")
    kind = fields.get("resourceType")
    if entries or kind == "Bundle":
        if kind != "Bundle":
            yield Item(start, None, f"a {kind or 'document'} with entries is not a Bundle")
        else:
            yield from _bundle_type_problem(fields.get("type"), start)
        return
    yield Item(start, fields)


def _bundle_type_problem(kind: Any, line: int) -> Iterator[Item]:
    if kind not in ("searchset", "collection", "transaction", "batch"):
        yield Item(
            line,
            None,
            "Bundle.type must be searchset, collection, transaction or batch "
            "(history, document and message Bundles are not read)",
            str(kind or ""),
        )


def _entry(entry: Any, line: int) -> Iterator[Item]:
    if not isinstance(entry, dict):
        yield Item(line, None, "a Bundle entry that is not an object")
        return
    resource = entry.get("resource")
    if resource is None:
        request = entry.get("request") or {}
        if isinstance(request, dict) and request.get("method") == "DELETE":
            yield Item(line, None, deletion=True)  # counted, and said not to be applied
            return
        yield Item(line, None, "a Bundle entry without a resource")
        return
    if not isinstance(resource, dict):
        yield Item(line, None, "a Bundle entry whose resource is not an object")
        return
    kind = resource.get("resourceType")
    if kind == "Bundle":
        yield from _nested(resource, line)
        return
    # Slot ids are unique on one server only: a Slot keeps the server that published it.
    origin = entry_feed(entry.get("fullUrl"), "Slot") if kind == "Slot" else ""
    yield Item(line, resource, origin=origin)


def _nested(bundle: dict[str, Any], line: int) -> Iterator[Item]:
    yield from _bundle_type_problem(bundle.get("type"), line)
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        yield Item(line, None, "Bundle.entry must be a list of entries")
        return
    for entry in entries:
        yield from _entry(entry, line)


def _unpaired_surrogate(text: str, start: int, end: int, value: Any) -> bool:
    """Whether the JSON ``text[start:end]`` decoded to ``value`` holds an unpaired surrogate
    escape ("\\ud800"): valid JSON, but no UTF-8 text can hold it, so no output could."""
    if text.find("\\ud", start, end) < 0 and text.find("\\uD", start, end) < 0:
        return False  # (the usual case, found in C without decoding anything again)
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


NOT_UNICODE = "text that is not valid Unicode (an unpaired surrogate escape such as \\ud800)"


# -- which system a resource came from -------------------------------------------------------

DEFAULT_PORTS = {"https": ":443", "http": ":80"}


def url_parts(url: object) -> tuple[str, list[str]] | None:
    """A URL's ``scheme://host`` (lower case, without credentials or the scheme's default
    port; '' when it names no host) and its path segments; None when ``url`` is no URL."""
    if not isinstance(url, str) or not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # not a URL (an unclosed IPv6 bracket)
        return None
    if not parts.netloc and "@" in parts.path.split("/", 1)[0]:
        return None  # "user:password@host/..." without "//": no server to name safely
    scheme = parts.scheme.lower()
    host = parts.netloc.rsplit("@", 1)[-1].lower()  # never a user name or password
    if scheme in DEFAULT_PORTS:  # ":443" on https is the same server as none
        host = host.removesuffix(DEFAULT_PORTS[scheme])
    base = f"{scheme}://{host}" if host else ""
    return base, parts.path.rstrip("/").split("/")


def feed_name(base: str, segments: list[str]) -> str:
    """The name a feed is kept under: its base and path, capped at ``MAX_FEED_LENGTH``."""
    return (base + "/".join(segments).rstrip("/"))[:MAX_FEED_LENGTH]


def entry_feed(full_url: object, kind: str) -> str:
    """The FHIR server a Bundle entry's ``fullUrl`` names: ``https://ehr.example.org/fhir``
    for ``https://ehr.example.org/fhir/Slot/s4`` (or ``.../Slot/s4/_history/2``); '' for a
    ``urn:uuid:`` or any URL that does not end with the resource's type and id."""
    parts = url_parts(full_url)
    if parts is None or not parts[0]:  # no URL, or no server named (``urn:uuid:...``)
        return ""
    base, segments = parts
    if len(segments) >= 4 and segments[-2] == "_history":
        del segments[-2:]
    if len(segments) < 2 or segments[-2] != kind or not segments[-1]:
        return ""
    return feed_name(base, segments[:-2])


def bounded_lines(handle: IO[str], max_line: int) -> Iterator[tuple[int, str | None]]:
    """(number, text) of each line, from 1; never a line read whole past ``max_line``
    characters: such a line is (number, None), and the rest of it is skipped."""
    number = 0
    while text := handle.readline(max_line + 1):
        number += 1
        if len(text) > max_line and not text.endswith("\n"):
            while text and not text.endswith("\n"):  # skip the rest of that line
                text = handle.readline(1 << 20)
            yield number, None
        else:
            yield number, text


def line_too_long(max_line: int) -> str:
    return f"a line longer than {max_line:,} characters"


def iter_ndjson(handle: IO[str], max_line: int = MAX_LINE_CHARS) -> Iterator[Item]:
    """One resource per line (Bulk Data); a bad line is reported and reading goes on."""
    for number, text in bounded_lines(handle, max_line):
        if text is None:
            yield Item(number, None, line_too_long(max_line))
            continue
        stripped = text.strip()
        if not stripped:
            continue
        try:
            resource = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError) as exc:
            if not text.endswith("\n"):
                reason = "not valid JSON (the last line is cut short: truncated file?)"
            else:
                reason = f"not valid JSON ({getattr(exc, 'msg', 'too deeply nested')})"
            yield Item(number, None, reason, stripped[:80])
            continue
        if not isinstance(resource, dict):
            yield Item(number, None, "a line that is not a JSON object (one resource per line)")
        elif ("\\ud" in stripped or "\\uD" in stripped) and _unpaired_surrogate(
            stripped, 0, len(stripped), resource
        ):  # (the test in C first: a call per line costs more than the check)
            yield Item(number, None, NOT_UNICODE)
        elif resource.get("resourceType") == "Bundle":
            yield from _nested(resource, number)
        else:
            yield Item(number, resource, text=stripped)


def iter_resources(path: Path, *, ndjson: bool) -> Iterator[Item]:
    with path.open(encoding="utf-8-sig", errors="strict", newline="") as handle:
        try:
            if ndjson:
                yield from iter_ndjson(handle)
            else:
                yield from iter_document(handle)
        except UnicodeDecodeError:
            yield Item(0, None, "the file is not valid UTF-8")


def looks_like_ndjson(path: Path, probe: int = 1 << 20) -> bool:
    """ndjson when the first non-blank line is a whole JSON object on its own."""
    with path.open("rb") as handle:
        line = b""
        while not line.strip():
            line = handle.readline(probe)
            if not line:
                return False
    if not line.endswith(b"\n") and len(line) >= probe:
        return False  # a long first line: a minified document, read as a stream
    try:
        return isinstance(json.loads(line.decode("utf-8-sig")), dict)
    except (ValueError, UnicodeDecodeError):
        return False


# -- small FHIR helpers --------------------------------------------------------------------


def reference(value: Any) -> tuple[str, str] | None:
    """("Patient", "123") of a Reference (relative, absolute or versioned), else None."""
    if not isinstance(value, dict):
        return None
    ref = value.get("reference")
    if not isinstance(ref, str) or not ref or ref.startswith("#"):
        return None
    parts = ref.split("/_history/", 1)[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2], parts[-1]
    return None


def codings(value: Any) -> list[tuple[str, str]]:
    """(system, code) of a CodeableConcept, CodeableReference (R5) or list of either.

    A list, not a generator: it runs for a dozen elements of every resource, most of them
    absent, and a generator's set-up would cost more than the work."""
    if not value:
        return []
    if isinstance(value, list):
        return [found for item in value for found in codings(item)]
    if not isinstance(value, dict):
        return []
    if "concept" in value:  # R5 CodeableReference
        return codings(value["concept"])
    if "code" in value and "coding" not in value:  # a bare Coding
        return [(str(value.get("system") or ""), str(value.get("code") or ""))]
    return [
        (str(coding.get("system") or ""), str(coding["code"]))
        for coding in value.get("coding") or ()
        if isinstance(coding, dict) and coding.get("code")
    ]


def _label(value: Any) -> str:
    """A display text of a CodeableConcept: text, else the first display, else the code."""
    if not isinstance(value, dict):
        return ""
    if isinstance(value.get("text"), str) and value["text"]:
        return str(value["text"])
    for coding in value.get("coding") or []:
        if isinstance(coding, dict):
            for key in ("display", "code"):
                if isinstance(coding.get(key), str) and coding[key]:
                    return str(coding[key])
    return ""


def _parse_instant(text: Any) -> dt.datetime | None:
    if not isinstance(text, str) or len(text) < 16:
        return None
    try:
        return iso_datetime(text)
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# -- the mapping ---------------------------------------------------------------------------


@dataclass
class ConceptMap:
    """Concept map for provider class and service line (defaults plus local entries)."""

    concept_map: Mapping[tuple[str, str], tuple[str, str]] = field(
        default_factory=lambda: dict(DEFAULT_CONCEPT_MAP)
    )

    def classify(self, *sources: Any) -> tuple[str, str, list[str]]:
        """(provider_class, service_line, codes seen) from the first source that maps."""
        seen: list[str] = []
        line = ""
        found_codes = [c for source in sources for c in codings(source)]
        for system, code in found_codes:
            seen.append(f"{system}|{code}" if system else code)
            if system == CG_SERVICE_LINE and code in SERVICE_LINES and not line:
                line = code
        for system, code in found_codes:
            if system == CG_PROVIDER_CLASS and code in PROVIDER_CLASSES:
                return code, line or CLASS_LINE.get(code, ""), seen
            found = self.concept_map.get((system, code))
            if found is not None:
                return found[0], line or found[1], seen
        return "", line, seen


class Staging:
    """Pass-1 store of the resources (SQLite in the private work directory)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE appt (seq INTEGER PRIMARY KEY, line INTEGER, body TEXT);
            CREATE TABLE sr (key TEXT PRIMARY KEY, authored TEXT);
            CREATE TABLE role (key TEXT PRIMARY KEY, body TEXT);
            CREATE TABLE slot (
              seq INTEGER PRIMARY KEY, key TEXT, line INTEGER, body TEXT, origin TEXT);
            CREATE INDEX slot_key ON slot (key);
            CREATE TABLE sched (key TEXT PRIMARY KEY, body TEXT);
            CREATE TABLE patient (key TEXT PRIMARY KEY, birth_year TEXT);
            CREATE TABLE enc (seq INTEGER PRIMARY KEY, line INTEGER, body TEXT);
            CREATE TABLE enc_appt (appt TEXT, status TEXT, class TEXT);
            CREATE INDEX enc_appt_key ON enc_appt (appt);
            """
        )
        self.ignored: dict[str, int] = {}
        self.kinds: set[str] = set()  # the resource types staged (and "enc_appt" once linked)

    def close(self) -> None:
        self.db.close()

    def add(self, item: Item) -> None:
        res = item.resource or {}
        kind = res.get("resourceType")
        rid = _text(res.get("id"))
        key = f"{kind}/{rid}"
        body = None
        if kind in ("Appointment", "Slot", "Encounter", "Schedule", "PractitionerRole"):
            if item.text and "text" not in res and "contained" not in res:
                body = item.text  # as read: nothing to slim away, no need to write it again
            else:
                slim = {k: v for k, v in res.items() if k not in ("text", "contained")}
                body = json.dumps(slim, separators=(",", ":"))
        ex = self.db.execute
        self.kinds.add(str(kind))
        if kind == "Appointment":
            ex("INSERT INTO appt (line, body) VALUES (?, ?)", (item.line, body))
        elif kind == "Slot":
            ex(
                "INSERT INTO slot (key, line, body, origin) VALUES (?, ?, ?, ?)",
                (key, item.line, body, item.origin),
            )
        elif kind == "Encounter":
            ex("INSERT INTO enc (line, body) VALUES (?, ?)", (item.line, body))
        elif kind == "Schedule":
            ex("INSERT OR REPLACE INTO sched VALUES (?, ?)", (key, body))
        elif kind == "PractitionerRole":
            ex("INSERT OR REPLACE INTO role VALUES (?, ?)", (key, body))
        elif kind == "ServiceRequest":
            ex("INSERT OR REPLACE INTO sr VALUES (?, ?)", (key, _text(res.get("authoredOn"))))
        elif kind == "Patient":
            birth = _text(res.get("birthDate"))[:4]
            ex("INSERT OR REPLACE INTO patient VALUES (?, ?)", (key, birth))
        else:
            name = str(kind or "(no resourceType)")
            self.ignored[name] = self.ignored.get(name, 0) + 1

    def one(self, sql: str, key: str) -> Any:
        row = self.db.execute(sql, (key,)).fetchone()
        return row[0] if row else None

    def body(self, table: str, key: str) -> dict[str, Any] | None:
        text = self.one(f"SELECT body FROM {table} WHERE key = ?", key)  # noqa: S608 - table names are constants
        return json.loads(text) if text else None


@dataclass
class Outcome:
    """What ``convert`` read: side outputs, problems (source lines), counts, warnings."""

    problems: list[ExtractError] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)


class _DictWriter(csv.DictWriter):
    """Writes a value's line breaks as LF alone (``extract.without_carriage_returns``)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        if any(isinstance(v, str) and "\r" in v for v in rowdict.values()):
            rowdict = {
                k: without_carriage_returns(v) if isinstance(v, str) else v
                for k, v in rowdict.items()
            }
        return super().writerow(rowdict)


class Converter:
    """Two passes over a FHIR file: stage, then emit canonical rows in file order."""

    def __init__(
        self,
        workdir: Path,
        mapping: ConceptMap | None = None,
        max_errors: int = 100_000,
        default_clinic: str = "",
    ) -> None:
        self.workdir = workdir
        # The clinic of an import made for one clinic: for appointments that name none.
        self.default_clinic = default_clinic
        self.mapping = mapping or ConceptMap()
        self.max_errors = max_errors
        self.outcome = Outcome()
        self.staging = Staging(workdir / "fhir-staging.sqlite")
        self._encounter_links: dict[str, tuple[str, str]] = {}

    def problem(self, line: int, column: str, value: str, reason: str, whole: bool = False) -> None:
        self.outcome.problem_count += 1
        if len(self.outcome.problems) < self.max_errors:
            self.outcome.problems.append(ExtractError(line, column, value[:200], reason, whole))

    def bump(self, name: str) -> None:
        self.outcome.counts[name] = self.outcome.counts.get(name, 0) + 1

    def malformed(self, line: int, kind: str) -> None:
        """A resource whose elements do not have their FHIR R4 shapes (a number where a list
        belongs, say) that the mapping met: a problem on its line, never a crash."""
        reason = (
            f"a malformed {kind}: an element does not have the shape FHIR R4 gives it (a "
            "list, an object or a text where another belongs)"
        )
        self.problem(line, "", "", reason)

    # -- pass 1 ------------------------------------------------------------------------------

    def stage(
        self, items: Iterator[Item], *, stream_appointments: bool = False
    ) -> Iterator[Item] | None:
        """Stage ``items``. With ``stream_appointments`` (the caller reads every resource an
        Appointment can refer to before the first Appointment, and only Appointments after
        it), stop there and return the rest, which ``rows`` maps as it reads it: an
        Appointment is then parsed once and never staged."""
        rest = None
        with self.staging.db:
            for item in items:
                if stream_appointments and (item.resource or {}).get("resourceType") == (
                    "Appointment"
                ):
                    rest = itertools.chain([item], items)
                    break
                if self._staged(item):
                    self._stage(item)
        self._ignored_warning()
        return rest

    def _stage(self, item: Item) -> None:
        try:
            self.staging.add(item)
        except MALFORMED:
            self.malformed(item.line, str((item.resource or {}).get("resourceType")))

    def _map(self, res: dict[str, Any], line: int, requests: Any) -> dict[str, str] | None:
        try:
            return self._appointment(res, line, requests)
        except MALFORMED:
            self.malformed(line, "Appointment")
            return None

    def _staged(self, item: Item) -> bool:
        """Whether ``item`` is a resource to stage or map (counted); else a problem."""
        if item.deletion:
            self.bump("bundle_deletions")
            return False
        if item.resource is None:
            whole = bool(item.value) and not item.plain_value
            self.problem(item.line, "", item.value, item.problem, whole=whole)
            return False
        kind = item.resource.get("resourceType")
        if not isinstance(kind, str) or not kind:
            self.problem(item.line, "", "", "a JSON object without a resourceType")
            return False
        self.bump(kind)
        return True

    def _ignored_warning(self) -> None:
        ignored = self.staging.ignored
        if ignored:
            self.outcome.warnings.append(
                "FHIR resources not used: "
                + ", ".join(f"{n} {kind}" for kind, n in sorted(ignored.items()))
            )

    # -- pass 2 ------------------------------------------------------------------------------

    def rows(self, rest: Iterator[Item] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
        """(source line, canonical row) per Appointment that maps, in file order: the staged
        ones, then those of ``rest`` (``stage``), mapped as they are read."""
        self._encounters()
        self._slots()
        requests = self._writer("requests", REQUEST_COLUMNS)
        try:
            cursor = self.staging.db.execute("SELECT line, body FROM appt ORDER BY seq")
            for line, body in cursor:
                row = self._map(json.loads(body), line, requests[1])
                if row is not None:
                    yield line, row
            for item in rest or ():
                if not self._staged(item) or item.resource is None:
                    continue
                if item.resource.get("resourceType") != "Appointment":
                    # The caller promised only Appointments here; another resource is not
                    # used by anything read before it.
                    self._stage(item)
                    continue
                row = self._map(item.resource, item.line, requests[1])
                if row is not None:
                    yield item.line, row
        finally:
            requests[0].close()
        for counter, text in COUNT_WARNINGS:
            n = self.outcome.counts.get(counter, 0)
            if n:
                self.outcome.warnings.append(f"{n} {text}")

    def _writer(self, name: str, columns: tuple[str, ...]) -> tuple[IO[str], Any]:
        path = self.workdir / f"{name}.csv"
        handle = path.open("w", encoding="utf-8", newline="")
        writer = _DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        self.outcome.outputs[name] = path
        return handle, writer

    def _encounters(self) -> None:
        handle, writer = self._writer("encounters", ENCOUNTER_COLUMNS)
        links: list[tuple[str, str, str]] = []
        try:
            for line, body in self.staging.db.execute("SELECT line, body FROM enc ORDER BY seq"):
                try:
                    self._encounter(line, body, writer, links)
                except MALFORMED:
                    self.malformed(line, "Encounter")
        finally:
            handle.close()
        self._link(links)

    def _encounter(
        self, line: int, body: str, writer: Any, links: list[tuple[str, str, str]]
    ) -> None:
        res = json.loads(body)
        status = _text(res.get("status"))
        ok = True
        if status not in ENCOUNTER_STATUSES:
            self.problem(line, "status", status, "unmapped Encounter.status: allowed "
                         + " | ".join(sorted(ENCOUNTER_STATUSES)))  # fmt: skip
            ok = False
        classes = list(codings(res.get("class")))
        cls = ""
        for system, code in classes:
            if system == V3_ACTCODE and code in ENCOUNTER_CLASSES:
                cls = cls or code
            else:
                shown = f"{system}|{code}" if system else code
                allowed = " | ".join(sorted(ENCOUNTER_CLASSES))
                reason = f"unmapped Encounter.class: use v3 ActCode {allowed}"
                self.problem(line, "modality", shown, reason)
                ok = False
        if not ok:
            return
        patient = reference(res.get("subject"))
        appts = [r[1] for r in map(reference, res.get("appointment") or []) if r]
        period = res.get("period") or {}
        # Diagnoses inline as ICD-10-CM reason codes, the first being the principal one
        # (a diagnosis held only in a referenced Condition is not read).
        dx = [code for system, code in codings(res.get("reasonCode")) if system == ICD10CM]
        disposition = next(
            iter(codings((res.get("hospitalization") or {}).get("dischargeDisposition"))),
            ("", ""),
        )[1]
        birth = (
            self.staging.one(
                "SELECT birth_year FROM patient WHERE key = ?", f"Patient/{patient[1]}"
            )
            if patient and patient[0] == "Patient"
            else None
        )
        writer.writerow(
            {
                "patient_birth_year": birth or "",
                "clinic_id": _encounter_clinic(res),
                "principal_dx": dx[0] if dx else "",
                "other_dx": ";".join(dx[1:]),
                "discharge_disposition": disposition,
                "encounter_id": _text(res.get("id")),
                "patient_id": patient[1] if patient and patient[0] == "Patient" else "",
                "status": status,
                "class": cls,
                "start": _text(period.get("start")),
                "end": _text(period.get("end")),
                "appointment_ids": ";".join(appts),
            }
        )
        links.extend((a, status, cls) for a in appts)
        if len(links) >= 10_000:  # flat memory: links go to the staging file
            self._link(links)

    def _link(self, links: list[tuple[str, str, str]]) -> None:
        with self.staging.db:
            self.staging.db.executemany("INSERT INTO enc_appt VALUES (?, ?, ?)", links)
        if links:
            self.staging.kinds.add("enc_appt")
        links.clear()

    def _slots(self) -> None:
        handle, writer = self._writer("slots", SLOT_COLUMNS)
        try:
            cursor = self.staging.db.execute("SELECT line, body, origin FROM slot ORDER BY seq")
            for line, body, origin in cursor:
                try:
                    self._slot(line, body, origin, writer)
                except MALFORMED:
                    self.malformed(line, "Slot")
        finally:
            handle.close()

    def _slot(self, line: int, body: str, origin: str, writer: Any) -> None:
        res = json.loads(body)
        status = _text(res.get("status"))
        if status not in SLOT_STATUSES:
            self.problem(line, "status", status, "unmapped Slot.status: allowed "
                         + " | ".join(SLOT_STATUSES))  # fmt: skip
            return
        if not res.get("start") or not res.get("end"):
            self.problem(line, "appointment_start", "", "Slot.start and Slot.end are "
                         "required")  # fmt: skip
            return
        sched_ref = reference(res.get("schedule"))
        schedule = self.staging.body("sched", f"Schedule/{sched_ref[1]}") if sched_ref else None
        clinic, provider = _schedule_actors(schedule)
        cls, line_, _ = self.mapping.classify(
            res.get("specialty"), res.get("serviceType"),
            (schedule or {}).get("specialty"), (schedule or {}).get("serviceType"),
        )  # fmt: skip
        writer.writerow(
            {
                "slot_id": _text(res.get("id")),
                "schedule_id": sched_ref[1] if sched_ref else "",
                "status": status,
                "start": _text(res.get("start")),
                "end": _text(res.get("end")),
                "clinic_id": clinic,
                "provider_id": provider,
                "provider_class": cls,
                "service_line": line_,
                "overbooked": "true" if res.get("overbooked") is True else "false",
                "feed": origin,
            }
        )
        self.bump("slots_written")

    def _appointment(self, res: dict[str, Any], line: int, requests: Any) -> dict[str, str] | None:
        problems: list[tuple[str, str, str]] = []

        def bad(column: str, value: str, reason: str) -> None:
            problems.append((column, value, reason))

        rid = _text(res.get("id"))
        if not rid:
            for ident in res.get("identifier") or []:
                if isinstance(ident, dict) and _text(ident.get("value")):
                    rid = _text(ident.get("value"))
                    break
        if not rid:
            bad("appointment_id", "", "Appointment without an id or identifier value")
        status = _text(res.get("status"))
        participants = [p for p in res.get("participant") or [] if isinstance(p, dict)]
        actors = [(reference(p.get("actor")), p) for p in participants]
        patients = sorted({r[1] for r, _ in actors if r and r[0] == "Patient"})
        if not patients:
            subject = reference(res.get("subject"))  # R5
            if subject and subject[0] == "Patient":
                patients = [subject[1]]
        slot = self._slot_of(res)
        schedule = slot[1] if slot else None
        clinic = next((r[1] for r, _ in actors if r and r[0] == "Location"), "")
        if not clinic:
            clinic = _schedule_actors(schedule)[0]
        if not clinic and self.default_clinic:
            clinic = self.default_clinic
            self.bump("clinic_from_import")
        request_dt = self._request_datetime(res)
        waiting = status in REQUEST_STATUSES

        if status == "cancelled" and not res.get("start"):
            period = _earliest_period(res.get("requestedPeriod"))
            requests.writerow(
                {
                    "appointment_id": rid,
                    "patient_id": patients[0] if len(patients) == 1 else "",
                    "clinic_id": clinic,
                    "status": status,
                    "created": _text(res.get("created")),
                    "request_datetime": request_dt,
                    "requested_start": _text(period.get("start")),
                    "requested_end": _text(period.get("end")),
                }
            )
            self.bump("open_requests")
            return None
        if not status:
            bad("status", "", "Appointment.status missing (required)")
        elif status not in STATUS_MAP:
            bad("status", status, "unmapped Appointment.status: allowed "
                + " | ".join(APPOINTMENT_STATUSES))  # fmt: skip
        canonical_status = STATUS_MAP.get(status, "")
        if not patients:
            bad("patient_id", "", "no participant.actor references a Patient")
        elif len(patients) > 1:
            bad("patient_id", "", "several Patient participants: send one Appointment per "
                "patient (group visits too)")  # fmt: skip

        provider, role = self._provider(actors)
        if not provider and not waiting:
            bad("provider_id", "", "no participant.actor references a Practitioner or "
                "PractitionerRole")  # fmt: skip
        if not clinic:
            bad("clinic_id", "", "no clinic: no participant.actor references a Location, and "
                "no Slot -> Schedule names a Location or HealthcareService")  # fmt: skip
        sources = [
            (role or {}).get("code"), (role or {}).get("specialty"), res.get("specialty"),
            res.get("serviceType"), res.get("serviceCategory"),
            (slot[0] if slot else {}).get("specialty"),
            (slot[0] if slot else {}).get("serviceType"),
            (schedule or {}).get("specialty"), (schedule or {}).get("serviceType"),
        ]  # fmt: skip
        provider_class, service_line, seen = self.mapping.classify(*sources)
        if not provider_class:
            bad("provider_class", "; ".join(seen)[:200], "no provider class: none of the "
                "practitioner role, specialty or service codes is in the concept map")  # fmt: skip
        elif not service_line:
            bad("service_line", "; ".join(seen)[:200], "no service line for these codes")

        kind, urgency, visit_type = "", "", _label(res.get("appointmentType"))
        for system, code in codings(res.get("appointmentType")):
            if system == V2_0276:
                if code not in APPOINTMENT_TYPES:
                    bad("appointment_kind", code, "unmapped appointmentType (v2-0276): allowed "
                        + " | ".join(APPOINTMENT_TYPES))  # fmt: skip
                elif code == "FOLLOWUP":
                    kind = "follow_up"
                elif code == "EMERGENCY":
                    urgency = "urgent"
        if kind == "follow_up" and not self._request_from_referral_or_period(res):
            request_dt = ""  # a follow-up's clock starts at the prior visit, not at booking

        booked = _text(res.get("created"))
        if waiting:
            # A request, not an appointment: no booking and no start yet, whatever time was
            # proposed. Its clock needs the request time.
            booked = ""
            if not request_dt:
                bad("request_datetime", "", f"a {status} Appointment needs its request time: "
                    "basedOn ServiceRequest.authoredOn, requestedPeriod or created")  # fmt: skip
            self.bump("requests_waiting")
        elif not booked and status in BOOKING_TIME_OPTIONAL:
            # The R4 invariants allow it (access-and-parity.md 6.2): kept with the booking
            # time unknown, so a new request's clock has no start ("unknown request date").
            self.bump("booked_without_created")
        elif not booked:
            bad("booked_datetime", "", f"Appointment.created is missing (status {status}): the "
                "booking time is needed to measure waits")  # fmt: skip
        start = "" if waiting else _text(res.get("start"))
        if not start and not waiting:
            bad("appointment_start", "", f"Appointment.start is missing (status {status})")
        duration = res.get("minutesDuration")
        if not isinstance(duration, int) or isinstance(duration, bool):  # (true is no number)
            begin, end = _parse_instant(start), _parse_instant(res.get("end"))
            duration = (
                int((end - begin).total_seconds() // 60)
                if begin is not None and end is not None and begin.tzinfo and end.tzinfo
                else None
            )

        initiator, cancel_reason = "", ""
        reason_cc = res.get("cancelationReason") or res.get("cancellationReason")
        for system, code in codings(reason_cc):
            if system == CANCEL_REASON:
                if code not in CANCEL_REASONS:
                    bad("cancel_initiator", code, "unmapped cancelationReason code of "
                        "appointment-cancellation-reason")  # fmt: skip
                    continue
                cancel_reason = code
                initiator = (
                    "patient" if code.startswith("pat")
                    else "provider" if code.startswith("prov") else "clinic"
                )  # fmt: skip
                break
        if reason_cc and not cancel_reason:
            self.bump("cancel_reason_local")

        modality = ""
        # (Each lookup is skipped when nothing of its kind was staged: most exports of
        # appointments carry neither encounters nor patients.)
        staged = self.staging.kinds
        enc = (
            self.staging.db.execute(
                "SELECT status, class FROM enc_appt WHERE appt = ?", (rid,)
            ).fetchall()
            if "enc_appt" in staged
            else ()
        )
        for enc_status, enc_class in enc:
            if enc_status == "entered-in-error":  # never happened: says nothing of the visit
                continue
            modality = modality or CLASS_MODALITY.get(enc_class, "")
            if canonical_status == "scheduled":
                if enc_status in ENCOUNTER_DONE:
                    canonical_status = "completed"
                elif enc_status in ENCOUNTER_ARRIVED:
                    canonical_status = "arrived"

        if problems:
            if status == "entered-in-error":
                self.bump("entered_in_error_dropped")
                return None
            for column, value, reason in problems:
                self.problem(line, column, value, reason)
            return None

        birth = (
            self.staging.one("SELECT birth_year FROM patient WHERE key = ?",
                             f"Patient/{patients[0]}")
            if "Patient" in staged
            else None
        )  # fmt: skip
        referral = next((r[1] for r in map(reference, res.get("basedOn") or []) if r), "")
        self.bump("appointment_rows")
        return {
            "appointment_id": rid,
            "patient_id": patients[0],
            "clinic_id": clinic,
            "provider_id": provider,
            "provider_class": provider_class,
            "service_line": service_line,
            "visit_type": visit_type,
            "appointment_kind": kind,
            "urgency": urgency,
            "request_datetime": request_dt,
            "booked_datetime": booked,
            "appointment_start": start,
            "duration_min": "" if duration is None else str(duration),
            "status": canonical_status,
            "cancel_datetime": _cancel_date(res),
            "cancel_initiator": initiator,
            "cancel_reason": cancel_reason,
            "modality": modality,
            "referral_id": referral,
            "patient_birth_year": birth or "",
        }

    def _provider(
        self, actors: list[tuple[tuple[str, str] | None, dict[str, Any]]]
    ) -> tuple[str, dict[str, Any] | None]:
        """The rendering provider (an attender or primary performer first) and its role."""

        def rank(item: tuple[tuple[str, str] | None, dict[str, Any]]) -> int:
            types = {code for _, code in codings(item[1].get("type"))}
            return 0 if types & {"ATND", "PPRF", "SPRF", "PART"} else 1

        candidates = [
            (r, p)
            for r, p in actors
            if r and r[0] in ("Practitioner", "PractitionerRole") and p.get("status") != "declined"
        ]
        for ref, _p in sorted(candidates, key=rank):
            if ref is None:  # pragma: no cover - filtered above
                continue
            if ref[0] == "Practitioner":
                return ref[1], None
            role = self.staging.body("role", f"PractitionerRole/{ref[1]}")
            practitioner = reference((role or {}).get("practitioner"))
            return (practitioner[1] if practitioner else ref[1]), role
        return "", None

    def _slot_of(self, res: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        for ref in map(reference, res.get("slot") or []):
            if ref and ref[0] == "Slot":
                slot = self.staging.body("slot", f"Slot/{ref[1]}")
                if slot is not None:
                    sched = reference(slot.get("schedule"))
                    schedule = self.staging.body("sched", f"Schedule/{sched[1]}") if sched else None
                    return slot, schedule
        return None

    def _request_from_referral_or_period(self, res: dict[str, Any]) -> str:
        for ref in map(reference, res.get("basedOn") or []):
            if ref and ref[0] == "ServiceRequest":
                authored = self.staging.one("SELECT authored FROM sr WHERE key = ?",
                                            f"ServiceRequest/{ref[1]}")  # fmt: skip
                if authored:
                    return str(authored)
        return _text(_earliest_period(res.get("requestedPeriod")).get("start"))

    def _request_datetime(self, res: dict[str, Any]) -> str:
        return self._request_from_referral_or_period(res) or _text(res.get("created"))


def _schedule_actors(schedule: dict[str, Any] | None) -> tuple[str, str]:
    """(clinic, provider) named by a Schedule's actors."""
    clinic = provider = ""
    for ref in map(reference, (schedule or {}).get("actor") or []):
        if not ref:
            continue
        if ref[0] in ("Location", "HealthcareService") and not clinic:
            clinic = ref[1]
        elif ref[0] in ("Practitioner", "PractitionerRole") and not provider:
            provider = ref[1]
    return clinic, provider


def _earliest_period(periods: Any) -> dict[str, Any]:
    """The period that starts first: by instant where both starts have an offset (text
    order puts 08:00-08:00 before 09:00-05:00, two hours later), else by their text."""
    if not isinstance(periods, list):
        return {}
    if len(periods) == 1:  # the usual case: nothing to compare (nor to parse)
        only = periods[0]
        return only if isinstance(only, dict) and _text(only.get("start")) else {}
    best: dict[str, Any] = {}
    best_at: dt.datetime | None = None
    for period in periods:
        if not isinstance(period, dict) or not _text(period.get("start")):
            continue
        at = _parse_instant(period["start"])
        at = at if at is not None and at.tzinfo is not None else None
        earlier = (
            at < best_at
            if at is not None and best_at is not None
            else str(period["start"]) < str(best.get("start", ""))
        )
        if not best or earlier:
            best, best_at = period, at
    return best


def _cancel_date(res: dict[str, Any]) -> str:
    if _text(res.get("cancellationDate")):  # R5
        return str(res["cancellationDate"])
    for ext in res.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == CANCELLATION_DATE_EXTENSION:
            return _text(ext.get("valueDateTime"))
    return ""


def convert(
    path: Path | None,
    workdir: Path,
    emit: Callable[[int, dict[str, str]], None],
    *,
    ndjson: bool = False,
    items: Iterator[Item] | None = None,
    stream_appointments: bool = False,
    mapping: ConceptMap | None = None,
    max_errors: int = 100_000,
    default_clinic: str = "",
) -> Outcome:
    """Read ``path`` (or the resources ``items``, as from a Bulk Data export);
    ``emit(line, row)`` for every canonical row; return the rest. ``stream_appointments``:
    ``items`` give every other resource before the first Appointment (``Converter.stage``)."""
    converter = Converter(workdir, mapping, max_errors, default_clinic)
    if items is None:
        if path is None:
            raise ValueError("convert needs a path or items")
        items = iter_resources(path, ndjson=ndjson)
    try:
        rest = converter.stage(items, stream_appointments=stream_appointments)
        for line, row in converter.rows(rest):
            emit(line, row)
    finally:
        converter.staging.close()
    return converter.outcome


def _encounter_clinic(res: dict[str, Any]) -> str:
    """The clinic of an Encounter: its first Location, else its service provider."""
    for item in res.get("location") or []:
        ref = reference((item or {}).get("location"))
        if ref and ref[0] == "Location":
            return ref[1]
    ref = reference(res.get("serviceProvider"))
    return ref[1] if ref else ""
