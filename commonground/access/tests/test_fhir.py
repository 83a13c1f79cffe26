"""FHIR R4 Appointment, Encounter, Slot and Schedule as canonical rows (section 6.2)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from commonground.access import fhir, readers
from commonground.access.cli import run_check
from commonground.access.tests.helpers import Run
from commonground.access.tests.hl7_examples import EXAMPLES
from commonground.access.tests.test_imports import private_files  # noqa: F401 - a fixture

NUCC = fhir.NUCC
SNOMED = fhir.SNOMED
ATND = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": "ATND"}]}  # fmt: skip


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif name.endswith(".ndjson"):
        path.write_text("".join(json.dumps(r) + "\n" for r in content), encoding="utf-8")
    else:
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")
    return path


def check(path: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run_check([str(path), *args], stdout=out)
    return code, out.getvalue()


def canonical(path: Path, work: Path) -> tuple[readers.Converted, list[dict[str, str]]]:
    converted = readers.convert(path, work, name=path.name)
    with converted.path.open(newline="", encoding="utf-8") as handle:
        return converted, list(csv.DictReader(handle))


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"fullUrl": f"urn:x:{i}", "resource": r} for i, r in enumerate(resources)],
    }


def appointment(ident: str, **fields: Any) -> dict[str, Any]:
    """A booked MH appointment of patient P1 with practitioner PR1 (an LCSW) at OAK."""
    res: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": ident,
        "status": "booked",
        "specialty": [{"coding": [{"system": NUCC, "code": "1041C0700X"}]}],
        "created": "2025-01-06T09:20:00-08:00",
        "start": "2025-01-21T10:00:00-08:00",
        "end": "2025-01-21T11:00:00-08:00",
        "participant": [
            {"actor": {"reference": "Patient/P1"}, "status": "accepted"},
            {"type": [ATND], "actor": {"reference": "Practitioner/PR1"}, "status": "accepted"},
            {"actor": {"reference": "Location/OAK"}, "status": "accepted"},
        ],
    }
    res.update(fields)
    return {k: v for k, v in res.items() if v is not None}


# -- HL7's own examples ------------------------------------------------------------------------


def test_hl7_example_appointment_imports_as_a_primary_care_follow_up(tmp_path):
    path = write(tmp_path, "appointment-example.json", EXAMPLES["example"])
    converted, rows = canonical(path, tmp_path / "w")
    assert converted.problems == []
    (got,) = rows
    assert {k: v for k, v in got.items() if v} == {
        "appointment_id": "example",
        "patient_id": "example",  # Patient/example: HMACed downstream by the importer
        "clinic_id": "1",  # Location/1
        "provider_id": "example",  # Practitioner/example, the attender
        "provider_class": "pcp",  # SNOMED 394814009 General practice
        "service_line": "PC",
        "visit_type": "A follow up visit from a previous appointment",
        "appointment_kind": "follow_up",  # v2-0276 FOLLOWUP
        "booked_datetime": "2013-10-10",  # created: the booking, not the request
        "appointment_start": "2013-12-10T09:00:00Z",
        "duration_min": "120",
        "status": "scheduled",  # booked
        "referral_id": "myringotomy",  # basedOn ServiceRequest (not in the file: no request)
    }
    code, report = check(path, "--as-of", "2014-01-31")
    assert code == 0 and "rows: 1; valid: yes" in report, report


def test_hl7_example_request_imports_as_a_request_still_waiting(tmp_path):
    path = write(tmp_path, "appointment-example-request.json", EXAMPLES["examplereq"])
    _, (row_,) = canonical(path, tmp_path / "w")
    # Proposed, with no time finalised: a request, not an appointment (access-and-parity.md
    # 7: canonical "requested" / pending). The proposed slot and its creation are not offers.
    assert {k: row_[k] for k in ("appointment_id", "patient_id", "clinic_id", "status",
                                 "request_datetime", "booked_datetime", "appointment_start",
                                 "provider_id")} == {
        "appointment_id": "examplereq", "patient_id": "example", "clinic_id": "1",
        "status": "requested", "request_datetime": "2016-06-02",  # earliest requestedPeriod
        "booked_datetime": "", "appointment_start": "", "provider_id": "",
    }  # fmt: skip
    out = tmp_path / "units.csv"
    code, report = check(path, "--out", str(out))
    assert code == 0, report
    assert "1 proposed or waitlist Appointment(s) read as requests still waiting" in report
    with out.open(newline="") as handle:
        (unit,) = list(csv.DictReader(handle))
    assert (unit["start_date"], unit["stop_appointment_id"], unit["status"]) == (
        "2016-06-02",
        "",
        "pending",
    )


def test_hl7_two_doctors_example_is_rejected_for_its_missing_clinic_only(tmp_path):
    path = write(tmp_path, "appointment-example2doctors.json", EXAMPLES["2docs"])
    code, report = check(path)
    assert code == 2
    # Booked without created is accepted (access-and-parity.md 6.2): only the clinic is missing.
    assert "booked_datetime" not in report.split("Problems", 1)[1], report
    assert "1 booked Appointment(s) without created: kept" in report
    assert "line 1: clinic_id = '': no clinic: no participant.actor references a Location" in report
    # Two practitioners: the first is the provider; the display-only "Phone Call" is ignored.
    assert "provider_id" not in report and "patient_id" not in report


def test_the_three_hl7_examples_in_one_bundle_report_each_by_its_line(tmp_path):
    entries = [json.loads(EXAMPLES[k]) for k in ("example", "2docs", "examplereq")]
    path = write(tmp_path, "examples.json", bundle(*entries, kind="searchset"))
    code, report = check(path)
    assert code == 2
    text = path.read_text()
    at = text.rindex('"fullUrl"', 0, text.index('"id": "2docs"'))
    line_2docs = text[:at].count("\n")  # the line of the entry's "{", just above fullUrl
    assert f"line {line_2docs}: clinic_id" in report, report


# -- the spec rows as FHIR: same canonical rows, same metrics ------------------------------------

SPEC_AS_FHIR_CSV = """\
appointment_id,patient_id,clinic_id,provider_id,provider_class,service_line,visit_type,appointment_kind,urgency,prior_auth_required,request_datetime,booked_datetime,first_offered_start,appointment_start,duration_min,status,cancel_datetime,cancel_initiator,cancel_reason,modality,is_group,episode_id,referral_id,longer_interval_documented,patient_requested_later,recommended_return_days,out_of_network,product_line,patient_birth_year,clinic_name
A1001,P9001,OAK,PR55,lmft,MH,NEW THERAPY INTAKE 60,,,,2025-01-06T09:14:00-08:00,2025-01-06T09:20:00-08:00,,2025-01-21T10:00:00-08:00,60,completed,,,,video,,,R1,,,,,,1988,
A1002,P9001,OAK,PR55,lmft,MH,RETURN THERAPY 45,follow_up,,,,2025-01-21T10:55:00-08:00,,2025-02-18T10:00:00-08:00,45,completed,,,,video,,,,,,,,,1988,
A1003,P9002,SRF,PR12,psychiatrist,MH,NEW PSYCH EVAL 60,,,,2025-03-03T13:02:00-08:00,2025-03-03T13:10:00-08:00,,2025-03-25T08:30:00-07:00,60,cancelled,2025-03-20T16:00:00-07:00,provider,prov,,,,,,,,,,1975,
"""  # noqa: E501 - the spec rows, as far as FHIR R4 carries them


def spec_resources() -> list[dict[str, Any]]:
    lmft_role = {
        "resourceType": "PractitionerRole",
        "id": "role55",
        "practitioner": {"reference": "Practitioner/PR55"},
        "code": [{"coding": [{"system": NUCC, "code": "106H00000X"}]}],
    }

    def parts(patient: str, provider: str, clinic: str) -> list[dict[str, Any]]:
        return [
            {"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
            {"type": [ATND], "actor": {"reference": provider}, "status": "accepted"},
            {"actor": {"reference": f"Location/{clinic}"}, "status": "accepted"},
        ]

    a1001 = {
        "resourceType": "Appointment", "id": "A1001", "status": "fulfilled",
        "appointmentType": {"text": "NEW THERAPY INTAKE 60"},
        "basedOn": [{"reference": "ServiceRequest/R1"}],
        "created": "2025-01-06T09:20:00-08:00", "start": "2025-01-21T10:00:00-08:00",
        "minutesDuration": 60,
        "participant": parts("P9001", "PractitionerRole/role55", "OAK"),
    }  # fmt: skip
    a1002 = {
        "resourceType": "Appointment", "id": "A1002", "status": "booked",
        "appointmentType": {"coding": [{"system": fhir.V2_0276, "code": "FOLLOWUP"}],
                            "text": "RETURN THERAPY 45"},
        "created": "2025-01-21T10:55:00-08:00", "start": "2025-02-18T10:00:00-08:00",
        "end": "2025-02-18T10:45:00-08:00",
        "participant": parts("P9001", "PractitionerRole/role55", "OAK"),
    }  # fmt: skip
    a1003 = {
        "resourceType": "Appointment", "id": "A1003", "status": "cancelled",
        "cancelationReason": {"coding": [{"system": fhir.CANCEL_REASON, "code": "prov"}]},
        "extension": [{"url": fhir.CANCELLATION_DATE_EXTENSION,
                       "valueDateTime": "2025-03-20T16:00:00-07:00"}],
        "specialty": [{"coding": [{"system": SNOMED, "code": "394587001"}]}],
        "appointmentType": {"text": "NEW PSYCH EVAL 60"},
        "requestedPeriod": [{"start": "2025-03-05T08:00:00-08:00"},
                            {"start": "2025-03-03T13:02:00-08:00"}],
        "created": "2025-03-03T13:10:00-08:00", "start": "2025-03-25T08:30:00-07:00",
        "end": "2025-03-25T09:30:00-07:00",
        "participant": parts("P9002", "Practitioner/PR12", "SRF"),
    }  # fmt: skip
    encounters = [
        {"resourceType": "Encounter", "id": f"E{n}", "status": "finished",
         "class": {"system": fhir.V3_ACTCODE, "code": "VR"},
         "subject": {"reference": "Patient/P9001"},
         "appointment": [{"reference": f"Appointment/{a}"}]}
        for n, a in ((1, "A1001"), (2, "A1002"))
    ]  # fmt: skip
    others = [
        {"resourceType": "ServiceRequest", "id": "R1", "status": "active", "intent": "order",
         "authoredOn": "2025-01-06T09:14:00-08:00", "subject": {"reference": "Patient/P9001"}},
        {"resourceType": "Patient", "id": "P9001", "birthDate": "1988-04-02"},
        {"resourceType": "Patient", "id": "P9002", "birthDate": "1975"},
        {"resourceType": "Practitioner", "id": "PR55"},
    ]  # fmt: skip
    # Appointments first: what they refer to may come later in the file.
    return [a1001, a1002, a1003, *encounters, lmft_role, *others]


def test_a_bundle_built_to_match_gives_the_same_canonical_rows_and_metrics_as_the_csv(tmp_path):
    csv_path = write(tmp_path, "spec.csv", SPEC_AS_FHIR_CSV)
    path = write(tmp_path, "spec.json", bundle(*spec_resources(), kind="searchset"))
    converted, rows = canonical(path, tmp_path / "w")
    assert converted.problems == []
    with csv_path.open(newline="") as handle:
        assert rows == list(csv.DictReader(handle))
    from_csv = Run(csv_path, as_of="2025-03-31").units()
    from_fhir = Run(converted.path, as_of="2025-03-31").units()
    assert from_fhir == from_csv
    status = {(u["metric"], u["start_appointment_id"]): u["status"] for u in from_fhir}
    assert status[("initial_non_urgent_mh", "A1001")] == "compliant"  # 10 bd, as in the spec
    assert status[("follow_up_sb221", "A1001")] == "noncompliant"  # 19 bd to A1002
    assert status[("initial_psychiatry", "A1003")] == "noncompliant"  # withdrawn by the provider
    assert any("Encounter" in w for w in converted.warnings)


def test_the_same_resources_as_bulk_ndjson_give_the_same_rows(tmp_path):
    json_path = write(tmp_path, "b.json", bundle(*spec_resources()))
    nd_path = write(tmp_path, "Appointment.000.ndjson", spec_resources())
    _, from_bundle = canonical(json_path, tmp_path / "w1")
    converted, from_ndjson = canonical(nd_path, tmp_path / "w2")
    assert converted.kind == "fhir" and from_ndjson == from_bundle
    # Lines: ndjson line numbers (A1003 is on line 3).
    assert converted.source_lines([4]) == {4: 3}


def test_a_minified_bundle_is_streamed_entry_by_entry_like_the_pretty_one(tmp_path):
    many = [appointment(f"M{i}", participant=appointment("x")["participant"]) for i in range(900)]
    pretty = write(tmp_path, "p.json", bundle(*many))
    minified = tmp_path / "m.json"
    minified.write_text(json.dumps(bundle(*many), separators=(",", ":")) + " " * (1 << 20))
    assert not fhir.looks_like_ndjson(minified)
    items = list(fhir.iter_resources(minified, ndjson=False))
    assert [i.resource["id"] for i in items if i.resource] == [f"M{i}" for i in range(900)]
    _, a = canonical(pretty, tmp_path / "w1")
    _, b = canonical(minified, tmp_path / "w2")
    assert a == b and len(a) == 900


# -- vocabularies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "canonical_status"),
    [("pending", "scheduled"), ("booked", "scheduled"), ("arrived", "arrived"),
     ("fulfilled", "completed"), ("checked-in", "checked_in"), ("noshow", "no_show"),
     ("cancelled", "cancelled"), ("entered-in-error", "entered_in_error")],
)  # fmt: skip
def test_appointment_statuses_map_to_the_canonical_vocabulary(tmp_path, status, canonical_status):
    path = write(tmp_path, "s.json", appointment("S1", status=status))
    _, (got,) = canonical(path, tmp_path / "w")
    assert got["status"] == canonical_status


def test_an_unmapped_status_blocks_the_import_with_a_clear_report(tmp_path):
    path = write(tmp_path, "u.ndjson", [appointment("U1"), appointment("U2", status="done")])
    code, report = check(path)
    assert code == 2
    assert "line 2: status = 'done': unmapped Appointment.status: allowed pending" in report


def test_an_unmapped_encounter_class_blocks_the_import(tmp_path):
    enc = {"resourceType": "Encounter", "id": "E1", "status": "finished",
           "class": {"system": "http://example.org/local", "code": "TELE"},
           "appointment": [{"reference": "Appointment/C1"}]}  # fmt: skip
    path = write(tmp_path, "c.ndjson", [appointment("C1"), enc])
    code, report = check(path)
    assert code == 2 and "line 2: modality = 'http://example.org/local|TELE'" in report
    assert "unmapped Encounter.class" in report


def test_an_unknown_provider_specialty_blocks_the_import(tmp_path):
    spec = [{"coding": [{"system": SNOMED, "code": "999999999"}]}]
    path = write(tmp_path, "p.json", appointment("P1", specialty=spec))
    code, report = check(path)
    assert code == 2 and "no provider class" in report and "999999999" in report


def test_a_local_concept_map_classifies_local_codes(tmp_path):
    spec = [{"coding": [{"system": "urn:oid:1.2.3", "code": "THER"}]}]
    path = write(tmp_path, "p.json", appointment("L1", specialty=spec))
    mapping = fhir.ConceptMap(
        {**fhir.DEFAULT_CONCEPT_MAP, ("urn:oid:1.2.3", "THER"): ("lmft", "MH")}
    )
    converted = readers.FhirReader(mapping).convert(path, tmp_path / "w")
    assert converted.problems == []
    assert ",lmft,MH," in converted.path.read_text()


def test_cancellation_reasons_give_the_initiator(tmp_path):
    def cancelled(ident: str, code: str) -> dict[str, Any]:
        reason = {"coding": [{"system": fhir.CANCEL_REASON, "code": code}]}
        return appointment(ident, status="cancelled", cancelationReason=reason)

    path = write(tmp_path, "c.ndjson", [cancelled("C1", "pat-crs"), cancelled("C2", "prov-pers"),
                                        cancelled("C3", "oth-weath")])  # fmt: skip
    _, rows = canonical(path, tmp_path / "w")
    assert [r["cancel_initiator"] for r in rows] == ["patient", "provider", "clinic"]


def test_emergency_appointments_are_urgent_and_priority_alone_is_not(tmp_path):
    emergency = {"coding": [{"system": fhir.V2_0276, "code": "EMERGENCY"}]}
    path = write(tmp_path, "e.ndjson", [appointment("E1", appointmentType=emergency),
                                        appointment("E2", priority=1)])  # fmt: skip
    _, rows = canonical(path, tmp_path / "w")
    assert [r["urgency"] for r in rows] == ["urgent", ""]


def test_slots_feed_the_clinic_and_are_kept_apart_for_next_available(tmp_path):
    schedule = {"resourceType": "Schedule", "id": "SCH1",
                "actor": [{"reference": "Location/RIC"}, {"reference": "Practitioner/PR1"}],
                "specialty": [{"coding": [{"system": NUCC, "code": "106H00000X"}]}]}  # fmt: skip
    slots = [
        {"resourceType": "Slot", "id": f"SL{i}", "schedule": {"reference": "Schedule/SCH1"},
         "status": status, "start": f"2025-01-2{i}T10:00:00-08:00",
         "end": f"2025-01-2{i}T11:00:00-08:00"}
        for i, status in enumerate(("busy", "free", "free"))
    ]  # fmt: skip
    appt = appointment("SL-A", slot=[{"reference": "Slot/SL0"}])
    appt["participant"] = appt["participant"][:2]  # no Location: the clinic comes via the slot
    path = write(tmp_path, "s.json", bundle(appt, schedule, *slots))
    converted, (row_,) = canonical(path, tmp_path / "w")
    assert row_["clinic_id"] == "RIC"
    with converted.outputs["slots"].open(newline="") as handle:
        got = list(csv.DictReader(handle))
    assert [(s["slot_id"], s["status"], s["clinic_id"], s["provider_class"]) for s in got] == [
        ("SL0", "busy", "RIC", "lmft"), ("SL1", "free", "RIC", "lmft"),
        ("SL2", "free", "RIC", "lmft"),
    ]  # fmt: skip
    assert any("they give next and third-next available" in w for w in converted.warnings)


def test_an_unmapped_slot_status_blocks_the_import(tmp_path):
    slot = {
        "resourceType": "Slot",
        "id": "X",
        "schedule": {"reference": "Schedule/S"},
        "status": "open",
        "start": "2025-01-20T10:00:00Z",
        "end": "2025-01-20T11:00:00Z",
    }
    code, report = check(write(tmp_path, "x.ndjson", [appointment("A"), slot]))
    assert code == 2 and "line 2: status = 'open': unmapped Slot.status" in report


def test_a_group_appointment_with_several_patients_is_refused(tmp_path):
    appt = appointment("G1")
    appt["participant"].append({"actor": {"reference": "Patient/P2"}, "status": "accepted"})
    code, report = check(write(tmp_path, "g.json", appt))
    assert code == 2 and "several Patient participants" in report
    assert "P2" not in report.split("Problems", 1)[1].split("patient_id", 1)[0]


def test_other_resource_types_are_counted_and_ignored(tmp_path):
    path = write(tmp_path, "o.ndjson", [appointment("O1"), {"resourceType": "Observation"},
                                        {"resourceType": "Observation"}])  # fmt: skip
    converted, rows = canonical(path, tmp_path / "w")
    assert len(rows) == 1 and "FHIR resources not used: 2 Observation" in converted.warnings


def test_a_bundles_delete_entries_are_counted_and_said_not_to_be_applied(tmp_path):
    doc = bundle(appointment("D1"), kind="transaction")
    doc["entry"] += [
        {"request": {"method": "DELETE", "url": "Appointment/D0"}},
        {"request": {"method": "DELETE", "url": "Slot/S9"}},
    ]
    converted, rows = canonical(write(tmp_path, "d.json", doc), tmp_path / "w")
    assert [r["appointment_id"] for r in rows] == ["D1"] and not converted.problems
    said = [w for w in converted.warnings if "asked to DELETE" in w]
    assert said and said[0].startswith("2 Bundle entr(ies)"), converted.warnings
    code, report = check(write(tmp_path, "d.json", doc))
    assert code == 0 and "2 Bundle entr(ies) asked to DELETE a resource" in report, report


def test_history_bundles_are_refused(tmp_path):
    code, report = check(write(tmp_path, "h.json", bundle(appointment("H1"), kind="history")))
    assert code == 2 and "Bundle.type must be searchset, collection" in report


# -- through the importer --------------------------------------------------------------------


def test_a_fhir_import_stores_what_the_matching_csv_stores_and_reimports_change_nothing(
    world, tmp_path
):
    from django.core.files.base import ContentFile

    from commonground.access import extract, services
    from commonground.access.models import ImportJob
    from commonground.access.tests.test_imports import KEY, stored_rows

    def upload(content: bytes, filename: str) -> ImportJob:
        job = services.import_receive(
            actor=world.person("data_steward"), upload=ContentFile(content, name=filename),
            original_name=filename, region=world.region, enqueue=False,
        )  # fmt: skip
        return services.import_run(job.pk)

    content = json.dumps(bundle(*spec_resources(), kind="searchset")).encode()
    first = upload(content, "export.json")
    assert first.state == ImportJob.State.DONE, (first.last_error, first.quality)
    assert (first.rows, first.inserted) == (3, 3)
    stored = stored_rows(world)
    text = repr(stored)
    assert "P9001" not in text and extract.pseudonymise("P9001", KEY.encode()) in text
    for _ in range(3):
        again = upload(content, "export.json")
        assert (again.state, again.unchanged, again.generation) == ("done", 3, first.generation)
    nd = "".join(json.dumps(r) + "\n" for r in spec_resources()).encode()
    assert upload(nd, "Appointment.000.ndjson").unchanged == 3
    assert upload(SPEC_AS_FHIR_CSV.encode(), "same.csv").unchanged == 3
    assert stored_rows(world) == stored


def test_the_kept_report_of_an_ndjson_upload_masks_a_patient_id_on_its_first_line(world):
    """Line 1 of a CSV is its header; line 1 of an ndjson file is a resource like any other."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from commonground.access import services

    first = appointment("F1", participant=[
        {"actor": {"reference": "Patient/=P7777"}, "status": "accepted"},
        *appointment("F1")["participant"][1:],
    ])  # fmt: skip
    content = "".join(json.dumps(r) + "\n" for r in (first, appointment("F2"))).encode()
    job = services.import_receive(
        actor=world.person("data_steward"), upload=ContentFile(content, name="a.ndjson"),
        original_name="a.ndjson", region=world.region, enqueue=False,
    )  # fmt: skip
    job = services.import_run(job.pk)
    assert job.state == "invalid"
    report = storages["private"].open(job.error_report).read().decode()
    assert report.startswith("line,column,value,reason\r\n1,patient_id,")
    assert "P7777" not in report


