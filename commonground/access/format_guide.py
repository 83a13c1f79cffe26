"""The canonical extract's format, for whoever prepares one. No Django.

Built from the constants the reader checks against (``extract.COLUMNS``, its vocabularies,
ranges and spellings), so the page, ``commonground access format`` and the template CSV say
what ``extract.load`` accepts; ``test_format_guide`` runs every example through it.
Column meanings follow access-and-parity.md section 6.1.
"""

from __future__ import annotations

import csv
import io
import textwrap
from dataclasses import dataclass

from . import closures, extract, hedis, slots
from .metrics import NEW_EPISODE_LOOKBACK_DAYS

MEANINGS: dict[str, str] = {
    "appointment_id": "The EHR's appointment id (an Epic CSN, say). Unique in the file; "
    "overlapping extracts merge by it, the latest state winning.",
    "patient_id": "A stable patient id. Replaced by a keyed code on arrival and never shown.",
    "clinic_id": "The clinic (department or facility) code.",
    "provider_id": "The rendering provider.",
    "provider_class": "The provider's discipline: it selects the standard (10 business days "
    "for non-physician mental health and primary care, 15 for psychiatrists and specialists).",
    "service_line": "Mental health (MH), substance use (SUD), primary care (PC), "
    "medical specialty (MS_SPECIALTY) or ancillary.",
    "visit_type": "The EHR's visit type name or code. Used only to tell a blank "
    "appointment_kind: a name with the word “new” or “intake” marks an initial visit.",
    "appointment_kind": "Initial or follow-up. When blank: initial if the visit type says so "
    f"or the patient had no attended visit on the same line in the {NEW_EPISODE_LOOKBACK_DAYS} "
    "days before.",
    "urgency": "Urgent or non-urgent (blank is non-urgent).",
    "prior_auth_required": "Whether the urgent visit needed prior authorisation (96 hours "
    "instead of 48).",
    "request_datetime": "When care was asked for (intake call, referral entry): starts the "
    "clock of an initial appointment. Blank for routine follow-ups.",
    "booked_datetime": "When the appointment was made.",
    "first_offered_start": "The earliest appointment offered, if your system keeps it; "
    "without it the booked appointment stands in (labelled a booked-date proxy).",
    "appointment_start": "The scheduled start.",
    "duration_min": "Length in minutes.",
    "status": "Every status, including cancelled, no-shows and future bookings. A row of "
    "status requested is a request with no appointment yet (its wait is still running).",
    "cancel_datetime": "When it was cancelled.",
    "cancel_initiator": "Who cancelled: a provider's or clinic's cancellation is not an offer "
    "that meets the standard.",
    "cancel_reason": "Read to check it, never kept (free text).",
    "modality": "In person, video or telephone.",
    "is_group": "A group visit.",
    "episode_id": "The course of treatment: follow-up chains stay within one.",
    "referral_id": "The referral: the rows of one request share it (else their episode).",
    "longer_interval_documented": "The clinician documented that a longer wait is "
    "clinically appropriate (an SB 221 exception).",
    "patient_requested_later": "The patient declined an earlier offer.",
    "recommended_return_days": "The clinician's “return in” instruction at this visit.",
    "out_of_network": "Seen by an external or contracted network provider.",
    "product_line": "Commercial, Medi-Cal, Medicare or individual coverage.",
    "patient_birth_year": "Turned into an age band on arrival; the year is not kept.",
    "clinic_name": "The clinic's name, for your own reading; not kept.",
}


