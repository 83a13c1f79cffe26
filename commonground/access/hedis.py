"""HEDIS-like FUH, FUM and FUA follow-up rates from encounter rows. No Django.

**HEDIS-like, not HEDIS.** HEDIS specifications and value sets are NCQA-licensed; these rates
follow the public descriptions in access-and-parity.md section 5 and approximate the
diagnosis value sets by ICD-10-CM ranges (``dx_category``). Always label them "HEDIS-like".

Measures (measurement year ``Y``; index events dated Jan 1 - Dec 1 of ``Y``):

* **FUH**: acute inpatient discharges (encounter class IMP / ACUTE, finished, with an end)
  with a principal diagnosis of mental illness or intentional self-harm, age >= 6. A
  readmission or direct transfer to acute inpatient care with a principal MH diagnosis within
  30 days keeps only the last discharge (so both go when the last is after Dec 1). Excluded:
  a non-acute inpatient admission (class NONAC, any diagnosis) within 30 days; discharge
  disposition hospice or death. Numerators: a qualifying visit with a mental health provider
  or a principal MH diagnosis ``0 < days <= 7`` (resp. 30) after discharge: the discharge day
  does not count.
* **FUM**: ED visits (class EMER) with a principal MH / self-harm diagnosis, age >= 6.
  Excluded: an inpatient admission (acute or not) on the ED day or within 30 days after; of
  several ED visits within 31 days only the first is kept. Numerators: a visit with a MH
  diagnosis ``0 <= days <= 7`` (resp. 30): the ED day counts.
* **FUA**: ED visits with a principal SUD diagnosis or any overdose diagnosis, age >= 13;
  exclusions and de-duplication as FUM. Numerators as FUM, the follow-up being a visit with
  an SUD / overdose diagnosis or with a MH provider, or a pharmacotherapy / opioid treatment
  event.

Not checkable from these data (reported as caveats): continuous enrollment; the licensed value
sets (visit types, diagnoses, medications). Index events whose 30-day window ends after the
data cut-off are **pending** and left out of the denominator.

Follow-up visits come from the encounter rows and, in ``commonground access check``, from the
attended appointments of the canonical extract (``appointment_follow_ups``): an MH service line
stands in for "a MH diagnosis" and an SUD service line for "an SUD diagnosis" (labelled
proxies); an MH provider class is a mental health provider.

Canonical encounter CSV (header row, UTF-8; the FHIR reader's ``encounters.csv`` has the first
seven columns, so its encounters carry no diagnosis and cannot open a denominator)::

    column               required  meaning
    encounter_id         yes       FHIR Encounter.id or the EHR encounter id
    patient_id           yes       the same pseudonymous id as the appointment extract
    status               yes       FHIR Encounter.status (finished, arrived, in-progress,
                                   cancelled, entered-in-error, ...); only events that
                                   happened count
    class                yes*      v3 ActCode: IMP / ACUTE (acute inpatient), NONAC
                                   (non-acute inpatient), EMER (ED), AMB, VR, HH, OBSENC,
                                   FLD (ambulatory follow-up settings); *or ``setting``
    start                yes       admission / visit start, ISO 8601 date-time or date
    end                  no        discharge (required for an inpatient index event)
    appointment_ids      no        ';'-separated linked appointment ids
    setting              no        overrides class: acute_inpatient, nonacute_inpatient, ed,
                                   outpatient, telehealth, telephone, e_visit, observation,
                                   iop_php, residential, peer_support, otp, pharmacotherapy,
                                   other
    principal_dx         no        an ICD-10-CM code or a category (mh, self_harm, sud,
                                   overdose, other)
    other_dx             no        ';'-separated ICD-10-CM codes or categories
    provider_class       no        canonical provider class of the rendering provider
    discharge_disposition no       FHIR discharge-disposition code (exp / hosp) or
                                   expired / hospice
    patient_birth_year   no        for the age limits (age = event year - birth year)
    clinic_id            no        department / facility
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from . import suppression
from .slots import CsvRows, iso_datetime, numbered, open_csv
from .suppression import Line, fmt_count

if TYPE_CHECKING:
    import duckdb

DEFAULT_TZ = "America/Los_Angeles"
LABEL = "HEDIS-like"
REQUIRED = ("encounter_id", "patient_id", "status", "start")
OPTIONAL = (
    "class",
    "setting",
    "end",
    "appointment_ids",
    "principal_dx",
    "other_dx",
    "provider_class",
    "discharge_disposition",
    "patient_birth_year",
)  # and one of class or setting (see above)

# Encounter.status: R4 codes, and R5's (tolerated).
ENCOUNTER_STATUSES = frozenset(
    {
        "planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
        "entered-in-error", "unknown", "on-hold", "discharged", "completed", "discontinued",
    }
)  # fmt: skip
HAPPENED = frozenset(
    {"finished", "completed", "discharged", "arrived", "triaged", "in-progress", "onleave"}
)
CLASS_SETTING = {
    "IMP": "acute_inpatient", "ACUTE": "acute_inpatient", "NONAC": "nonacute_inpatient",
    "EMER": "ed", "AMB": "outpatient", "VR": "telehealth", "HH": "outpatient",
    "OBSENC": "observation", "FLD": "outpatient",
}  # fmt: skip
SETTINGS = frozenset(
    {
        "acute_inpatient", "nonacute_inpatient", "ed", "outpatient", "telehealth", "telephone",
        "e_visit", "observation", "iop_php", "residential", "peer_support", "otp",
        "pharmacotherapy", "other",
    }
)  # fmt: skip
INPATIENT = frozenset({"acute_inpatient", "nonacute_inpatient"})
# Qualifying follow-up settings (section 5): FUH's list; FUM adds e-visits; FUA adds opioid
# treatment, peer support and pharmacotherapy events.
FUH_SETTINGS = frozenset(
    {"outpatient", "telehealth", "telephone", "observation", "iop_php", "residential",
     "peer_support"}
)  # fmt: skip
FUM_SETTINGS = FUH_SETTINGS | {"e_visit"}
FUA_SETTINGS = FUM_SETTINGS | {"otp", "pharmacotherapy"}
MH_PROVIDERS = frozenset({"psychiatrist", "psychologist", "lcsw", "lmft", "lpcc", "psych_np"})
CATEGORIES = frozenset({"mh", "self_harm", "sud", "overdose", "other"})
DEATH_OR_HOSPICE = frozenset({"exp", "hosp", "expired", "hospice", "died", "death"})


def dx_category(value: str) -> str:
    """A diagnosis category from a category word or an ICD-10-CM code (public approximation).

    SUD: F10-F19 except F17 (nicotine). Mental illness: F20-F69 and F80-F99 (intellectual
    disability F70-F79 and organic F01-F09 left out). Intentional self-harm: X71-X83, T14.91,
    and T36-T65 poisonings whose 6th character is 2. Overdose: T40, T42.3/4/6/7, T43.6 and
    T51 poisonings (accidental, intentional or undetermined: 6th character 1-4).
    """
    text = value.strip().lower()
    if not text:
        return ""
    if text in CATEGORIES:
        return text
    code = text.upper().replace(".", "")
    if len(code) < 3 or not code[0].isalpha() or not code[1:3].isdigit():
        return "other"
    letter, num = code[0], int(code[1:3])
    if letter == "F":
        if 10 <= num <= 19 and num != 17:
            return "sud"
        if 20 <= num <= 69 or 80 <= num <= 99:
            return "mh"
        return "other"
    if letter == "X" and 71 <= num <= 83:
        return "self_harm"
    if code.startswith("T1491"):
        return "self_harm"
    if letter == "T" and 36 <= num <= 65:
        intent = code[5] if len(code) > 5 else ""
        if intent == "2":
            return "self_harm"
        overdose = ("T40", "T423", "T424", "T426", "T427", "T436", "T51")
        if code.startswith(overdose) and intent in ("", "1", "3", "4"):
            return "overdose"
    return "other"


@dataclass(frozen=True)
class Encounter:
    encounter_id: str
    patient_id: str
    setting: str
    start: dt.date
    end: dt.date | None
    principal: str  # dx category or ""
    categories: frozenset[str]  # principal and other dx categories
    mh_provider: bool
    death_or_hospice: bool
    birth_year: int | None
    source: str = "encounter"  # or "appointment" (proxy diagnosis)
    clinic_id: str = ""


@dataclass
class EncounterData:
    encounters: list[Encounter]
    rows: int = 0
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)
    not_happened: int = 0
    without_dx: int = 0  # inpatient / ED encounters with no principal diagnosis


def _day(text: str, tz: ZoneInfo) -> dt.date:
    text = text.strip()
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    value = iso_datetime(text)
    return (value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)).date()


def read_encounters(
    path: Path, *, timezone: str = DEFAULT_TZ, check_ids: bool = False
) -> EncounterData:
    """Read a canonical encounter CSV; bad rows are listed in ``problems`` and skipped. With
    ``check_ids`` (an import's check), a blank or repeated ``encounter_id`` is a problem too:
    encounters are stored by their id."""
    with open_csv(path) as handle:
        rows = CsvRows(handle)
        data = parse_encounters(rows, timezone=timezone, check_ids=check_ids)
    data.problems.extend(rows.problems)
    return data


class EncounterFileError(ValueError):
    pass


def parse_encounters(
    rows: csv.DictReader[str] | CsvRows, *, timezone: str = DEFAULT_TZ, check_ids: bool = False
) -> EncounterData:
    header = rows.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if "class" not in header and "setting" not in header:
        missing.append("class or setting")
    if missing:
        raise EncounterFileError(f"encounter file: missing column(s) {', '.join(missing)}")
    tz = ZoneInfo(timezone)
    data = EncounterData(encounters=[])
    first_line: dict[str, int] = {}  # encounter_id -> the line it is first on
    for line, row in numbered(rows):
        data.rows += 1

        def get(name: str, row: dict[str, str] = row) -> str:
            return (row.get(name) or "").strip()

        if check_ids:
            ident = get("encounter_id")
            if not ident:
                why = "required: encounters merge by their id"
                data.problems.append((line, "encounter_id", "", why))
                continue
            if (first := first_line.setdefault(ident, line)) != line:
                why = f"duplicate encounter_id (first on line {first})"
                data.problems.append((line, "encounter_id", ident, why))
                continue

        if get("status") not in ENCOUNTER_STATUSES:  # a typo is not "did not happen"
            why = "unknown Encounter status: allowed " + " | ".join(sorted(ENCOUNTER_STATUSES))
            data.problems.append((line, "status", get("status"), why))
            continue
        if get("status") not in HAPPENED:
            data.not_happened += 1
            continue
        setting = get("setting") or CLASS_SETTING.get(get("class").upper(), "")
        if setting not in SETTINGS:
            data.problems.append((line, "setting", setting or get("class"), "unknown setting"))
            continue
        if not get("patient_id"):
            data.problems.append((line, "patient_id", "", "required"))
            continue
        try:
            start = _day(get("start"), tz)
        except ValueError:
            data.problems.append((line, "start", get("start"), "not an ISO date-time"))
            continue
        try:
            end = _day(get("end"), tz) if get("end") else None
        except ValueError:
            data.problems.append((line, "end", get("end"), "not an ISO date-time"))
            continue
        birth: int | None = None
        if get("patient_birth_year"):
            try:
                birth = int(get("patient_birth_year"))
            except ValueError:
                data.problems.append(
                    (line, "patient_birth_year", get("patient_birth_year"), "not a year")
                )
                continue
        principal = dx_category(get("principal_dx"))
        others = {dx_category(v) for v in get("other_dx").split(";") if v.strip()}
        if setting in INPATIENT | {"ed"} and not principal:
            data.without_dx += 1
        data.encounters.append(
            Encounter(
                encounter_id=get("encounter_id"),
                patient_id=get("patient_id"),
                setting=setting,
                start=start,
                end=end,
                principal=principal,
                categories=frozenset({principal, *others} - {""}),
                mh_provider=get("provider_class") in MH_PROVIDERS,
                death_or_hospice=get("discharge_disposition").lower() in DEATH_OR_HOSPICE,
                birth_year=birth,
                clinic_id=get("clinic_id"),
            )
        )
    return data


def appointment_follow_ups(
    con: duckdb.DuckDBPyConnection, patient_ids: Iterable[str], *, hashed: bool = True
) -> list[Encounter]:
    """Attended MH / SUD appointments of these patients from the check's ``appt`` table.

    ``appt.patient_key`` is DuckDB ``hash(patient_id)`` in the check (``hashed``), so the
    encounter ids are hashed the same way to join. Must run before ``metrics.compute_units``
    drops ``appt``.
    """
    from .extract import ATTENDED

    ids = sorted(set(patient_ids))
    if not ids:
        return []
    con.execute("CREATE OR REPLACE TEMP TABLE hedis_pat (patient_id VARCHAR)")
    con.executemany("INSERT INTO hedis_pat VALUES (?)", [(i,) for i in ids])
    key = "hash(p.patient_id)" if hashed else "p.patient_id"
    statuses = ", ".join(f"'{s}'" for s in ATTENDED)
    rows = con.execute(
        f"""
        SELECT p.patient_id, a.appointment_id, a.start_day, a.service_line::VARCHAR,
               a.provider_class::VARCHAR, a.modality::VARCHAR
        FROM appt a JOIN hedis_pat p ON a.patient_key = {key}
        WHERE a.status::VARCHAR IN ({statuses}) AND a.service_line::VARCHAR IN ('MH', 'SUD')
          AND a.start_day IS NOT NULL
        """  # noqa: S608 - constants only
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS hedis_pat")
    out = []
    for patient, appt_id, day, line, cls, modality in rows:
        setting = {"video": "telehealth", "telephone": "telephone"}.get(modality, "outpatient")
        proxy = "mh" if line == "MH" else "sud"
        out.append(
            Encounter(
                encounter_id=f"appointment:{appt_id}",
                patient_id=patient,
                setting=setting,
                start=day,
                end=None,
                principal=proxy,
                categories=frozenset({proxy}),
                mh_provider=cls in MH_PROVIDERS,
                death_or_hospice=False,
                birth_year=None,
                source="appointment",
            )
        )
    return out


# -- measures --------------------------------------------------------------------------------

MEASURES = ("FUH", "FUM", "FUA")
MIN_AGE = {"FUH": 6, "FUM": 6, "FUA": 13}


@dataclass(frozen=True)
class IndexEvent:
    measure: str
    encounter_id: str
    patient_id: str
    index_date: dt.date
    status: str  # counted | pending | excluded:<reason>
    follow_up_7: dt.date | None = None
    follow_up_30: dt.date | None = None
    clinic_id: str = ""  # of the index encounter (blank when the file has none)

    @property
    def counted(self) -> bool:
        return self.status == "counted"


@dataclass
class MeasureResult:
    measure: str
    year: int
    events: list[IndexEvent]

    @property
    def denominator(self) -> int:
        return sum(1 for e in self.events if e.counted)

    def hits(self, days: int) -> int:
        attr = "follow_up_7" if days == 7 else "follow_up_30"
        return sum(1 for e in self.events if e.counted and getattr(e, attr) is not None)

    def excluded(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for e in self.events:
            if e.status != "counted":
                out[e.status] += 1
        return dict(out)


def _age_ok(e: Encounter, day: dt.date, minimum: int) -> bool:
    return e.birth_year is None or day.year - e.birth_year >= minimum


def _is_mh(e: Encounter) -> bool:
    return e.principal in ("mh", "self_harm")


def _fuh_follow_up(f: Encounter) -> bool:
    return f.setting in FUH_SETTINGS and (f.mh_provider or _is_mh(f))


def _fum_follow_up(f: Encounter) -> bool:
    return f.setting in FUM_SETTINGS and bool(f.categories & {"mh", "self_harm"})


def _fua_follow_up(f: Encounter) -> bool:
    if f.setting not in FUA_SETTINGS:
        return False
    return (
        f.setting in ("otp", "pharmacotherapy")
        or f.mh_provider
        or bool(f.categories & {"sud", "overdose"})
    )


def _first_within(
    visits: list[Encounter], index: dt.date, low: int, high: int, ok: object
) -> dt.date | None:
    days = sorted(v.start for v in visits if ok(v) and low <= (v.start - index).days <= high)  # type: ignore[operator]
    return days[0] if days else None


def compute(encounters: Iterable[Encounter], year: int, as_of: dt.date) -> dict[str, MeasureResult]:
    """FUH, FUM and FUA for measurement year ``year`` with data cut-off ``as_of``."""
    by_patient: dict[str, list[Encounter]] = defaultdict(list)
    for e in encounters:
        by_patient[e.patient_id].append(e)
    period = (dt.date(year, 1, 1), dt.date(year, 12, 1))
    results = {m: MeasureResult(m, year, []) for m in MEASURES}
    for patient, rows in sorted(by_patient.items()):
        rows.sort(key=lambda e: (e.start, e.encounter_id))
        admissions = [e for e in rows if e.setting in INPATIENT]
        results["FUH"].events.extend(_fuh(patient, rows, admissions, period, as_of))
        for measure in ("FUM", "FUA"):
            results[measure].events.extend(_ed(measure, patient, rows, admissions, period, as_of))
    return results


def _fuh(
    patient: str,
    rows: list[Encounter],
    admissions: list[Encounter],
    period: tuple[dt.date, dt.date],
    as_of: dt.date,
) -> Iterator[IndexEvent]:
    stays = [e for e in admissions if e.setting == "acute_inpatient" and _is_mh(e)]
    for i, stay in enumerate(stays):
        disch = stay.end
        if disch is None:
            continue  # still admitted (or no discharge recorded): not a discharge
        event = partial(IndexEvent, "FUH", stay.encounter_id, patient, disch,
                        clinic_id=stay.clinic_id)  # fmt: skip

        # Readmission or direct transfer (acute, principal MH) within 30 days: keep the last.
        later = [s for s in stays[i + 1 :] if 0 <= (s.start - disch).days <= 30]
        if later:
            if period[0] <= disch <= period[1]:
                yield event("excluded:readmitted_keep_last")
            continue
        if not period[0] <= disch <= period[1]:
            continue  # outside the measurement period: not an index event
        if any(
            a.setting == "nonacute_inpatient" and 0 <= (a.start - disch).days <= 30
            for a in admissions
        ):
            yield event("excluded:nonacute_admission")
        elif stay.death_or_hospice:
            yield event("excluded:hospice_or_death")
        elif not _age_ok(stay, disch, MIN_AGE["FUH"]):
            yield event("excluded:age")
        elif disch + dt.timedelta(days=30) > as_of:
            yield event("pending")
        else:
            # The discharge day does not count: 1 <= days <= 7 (resp. 30).
            yield event(
                "counted",
                follow_up_7=_first_within(rows, disch, 1, 7, _fuh_follow_up),
                follow_up_30=_first_within(rows, disch, 1, 30, _fuh_follow_up),
            )


def _ed(
    measure: str,
    patient: str,
    rows: list[Encounter],
    admissions: list[Encounter],
    period: tuple[dt.date, dt.date],
    as_of: dt.date,
) -> Iterator[IndexEvent]:
    if measure == "FUM":
        visits = [e for e in rows if e.setting == "ed" and _is_mh(e)]
        ok = _fum_follow_up
    else:
        visits = [
            e
            for e in rows
            if e.setting == "ed" and (e.principal == "sud" or "overdose" in e.categories)
        ]
        ok = _fua_follow_up
    kept: dt.date | None = None
    for visit in visits:
        day = visit.start
        event = partial(IndexEvent, measure, visit.encounter_id, patient, day,
                        clinic_id=visit.clinic_id)  # fmt: skip

        if not period[0] <= day <= period[1]:
            continue
        if any(0 <= (a.start - day).days <= 30 for a in admissions):
            yield event("excluded:inpatient_admission")
            continue
        if not _age_ok(visit, day, MIN_AGE[measure]):
            yield event("excluded:age")
            continue
        # Several eligible ED visits within 31 days (the ED day + 30): only the first counts.
        if kept is not None and (day - kept).days <= 30:
            yield event("excluded:within_31_days_of_an_earlier_visit")
            continue
        kept = day
        if day + dt.timedelta(days=30) > as_of:
            yield event("pending")
            continue
        # The ED day counts: 0 <= days <= 7 (resp. 30).
        yield event(
            "counted",
            follow_up_7=_first_within(rows, day, 0, 7, ok),
            follow_up_30=_first_within(rows, day, 0, 30, ok),
        )


def default_year(as_of: dt.date) -> int:
    """The measurement year of the data cut-off (events after ``as_of`` - 30 d are pending)."""
    return as_of.year


# -- report ----------------------------------------------------------------------------------

NAMES = {
    "FUH": "follow-up after hospitalisation for mental illness",
    "FUM": "follow-up after ED visit for mental illness",
    "FUA": "follow-up after ED visit for substance use",
}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def published(result: MeasureResult) -> dict[str, int | None]:
    """Denominator, 7- and 30-day hits and misses, suppressed 1-10 with complements."""
    n = result.denominator
    h7, h30 = result.hits(7), result.hits(30)
    values = {"den": n, "h7": h7, "m7": n - h7, "h30": h30, "m30": n - h30}
    lines = [Line(("h7", "m7"), "den"), Line(("h30", "m30"), "den")]
    hidden = suppression.suppress(values, lines)
    return {k: (None if k in hidden else v) for k, v in values.items()}


def report_lines(
    data: EncounterData, results: dict[str, MeasureResult], as_of: dt.date, proxies: int
) -> Iterator[str]:
    year = next(iter(results.values())).year
    yield (
        f"\n{LABEL} follow-up measures ({LABEL}: public descriptions and approximate ICD-10 "
        "ranges, not NCQA's licensed HEDIS specification; not HEDIS rates)\n"
    )
    yield (
        f"  measurement year {year}: index events Jan 1 - Dec 1; events whose 30-day window "
        f"ends after {as_of} are pending and left out\n"
    )
    yield (
        f"  encounter rows: {fmt_count(suppression.count(data.rows))}; not happened "
        f"(cancelled, planned, ...): {fmt_count(suppression.count(data.not_happened))}; "
        f"inpatient / ED without a principal diagnosis (cannot open a denominator): "
        f"{fmt_count(suppression.count(data.without_dx))}; rows skipped: "
        f"{fmt_count(suppression.count(len(data.problems)))}\n"
    )
    if proxies:
        yield (
            "  follow-ups also from attended MH / SUD appointments of the extract "
            f"({fmt_count(suppression.count(proxies))}): MH service line stands in for a MH "
            "diagnosis, SUD for a SUD diagnosis (proxy)\n"
        )
    yield f"  {'measure':<8}{'index events':>14}{'7-day':>9}{'rate':>8}{'30-day':>9}{'rate':>8}\n"
    for m, result in results.items():
        p = published(result)
        if result.denominator == 0:
            yield f"  {m:<8}{'0':>14}  not measurable: no index event ({NAMES[m]})\n"
        else:
            yield (
                f"  {m:<8}{fmt_count(p['den']):>14}{fmt_count(p['h7']):>9}"
                f"{_pct(suppression.rate(p['h7'], p['den'])):>8}{fmt_count(p['h30']):>9}"
                f"{_pct(suppression.rate(p['h30'], p['den'])):>8}\n"
            )
        excluded = result.excluded()
        if excluded:
            shown = ", ".join(
                f"{k.removeprefix('excluded:').replace('_', ' ')} {fmt_count(suppression.count(v))}"
                for k, v in sorted(excluded.items())
            )
            yield f"    not in the denominator: {shown}\n"
    yield (
        "  caveats: continuous enrollment is not checked; visit types and diagnoses are "
        "approximations of the licensed value sets; ages from birth year only\n"
    )


EVENT_COLUMNS = (
    "measure", "encounter_id", "index_date", "status", "follow_up_7_date", "follow_up_30_date",
)  # fmt: skip


def event_rows(results: dict[str, MeasureResult]) -> Iterator[list[str]]:
    """Index events for a unit-level CSV (data steward only)."""
    yield list(EVENT_COLUMNS)
    for result in results.values():
        for e in result.events:
            yield [
                e.measure, e.encounter_id, e.index_date.isoformat(), e.status,
                e.follow_up_7.isoformat() if e.follow_up_7 else "",
                e.follow_up_30.isoformat() if e.follow_up_30 else "",
            ]  # fmt: skip