def test_encounter_reason_codes_give_the_hedis_like_diagnoses(tmp_path):
    import csv as csv_module

    enc = {"resourceType": "Encounter", "id": "E9", "status": "finished",
           "class": {"system": fhir.V3_ACTCODE, "code": "IMP"},
           "subject": {"reference": "Patient/P9"},
           "period": {"start": "2025-03-01T10:00:00-08:00", "end": "2025-03-04T12:00:00-08:00"},
           "reasonCode": [{"coding": [{"system": fhir.ICD10CM, "code": "F32.2"},
                                      {"system": fhir.ICD10CM, "code": "F10.20"}]}],
           "hospitalization": {"dischargeDisposition": {"coding": [{"code": "home"}]}}}  # fmt: skip
    path = write(tmp_path, "e.ndjson", [appointment("H1"), enc])
    converted, _ = canonical(path, tmp_path / "w")
    encounters = converted.outputs["encounters"]
    with encounters.open(encoding="utf-8") as handle:
        (row,) = list(csv_module.DictReader(handle))
    assert (row["principal_dx"], row["other_dx"], row["discharge_disposition"]) == (
        "F32.2",
        "F10.20",
        "home",
    )


def test_a_booked_appointment_without_created_is_kept_with_an_unknown_request_date(tmp_path):
    intake = appointment("NC1", created=None,
                         appointmentType={"text": "NEW THERAPY INTAKE 60"})  # fmt: skip
    out = tmp_path / "units.csv"
    code, report = check(write(tmp_path, "nc.json", intake), "--out", str(out), "--as-of",
                         "2025-01-31")  # fmt: skip
    assert code == 0, report
    with out.open(newline="") as handle:
        units = [u for u in csv.DictReader(handle) if u["start_appointment_id"] == "NC1"]
    assert [(u["metric"], u["status"]) for u in units] == [
        ("initial_non_urgent_mh", "unknown_request_date")
    ]