# What the store keeps of each column (a limited data set: ``extract.STORED_COLUMNS`` and the
# age band), and the stored column it becomes; the tests hold the two together.
AS_WRITTEN = "as written"
KEPT: dict[str, tuple[str, str | None]] = {
    "appointment_id": (AS_WRITTEN, "appointment_id"),
    "patient_id": ("as a keyed code (HMAC-SHA256); the id itself is not", "patient_key"),
    "clinic_id": (AS_WRITTEN, "clinic_id"),
    "provider_id": ("no", None),
    "provider_class": (AS_WRITTEN, "provider_class"),
    "service_line": (AS_WRITTEN, "service_line"),
    "visit_type": ("no: only whether it names a new or intake visit", "visit_new"),
    "appointment_kind": (AS_WRITTEN, "kind"),
    "urgency": ("whether urgent", "urgent"),
    "prior_auth_required": (AS_WRITTEN, "prior_auth"),
    "request_datetime": (AS_WRITTEN, "req_ts"),
    "booked_datetime": ("its day only", "booked_day"),
    "first_offered_start": (AS_WRITTEN, "offer_ts"),
    "appointment_start": (AS_WRITTEN, "start_ts"),
    "duration_min": ("no", None),
    "status": (AS_WRITTEN, "status"),
    "cancel_datetime": ("its day only", "cancel_day"),
    "cancel_initiator": (AS_WRITTEN, "cancel_initiator"),
    "cancel_reason": ("no", None),
    "modality": (AS_WRITTEN, "modality"),
    "is_group": (AS_WRITTEN, "is_group"),
    "episode_id": ("as a 64-bit hash, to link an episode's visits", "episode_key"),
    "referral_id": ("as a 64-bit hash, to link a request's rows", "request_key"),
    "longer_interval_documented": (AS_WRITTEN, "longer"),
    "patient_requested_later": (AS_WRITTEN, "prl"),
    "recommended_return_days": (AS_WRITTEN, "rec_days"),
    "out_of_network": ("no", None),
    "product_line": (AS_WRITTEN, "product_line"),
    "patient_birth_year": ("as an age band", "age_band"),
    "clinic_name": ("no", None),
}


@dataclass(frozen=True)
class ColumnGuide:
    name: str
    type: str
    required: str  # "required", "required, except on a requested row", or ""
    values: tuple[str, ...]  # the codes of a vocabulary
    meaning: str
    kept: str  # what the store keeps of it


def _type(column: extract.Column) -> str:
    if column.kind == "int":
        return f"whole number, {column.low} to {column.high}"
    return {
        "id": "id (text)",
        "text": "text",
        "enum": "code",
        "bool": "yes or no",
        "datetime": "date-time",
    }[column.kind]


def columns() -> list[ColumnGuide]:
    guides = []
    for column in extract.COLUMNS:
        required = ""
        if column.required:
            required = (
                "required, except on a requested row"
                if column.name in extract.NOT_YET_FOR_REQUESTS
                else "required"
            )
        guides.append(
            ColumnGuide(
                column.name,
                _type(column),
                required,
                column.vocabulary,
                MEANINGS[column.name],
                KEPT[column.name][0],
            )
        )
    return guides


# Values as a data steward might write them, each run through the reader by the tests.
DATETIME_ACCEPTED = (
    ("2025-01-06T09:14:00-08:00", "with its UTC offset (best: nothing is assumed)"),
    ("2025-01-06T17:14:00Z", "in UTC"),
    ("2025-01-06T09:14-08:00", "without seconds; the offset may also be -0800 or -08"),
    ("2025-01-06 09:14:00", "a space for the T; no offset: the clinic's time zone"),
    ("2025-01-06T09:14:00.250", "a fraction of a second"),
    ("2025-01-06", "a day alone (urgent waits then fall back to days)"),
)
DATETIME_REFUSED = (
    ("01/06/2025 09:14", "not ISO 8601"),
    ("2025-1-6", "month and day need two digits"),
    ("2025-01-06T09:14:00 PST", "a zone's name: give its offset (-08:00)"),
    ("2025-03-09T02:30:00", "a local time the clocks skipped (they went forward an hour)"),
)


# Header names that refuse a file (of ``extract.DIRECT_IDENTIFIERS``), as examples.
IDENTIFIER_EXAMPLES = ("name", "mrn", "ssn", "address", "phone", "email", "dob", "member_id")


