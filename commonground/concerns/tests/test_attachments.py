"""Evidence files on concerns: the type comes from the bytes, a bad file refuses the whole
submission, files follow the concern's identity rules and its escalation, and every file
is served only to those who may see the concern."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonground.audit.models import AuditEvent
from commonground.concerns import services
from commonground.concerns.models import Attachment, Concern, PendingAnonymousConcern, Status
from commonground.concerns.selectors.attachments import evidence_panel
from commonground.concerns.services import attachments as evidence
from commonground.concerns.sniff import (
    NAME_MAX,
    Rejected,
    clean_name,
    download_name,
    sniff,
    strip_metadata,
)
from commonground.concerns.tests.test_concerns import FIELDS, MONDAY, _rows_mentioning
from commonground.organizations.models import Side
from tests.factories import MembershipFactory, UserFactory

# --- sample files ----------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00"
    b"/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
)
CSV = b"week,waiting,seen\n2026-11-02,41,38\n2026-11-09,44,35\n"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _png(text: bytes = b"") -> bytes:
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    image = _png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    extra = _png_chunk(b"tEXt", b"Author\x00" + text) if text else b""
    return b"\x89PNG\r\n\x1a\n" + header + extra + image + _png_chunk(b"IEND", b"")


def _jpeg(exif: bytes = b"") -> bytes:
    jfif = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 8) + b"Exif\x00\x00" + exif if exif else b""
    scan = b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x3f\x00" + b"\x12\x34"
    return b"\xff\xd8" + jfif + app1 + scan + b"\xff\xd9"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def _content_types(main: str, part: str = "/xl/workbook.xml") -> bytes:
    return (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="{part}" ContentType="{main}"/></Types>'
    ).encode()


XLSX = _zip(
    {
        "[Content_Types].xml": _content_types(XLSX_MAIN),
        "xl/workbook.xml": b"<workbook/>",
        "xl/worksheets/sheet1.xml": b"<worksheet/>",
    }
)
XLSM = _zip(
    {
        "[Content_Types].xml": _content_types(XLSM_MAIN),
        "xl/workbook.xml": b"<workbook/>",
        "xl/vbaProject.bin": b"\x00macro",
    }
)
DOCX = _zip(
    {
        "[Content_Types].xml": _content_types(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            "/word/document.xml",
        ),
        "word/document.xml": b"<document/>",
    }
)
PLAIN_ZIP = _zip({"notes.txt": b"hello"})


def _file(name: str, data: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    # The browser's content type is deliberately wrong in places: it must not matter.
    return SimpleUploadedFile(name, data, content_type)


# --- sniffing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind", "content_type"),
    [
        (PDF, "pdf", "application/pdf"),
        (_png(), "png", "image/png"),
        (_jpeg(), "jpeg", "image/jpeg"),
        (GIF, "gif", "image/gif"),
        (WEBP, "webp", "image/webp"),
        (CSV, "csv", "text/csv"),
        (b"\xef\xbb\xbfa;b\r\n1;2\r\n", "csv", "text/csv"),
        (b'a\tb\n"x\ty"\t2\n', "csv", "text/csv"),
        (XLSX, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_accepted_kinds_are_recognised_from_their_bytes(data, kind, content_type):
    found = sniff(data)
    assert (found.kind, found.content_type) == (kind, content_type)
    assert (found.text is not None) == (kind == "csv")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (HTML, "Web pages"),
        (b"  \n<html><body>hi</body></html>", "Web pages"),
        (SVG, "SVG"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "Programs"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "Programs"),
        (b"#!/bin/sh\nrm -rf /\n", "Scripts"),
        (PLAIN_ZIP, "ZIP archives"),
        (DOCX, "Word"),
        (XLSM, "macros"),
        (b"PK\x03\x04garbage that is not a zip", "damaged"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "Old Office"),
        (b"Just a sentence of plain text, nothing tabular.\n", "CSV table"),
        (b"caf\xe9,bar\n1,2\n", "UTF-8"),
        (b"a,b\n1,2\x00\n", "not accepted"),
        (b"a,b,c\n1,2\n", "CSV table"),
    ],
)
def test_everything_else_is_refused_with_a_reason(data, reason):
    with pytest.raises(Rejected) as caught:
        sniff(data)
    assert reason in caught.value.reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_sniffing_never_crashes_on_random_bytes(data):
    try:
        found = sniff(data)
    except Rejected as exc:
        assert exc.reason
    else:
        assert found.content_type and found.extension.startswith(".")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBP"]
    ),
    st.binary(max_size=1024),
)
def test_signatures_followed_by_junk_never_crash(prefix, rest):
    data = prefix + rest
    try:
        found = sniff(data)
    except Rejected:
        return
    assert isinstance(strip_metadata(found.kind, data), bytes)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_display_names_are_short_flat_and_printable(name):
    cleaned = clean_name(name, ".pdf")
    assert 0 < len(cleaned) <= NAME_MAX
    assert "/" not in cleaned and "\\" not in cleaned
    assert all(ch.isprintable() for ch in cleaned)


def test_names_lose_folders_and_direction_tricks_and_keep_their_extension():
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("C:\\Users\\carmen\\waits.pdf") == "waits.pdf"
    assert clean_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    long = clean_name("x" * 300 + ".xlsx")
    assert len(long) == NAME_MAX and long.endswith(".xlsx")
    assert download_name("notes.html", "application/pdf") == "notes.html.pdf"
    assert download_name("photo.JPEG", "image/jpeg") == "photo.JPEG"


def test_pictures_lose_their_metadata():
    png = _png(text=b"Carmen Reyes")
    stripped = strip_metadata("png", png)
    assert b"Carmen" not in stripped and stripped.endswith(_png_chunk(b"IEND", b""))
    assert sniff(stripped).kind == "png"
    jpeg = _jpeg(exif=b"GPS 37.80N Carmen's phone")
    stripped = strip_metadata("jpeg", jpeg)
    assert b"Carmen" not in stripped and b"JFIF" in stripped and stripped.endswith(b"\xff\xd9")


# --- checks before storing -------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_with_the_limit_named(settings):
    settings.COMMONGROUND_ATTACHMENT_MAX_BYTES = 2048
    with pytest.raises(ValidationError, match="larger than 2 KB"):
        evidence.prepare_upload(_file("big.pdf", PDF + b"0" * 2048))
    assert evidence.prepare_upload(_file("small.pdf", PDF)).sniffed.kind == "pdf"


def test_the_default_limit_is_ten_megabytes():
    assert evidence.max_size_label() == "10 MB"


def test_a_web_page_named_pdf_is_refused():
    with pytest.raises(ValidationError, match="Web pages"):
        evidence.prepare_upload(_file("minutes.pdf", HTML))


def test_a_csv_with_patient_identifiers_is_refused():
    rows = b"name,mrn\nJ. Doe,MRN 00123456\nA. Roe,MRN 00654321\n"
    with pytest.raises(ValidationError, match="patient information"):
        evidence.prepare_upload(_file("list.csv", rows, "text/csv"))


def test_every_problem_in_one_upload_is_reported_together():
    with pytest.raises(ValidationError) as caught:
        evidence.prepare_uploads([_file("a.pdf", HTML), _file("b.pdf", PDF), _file("c.csv", b"")])
    assert len(caught.value.messages) == 2


def test_at_most_five_files_at_a_time_and_twenty_per_concern(world, carmen):
    concern = _raise(world, carmen)
    with pytest.raises(ValidationError, match="at most 5 files"):
        evidence.attachments_add(
            actor=carmen, concern=concern, uploads=[_file(f"{i}.pdf", PDF) for i in range(6)]
        )
    for batch in range(4):
        evidence.attachments_add(
            actor=carmen,
            concern=concern,
            uploads=[_file(f"{batch}-{i}.pdf", PDF) for i in range(5)],
        )
    with pytest.raises(ValidationError, match="at most 20 files"):
        evidence.attachment_add(actor=carmen, concern=concern, upload=_file("21.pdf", PDF))
    assert concern.attachments.count() == 20


# --- raising with evidence -------------------------------------------------------------------


def _raise(world, person, mode="named", **extra):
    return services.concern_raise(
        actor=person, committee=world.ppc_a, identity_mode=mode, **{**FIELDS, **extra}
    )


@pytest.fixture
def enough_clinicians(world):
    for index in range(3):
        MembershipFactory(
            person=UserFactory(username=f"oakland-clinician-{index}"),
            committee=world.ppc_a,
            side=Side.CLINICIAN,
        )


def _post_raise(client, mode, files):
    return client.post(
        reverse("concerns:concern-raise", args=["ppc-oakland"]),
        {**FIELDS, "identity_mode": mode, "not_a_grievance": "on", "evidence": files},
    )


def test_the_raise_form_takes_files_and_says_what_it_accepts(world, carmen, login):
    html = login(carmen).get(reverse("concerns:concern-raise", args=["ppc-oakland"])).content
    page = html.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" name="evidence"' in page and "multiple" in page
    assert 'accept=".pdf,' in page and "at most 10 MB" in page


def test_a_named_concern_is_raised_with_its_files(world, carmen, login):
    response = _post_raise(
        login(carmen),
        "named",
        [_file("C:\\scans\\waits.pdf", PDF), _file("weekly.csv", CSV, "application/pdf")],
    )
    assert response.status_code == 302
    concern = Concern.objects.get()
    files = {a.display_name: a for a in concern.attachments.all()}
    assert set(files) == {"waits.pdf", "weekly.csv"}
    assert files["weekly.csv"].content_type == "text/csv"  # sniffed, not the browser's claim
    assert all(a.uploaded_by == carmen and a.pending is None for a in files.values())
    events = AuditEvent.objects.filter(object_type="concerns.attachment", action="create")
    assert {e.actor_id for e in events} == {carmen.pk} and events.count() == 2
    pdf = files["waits.pdf"]
    # The field's own storage: a test that swaps STORAGES resets storages[...] but not it.
    assert pdf.file.storage.open(pdf.file.name).read() == PDF
    assert pdf.file.name.startswith("attachments/") and "waits" not in pdf.file.name


def test_one_bad_file_refuses_the_whole_submission_and_stores_nothing(world, carmen, login):
    response = _post_raise(login(carmen), "named", [_file("ok.pdf", PDF), _file("evil.pdf", HTML)])
    assert response.status_code == 422
    page = response.content.decode()
    assert "evil.pdf" in page and "Web pages" in page and "choose them again" in page
    assert not Concern.objects.exists() and not Attachment.objects.exists()
    assert not AuditEvent.objects.filter(object_type__startswith="concerns.").exists()


def test_anonymous_files_wait_with_the_concern_and_move_at_release(
    world, carmen, login, enough_clinicians
):
    client = login(carmen)
    before = _rows_mentioning(carmen)  # her sign-in is rightly on record
    response = _post_raise(client, "anonymous", [_file("rota.pdf", PDF)])
    assert response.status_code == 200  # the receipt page
    pending = PendingAnonymousConcern.objects.get()
    held = Attachment.objects.get()
    assert (held.pending, held.concern, held.uploaded_by) == (pending, None, None)
    # Nothing is audited while it waits: an event now would sit beside the raiser's session.
    assert not AuditEvent.objects.filter(object_type="concerns.attachment").exists()
    services.release_anonymous_concerns()
    concern = Concern.objects.get()
    held.refresh_from_db()
    assert (held.concern, held.pending, held.uploaded_by) == (concern, None, None)
    event = AuditEvent.objects.get(object_type="concerns.attachment")
    assert (event.action, event.actor_id, event.request_id) == ("create", None, "")
    assert _rows_mentioning(carmen) == before


def test_files_added_later_to_an_anonymous_concern_record_no_one(
    world, carmen, diego, login, enough_clinicians
):
    _raise(world, carmen, "anonymous")
    services.release_anonymous_concerns()
    concern = Concern.objects.get()
    response = login(diego).post(
        reverse("concerns:evidence-upload", args=[concern.pk]),
        {"evidence": [_file("x.png", _png())]},
    )
    assert response.status_code == 302
    added = Attachment.objects.get()
    assert added.uploaded_by is None
    event = AuditEvent.objects.get(object_type="concerns.attachment")
    assert (event.actor_id, event.actor_label, event.request_id) == (None, "", "")


def test_a_confidential_concerns_files_never_name_the_raiser_in_the_audit_trail(
    world, carmen, omar, login
):
    _post_raise(login(carmen), "confidential", [_file("notes.pdf", PDF)])
    concern = Concern.all_objects.get()
    services.release_anonymous_concerns(today=concern.raised_on)  # the daily announcement
    login(omar).get(
        reverse("concerns:evidence-download", args=[concern.pk, Attachment.objects.get().pk])
    )
    events = AuditEvent.objects.filter(object_type="concerns.attachment")
    assert {(e.action, e.actor_id) for e in events} == {("create", None), ("view", omar.pk)}
    for event in events:
        text = f"{event.changes} {event.object_repr} {event.actor_label}"
        assert "carmen" not in text.lower()
        assert set(event.changes) <= {"concern", "content_type", "size", "sha256", "download"}


# --- the concern page ------------------------------------------------------------------------


def _evidence_section(response) -> str:
    page = response.content.decode()
    start = page.index('<section id="evidence"')
    return page[start : page.index("</section>", start)]


def test_the_concern_page_lists_files_with_the_date_and_the_uploader_only_when_named(
    world, carmen, omar, login
):
    named = _raise(world, carmen, "named", today=MONDAY)
    evidence.attachment_add(
        actor=carmen, concern=named, upload=_file("waits.pdf", PDF), today=MONDAY
    )
    page = login(omar).get(named.get_absolute_url()).content.decode()
    assert 'id="evidence"' in page and "waits.pdf" in page
    assert "PDF" in page and "Nov 2, 2026" in page and "by Carmen Reyes" in page
    confidential = _raise(world, carmen, "confidential", title="Pressure to discharge early")
    evidence.attachment_add(actor=carmen, concern=confidential, upload=_file("memo.pdf", PDF))
    services.release_anonymous_concerns()  # the daily batch announces it to the committee
    section = _evidence_section(login(omar).get(confidential.get_absolute_url()))
    assert "memo.pdf" in section and "Carmen" not in section and " by " not in section


def test_seated_people_can_upload_from_the_page_without_javascript(world, carmen, ruth, login):
    concern = _raise(world, carmen)
    client = login(ruth)
    page = client.get(concern.get_absolute_url()).content.decode()
    assert reverse("concerns:evidence-upload", args=[concern.pk]) in page
    url = reverse("concerns:evidence-upload", args=[concern.pk])
    response = client.post(url, {"evidence": [_file("chart.png", _png(text=b"Ruth"))]})
    assert response.status_code == 302 and response["Location"] == concern.get_absolute_url()
    stored = Attachment.objects.get()
    assert b"Ruth" not in stored.file.open("rb").read()  # the picture's text chunk is gone
    bad = client.post(url, {"evidence": [_file("page.pdf", HTML)]})
    assert bad.status_code == 422 and "Web pages" in bad.content.decode()


def test_htmx_uploads_answer_with_the_evidence_section(world, carmen, login):
    concern = _raise(world, carmen)
    url = reverse("concerns:evidence-upload", args=[concern.pk])
    client = login(carmen)
    ok = client.post(url, {"evidence": [_file("a.pdf", PDF)]}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200
    assert ok.content.decode().lstrip().startswith('<section id="evidence"')
    assert "1 file attached." in ok.content.decode()
    bad = client.post(url, {"evidence": [_file("b.pdf", SVG)]}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "SVG" in bad.content.decode()


def test_no_uploads_once_a_concern_is_closed(world, carmen, login):
    concern = _raise(world, carmen)
    Concern.objects.filter(pk=concern.pk).update(status=Status.CLOSED)
    concern.refresh_from_db()
    url = reverse("concerns:evidence-upload", args=[concern.pk])
    assert login(carmen).post(url, {"evidence": [_file("a.pdf", PDF)]}).status_code == 403
    with pytest.raises(ValidationError, match="only while the concern is open"):
        evidence.attachment_add(actor=carmen, concern=concern, upload=_file("a.pdf", PDF))


def test_the_evidence_list_costs_the_same_queries_for_one_file_or_ten(world, carmen, omar):
    concern = _raise(world, carmen)
    evidence.attachment_add(actor=carmen, concern=concern, upload=_file("0.pdf", PDF))
    evidence_panel(omar, concern)  # warm the access profile
    with CaptureQueriesContext(connection) as one:
        assert len(evidence_panel(omar, concern).items) == 1
    for batch in range(2):
        evidence.attachments_add(
            actor=carmen, concern=concern, uploads=[_file(f"{batch}{i}.pdf", PDF) for i in range(5)]
        )
    with CaptureQueriesContext(connection) as eleven:
        assert len(evidence_panel(omar, concern).items) == 11
    assert len(one) == len(eleven)


# --- downloads -------------------------------------------------------------------------------


@pytest.fixture
def filed(world, carmen):
    concern = _raise(world, carmen)
    attachment = evidence.attachment_add(
        actor=carmen, concern=concern, upload=_file('Waits "Q4".csv', CSV, "text/html")
    )
    return concern, attachment


def _download_url(concern, attachment):
    return reverse("concerns:evidence-download", args=[concern.pk, attachment.pk])


def test_downloads_are_for_those_who_see_the_concern(world, filed, maria, client, login):
    concern, attachment = filed
    url = _download_url(concern, attachment)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(
        reverse("account_login")
    )
    assert login(maria).get(url).status_code == 200
    assert login(world.person("clinician_b")).get(url).status_code == 404
    assert login(world.person("no_seat")).get(url).status_code == 404


def test_a_file_is_found_only_under_its_own_concern(world, filed, carmen, login):
    _, attachment = filed
    other = _raise(world, carmen, title="Another concern")
    url = reverse("concerns:evidence-download", args=[other.pk, attachment.pk])
    assert login(carmen).get(url).status_code == 404


def test_downloads_carry_safe_headers(world, filed, carmen, login):
    concern, attachment = filed
    response = login(carmen).get(_download_url(concern, attachment))
    assert b"".join(response.streaming_content) == CSV
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="Waits \\"Q4\\".csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_non_ascii_names_download_under_an_encoded_name(world, carmen, login):
    concern = _raise(world, carmen)
    attachment = evidence.attachment_add(
        actor=carmen, concern=concern, upload=_file("résumé\r\nX-Evil: 1.pdf", PDF)
    )
    response = login(carmen).get(_download_url(concern, attachment))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert "\r" not in disposition and "\n" not in disposition


def test_each_download_is_audited_as_a_sensitive_read(world, filed, maria, login):
    concern, attachment = filed
    login(maria).get(_download_url(concern, attachment))
    event = AuditEvent.objects.get(object_type="concerns.attachment", action="view")
    assert (event.actor_id, event.object_id) == (maria.pk, str(attachment.pk))
    assert event.changes == {"concern": str(concern.pk), "download": True}


# --- removal ---------------------------------------------------------------------------------


def _remove(client, concern, attachment):
    url = reverse("concerns:evidence-remove", args=[concern.pk, attachment.pk])
    return client.post(url)


def test_the_uploader_of_a_named_concern_removes_their_file(world, filed, carmen, login):
    concern, attachment = filed
    response = _remove(login(carmen), concern, attachment)
    assert response.status_code == 302
    assert not Attachment.objects.exists()
    event = AuditEvent.objects.get(object_type="concerns.attachment", action="delete")
    assert event.actor_id == carmen.pk


def test_removal_deletes_the_stored_bytes_after_commit(
    world, filed, carmen, login, django_capture_on_commit_callbacks
):
    concern, attachment = filed
    name, storage = attachment.file.name, attachment.file.storage
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        _remove(login(carmen), concern, attachment)
    assert not storage.exists(name)


def test_other_members_may_not_remove_a_file_but_the_cochairs_may(world, filed, maria, omar, login):
    concern, attachment = filed
    assert _remove(login(maria), concern, attachment).status_code == 403
    assert AuditEvent.objects.filter(action="denied").exists()
    assert _remove(login(world.person("clinician_b")), concern, attachment).status_code == 404
    assert _remove(login(omar), concern, attachment).status_code == 302
    assert not Attachment.objects.exists()


def test_on_a_confidential_concern_only_the_cochairs_remove_and_no_one_is_named(
    world, carmen, diego, login
):
    concern = _raise(world, carmen, "confidential")
    attachment = evidence.attachment_add(actor=carmen, concern=concern, upload=_file("m.pdf", PDF))
    services.release_anonymous_concerns()  # the daily batch announces it to the committee
    assert _remove(login(carmen), concern, attachment).status_code == 403
    assert _remove(login(diego), concern, attachment).status_code == 302
    event = AuditEvent.objects.get(object_type="concerns.attachment", action="delete")
    assert (event.actor_id, event.request_id) == (None, "")


def test_the_page_offers_remove_only_where_allowed(world, filed, carmen, maria, login):
    concern, attachment = filed
    remove_url = reverse("concerns:evidence-remove", args=[concern.pk, attachment.pk])
    assert remove_url in login(carmen).get(concern.get_absolute_url()).content.decode()
    assert remove_url not in login(maria).get(concern.get_absolute_url()).content.decode()


# --- escalation ------------------------------------------------------------------------------


def test_evidence_travels_with_an_escalated_concern(world, carmen, login):
    concern = _raise(world, carmen, today=MONDAY)
    attachment = evidence.attachment_add(
        actor=carmen, concern=concern, upload=_file("waits.pdf", PDF), today=MONDAY
    )
    farah = world.person("regional_cochair_clinician")
    url = _download_url(concern, attachment)
    assert login(farah).get(url).status_code == 404  # not hers before the escalation
    services.escalate_overdue(today=concern.acknowledge_by + dt.timedelta(days=1))
    concern.refresh_from_db()
    assert concern.escalated_to == world.regional
    client = login(farah)
    assert "waits.pdf" in client.get(concern.get_absolute_url()).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    # The receiving committee's co-chairs add evidence and may remove it.
    upload = reverse("concerns:evidence-upload", args=[concern.pk])
    assert client.post(upload, {"evidence": [_file("regional.pdf", PDF)]}).status_code == 302
    assert _remove(client, concern, attachment).status_code == 302