def test_a_fulfilled_appointment_without_created_is_still_refused(tmp_path):
    done = appointment("NC2", created=None, status="fulfilled")
    code, report = check(write(tmp_path, "nc2.json", done))
    assert code == 2
    assert "Appointment.created is missing (status fulfilled)" in report


def test_hl7s_three_example_appointments_import_into_an_import_made_for_one_clinic(world):
    """HL7's examples: "example" (booked), "examplereq" (proposed) and "2docs" (booked, no
    created, no clinic). An import made for Oakland gives the last its clinic."""
    from django.core.files.base import ContentFile

    from commonground.access import services
    from commonground.access.models import ImportJob

    entries = [json.loads(EXAMPLES[k]) for k in ("example", "2docs", "examplereq")]
    content = json.dumps(bundle(*entries, kind="searchset")).encode()
    job = services.import_receive(
        actor=world.person("data_steward"), upload=ContentFile(content, name="examples.json"),
        original_name="examples.json", region=world.region, clinic=world.clinic_a,
        enqueue=False,
    )  # fmt: skip
    job = services.import_run(job.pk)
    assert (job.state, job.rows, job.inserted) == (ImportJob.State.DONE, 3, 3), job.quality
    warnings = " ".join(job.quality["warnings"])
    assert "1 Appointment(s) named no clinic: given the clinic of this import" in warnings
    assert "1 booked Appointment(s) without created: kept" in warnings
    assert "1 proposed or waitlist Appointment(s) read as requests still waiting" in warnings