@dataclass(frozen=True)
class Rule:
    topic: str
    text: str


def rules() -> list[Rule]:
    yes = ", ".join(extract.TRUE_SPELLINGS)
    no = ", ".join(extract.FALSE_SPELLINGS)
    starts = " ".join(c for c in extract.FORMULA_STARTS if c.isprintable())
    return [
        Rule(
            "The file",
            "One row per appointment, of every status. UTF-8 text (a byte-order mark is "
            "fine), commas between values, double quotes around a value that holds a comma, "
            "a quote or a line break, and lines ending in LF or CR LF. The first row names "
            "the columns exactly as below, in any order; other columns are ignored and not "
            "kept. An Excel workbook (.xlsx) is read from its first worksheet in the same "
            "layout: date cells, TRUE/FALSE cells and numbers are converted; formulas are "
            "refused.",
        ),
        Rule(
            "Dates and times",
            "ISO 8601: YYYY-MM-DD, then a time as HH:MM or HH:MM:SS after a T or a space, "
            "then Z or the UTC offset (-08:00). A value without an offset is read in the "
            "clinic's time zone and counted in the data-quality figures. A local time the "
            "clocks skip in spring is refused; one in the hour they repeat in autumn happens "
            "twice and is read as standard time (the second time), and such rows are counted "
            "in the data-quality figures: give the offset to say which.",
        ),
        Rule(
            "Yes or no",
            f"Yes is written {yes}; no is written {no}; any case. A blank is no.",
        ),
        Rule(
            "Codes",
            "Exactly as listed, in the same case (MH, not mh). An unlisted code blocks the "
            "import and is reported on its line: map your system's codes first.",
        ),
        Rule(
            "Ids and text",
            "Spaces around an id are dropped (“P9001 ” is P9001); an id of spaces is missing. "
            f"No id or text may start with {starts}, a tab or a carriage return: a "
            "spreadsheet would run it as a formula.",
        ),
        Rule(
            "Checks across columns",
            "appointment_id is unique in the file; a request is not after its booking, an "
            "appointment not before the day it was booked, a cancellation not before the "
            "booking, and a first offer not before the request's day. Every date must fall "
            "within the region's holiday calendar, one year kept for deadlines.",
        ),
        Rule(
            "Never send",
            "Names, addresses, phone numbers, e-mail, dates of birth, medical record, member "
            "or insurance numbers: a column named like one ("
            + ", ".join(IDENTIFIER_EXAMPLES)
            + " …) refuses the whole file. Patients are known by patient_id alone.",
        ),
        Rule(
            "Nothing half-stored",
            "The whole file is checked before any of it is stored, and every problem is "
            "reported by line, column, value and reason. Importing the same file again "
            "changes nothing. The store keeps only what each column's “kept” says, and the "
            "uploaded file is deleted once it has been processed.",
        ),
    ]


@dataclass(frozen=True)
class OtherFile:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    text: str
    parts: str = "Columns"


def other_files() -> list[OtherFile]:
    return [
        OtherFile(
            "Clinic closure calendar (CSV)",
            closures.REQUIRED,
            closures.OPTIONAL,
            "Days a clinic was closed, on top of the holiday calendar: clinic_id as in the "
            "extract and the date as YYYY-MM-DD. The reason is read past, never kept. Upload "
            "it in the region's access settings, or give it to access check with --closures.",
        ),
        OtherFile(
            "Weekly counts (CSV)",
            (),
            (),
            "For a deployment that may not share row-level data: per clinic, week and metric, "
            "the counts behind each rate. The counts upload page lists its columns.",
        ),
        OtherFile(
            "Slots (CSV)",
            slots.REQUIRED,
            slots.OPTIONAL,
            "The schedule's slots, for next and third-next available: status is a FHIR "
            "Slot.status (" + ", ".join(slots.SLOT_STATUSES) + ").",
        ),
        OtherFile(
            "Encounters (CSV)",
            hedis.REQUIRED,
            hedis.OPTIONAL,
            "Visits and stays, for the HEDIS-like follow-up measures; each row needs a class "
            "or a setting.",
        ),
        OtherFile(
            "FHIR R4",
            ("Appointment",),
            ("Encounter", "Slot", "Schedule", "ServiceRequest", "Patient", "PractitionerRole"),
            "JSON resources, Bundles or Bulk Data ndjson (a ZIP with its manifest): "
            "converted to the layout above and checked the same way.",
            parts="Resources",
        ),
    ]


# The three synthetic rows of access-and-parity.md section 6.1 (A1001 to A1003), verbatim.
SPEC_EXAMPLE = """\
appointment_id,patient_id,clinic_id,provider_id,provider_class,service_line,visit_type,appointment_kind,urgency,prior_auth_required,request_datetime,booked_datetime,first_offered_start,appointment_start,duration_min,status,cancel_datetime,cancel_initiator,cancel_reason,modality,is_group,episode_id,longer_interval_documented,patient_requested_later,recommended_return_days,out_of_network,product_line,patient_birth_year
A1001,P9001,OAK,PR55,lmft,MH,NEW THERAPY INTAKE 60,initial,non_urgent,false,2025-01-06T09:14:00-08:00,2025-01-06T09:20:00-08:00,2025-01-21T10:00:00-08:00,2025-01-21T10:00:00-08:00,60,completed,,,,video,false,E77,false,false,14,false,commercial,1988
A1002,P9001,OAK,PR55,lmft,MH,RETURN THERAPY 45,follow_up,non_urgent,false,,2025-01-21T10:55:00-08:00,,2025-02-18T10:00:00-08:00,45,completed,,,,video,false,E77,false,false,14,false,commercial,1988
A1003,P9002,SRF,PR12,psychiatrist,MH,NEW PSYCH EVAL 60,initial,non_urgent,false,2025-03-03T13:02:00-08:00,2025-03-03T13:10:00-08:00,,2025-03-25T08:30:00-07:00,60,cancelled,2025-03-20T16:00:00-07:00,provider,PROVIDER ILL,in_person,false,E91,false,false,,false,commercial,1975
"""  # noqa: E501 - the spec rows, verbatim


def template_csv() -> str:
    """A header of every column and the example rows: a file to start from."""
    names = [column.name for column in extract.COLUMNS]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(csv.DictReader(io.StringIO(SPEC_EXAMPLE)))
    return buffer.getvalue()


def as_text() -> str:
    """The guide as plain text (``commonground access format``)."""
    out = ["The canonical scheduling extract", ""]
    for rule in rules():
        out += [rule.topic, *_wrap(rule.text, "  "), ""]
    out += ["Columns", ""]
    for guide in columns():
        head = f"  {guide.name}: {guide.type}" + (f", {guide.required}" if guide.required else "")
        out.append(head)
        if guide.values:
            out += _wrap("one of " + ", ".join(guide.values), "      ")
        out += _wrap(guide.meaning, "      ")
        out += _wrap(f"kept: {guide.kept}", "      ")
    out += ["", "Date-times accepted", ""]
    out += [f"  {value:<28} {why}" for value, why in DATETIME_ACCEPTED]
    out += ["", "Date-times refused", ""]
    out += [f"  {value:<28} {why}" for value, why in DATETIME_REFUSED]
    out += ["", "Other files", ""]
    for other in other_files():
        out.append(f"  {other.name}")
        if other.required:
            out += _wrap(f"{other.parts}: " + ", ".join(other.required), "      ")
        if other.optional:
            out += _wrap("optional: " + ", ".join(other.optional), "      ")
        out += _wrap(other.text, "      ")
    out += ["", "A file to start from: commonground access format --template extract.csv", ""]
    return "\n".join(out)


def _wrap(text: str, indent: str, width: int = 92) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent)
