"""Concerns: identity modes that hold in storage, clocks in business days, joint steps that
need both co-chairs, escalation on time, and co-sign counts that never reveal a small group."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.concerns import selectors, services
from commonground.concerns.models import Concern, CoSign, PendingAnonymousConcern, Receipt, Status
from commonground.concerns.phi import find_patient_identifiers
from commonground.notifications.models import Notification
from commonground.organizations.models import Holiday, Membership, Side
from tests.factories import MembershipFactory, UserFactory

FIELDS = {
    "title": "Return visits are booked six weeks out",
    "description": "Most **follow-ups** are offered after 30 business days.",
    "category": "access",
    "patient_impact": "Patients in crisis wait too long between sessions.",
    "proposed_idea": "Protect four return slots per clinician per week.",
    "not_a_grievance": True,
}
MONDAY = dt.date(2026, 11, 2)


def _raise(world, person, mode, **extra):
    return services.concern_raise(
        actor=person, committee=world.ppc_a, identity_mode=mode, **{**FIELDS, **extra}
    )


@pytest.fixture
def enough_clinicians(world):
    """Anonymity needs a unit of at least k clinicians: Oakland gets three more."""
    for index in range(3):
        MembershipFactory(
            person=UserFactory(username=f"oakland-clinician-{index}"),
            committee=world.ppc_a,
            side=Side.CLINICIAN,
        )


def _rows_mentioning(person) -> set[tuple[str, str, str]]:
    """(table, row id, column) of every stored value that points at the person: a foreign key
    to their account, an actor id, or text containing their username, name or email."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    words = {person.username, person.email, person.get_display_name()}
    hits: set[tuple[str, str, str]] = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            name = field.attname
            rows = model._default_manager.values_list("pk", name)
            if (field.is_relation and field.related_model is user_model) or name == "actor_id":
                hits |= {(model._meta.db_table, str(pk), name) for pk, v in rows if v == person.pk}
            elif field.get_internal_type() in {"CharField", "TextField", "JSONField"}:
                hits |= {
                    (model._meta.db_table, str(pk), name)
                    for pk, v in rows
                    if v is not None and any(word in str(v) for word in words)
                }
    return hits


def test_an_anonymous_concern_stores_nothing_that_points_at_its_raiser(
    world, carmen, enough_clinicians
):
    before = _rows_mentioning(carmen)
    token = _raise(world, carmen, "anonymous")
    assert isinstance(token, str) and len(token) >= 24
    pending = PendingAnonymousConcern.objects.get()
    assert pending.receipt_hash != token  # only the hash is kept
    assert services.release_anonymous_concerns() == 1
    concern = Concern.objects.get()
    assert concern.raised_by is None and concern.raiser_side == ""
    assert _rows_mentioning(carmen) == before
    event = AuditEvent.objects.get(object_type="concerns.concern", action="create")
    assert event.actor_id is None and event.actor_label == "" and event.request_id == ""
    # The raiser follows up with the receipt code, and only with it.
    assert services.concern_for_receipt(token) == concern
    assert services.concern_for_receipt("not-the-code") is None
    assert Receipt.objects.get().token_hash != token


def test_anonymous_concerns_wait_for_the_daily_release_and_show_only_a_date(
    world, carmen, enough_clinicians
):
    token = _raise(world, carmen, "anonymous", today=MONDAY)
    assert services.concern_for_receipt(token) == "pending"
    assert not Concern.objects.exists()
    services.release_anonymous_concerns(today=MONDAY)
    services.release_anonymous_concerns(today=MONDAY)  # a second run releases nothing more
    concern = Concern.objects.get()
    assert concern.raised_on == MONDAY
    # No column of a concern holds a time of day.
    time_fields = [
        f.name for f in Concern._meta.concrete_fields if f.get_internal_type() == "DateTimeField"
    ]
    assert time_fields == []


def test_a_small_unit_cannot_raise_anonymously(world, carmen):
    with pytest.raises(ValidationError, match="at least 5 clinicians"):
        _raise(world, carmen, "anonymous")
    assert not PendingAnonymousConcern.objects.exists()


def test_confidential_raisers_are_seen_only_by_themselves_the_clinician_cochair_and_the_rep(
    world, carmen, diego, maria, omar, ruth, ada
):
    concern = _raise(world, carmen, "confidential")
    assert selectors.raiser_label(carmen, concern) == "Carmen Reyes"
    assert selectors.raiser_label(diego, concern) == "Carmen Reyes"
    assert selectors.raiser_label(ruth, concern) == "Carmen Reyes"
    for manager in (maria, omar, ada):
        assert selectors.raiser_label(manager, concern) == "a clinician"
    # Nothing is audited or sent at the moment of raising: that minute sits next to the
    # raiser's sign-in in the trail regional admins read.
    assert not AuditEvent.objects.filter(object_type="concerns.concern").exists()
    assert not Notification.objects.exists()
    services.release_anonymous_concerns()
    event = AuditEvent.objects.get(object_type="concerns.concern", action="create")
    assert event.actor_id is None
    assert event.changes == {"identity_mode": "confidential", "announced": str(concern.raised_on)}
    assert Notification.objects.filter(recipient=omar, kind="concern_raised").exists()


def test_confidential_concerns_are_announced_once_in_the_daily_batch_with_anonymous_ones(
    world, carmen, diego, omar, enough_clinicians
):
    confidential = _raise(world, carmen, "confidential")
    _raise(world, diego, "anonymous")
    assert services.release_anonymous_concerns() == 1
    assert services.release_anonymous_concerns() == 0  # a second run announces nothing more
    confidential.refresh_from_db()
    assert confidential.announced
    creates = AuditEvent.objects.filter(object_type="concerns.concern", action="create")
    assert sorted(e.changes["identity_mode"] for e in creates) == ["anonymous", "confidential"]
    assert all(e.actor_id is None for e in creates)


def test_managers_never_see_a_confidential_raiser_on_any_concern_page(world, carmen, omar, login):
    concern = _raise(world, carmen, "confidential")
    client = login(omar)
    for url in (
        concern.get_absolute_url(),
        reverse("concerns:concern-list", args=["ppc-oakland"]),
    ):
        html = client.get(url).content.decode()
        assert "Carmen" not in html and "carmen.reyes" not in html


def test_patient_identifiers_block_the_concern_until_removed(world, carmen):
    with pytest.raises(ValidationError, match="medical record number"):
        _raise(world, carmen, "named", description="Patient MRN 00123456 waited 8 weeks.")
    assert not Concern.objects.exists()
    assert [f.kind for f in find_patient_identifiers("call 510-555-0199 or a@b.org")] == [
        "phone number",
        "email address",
    ]
    assert find_patient_identifiers("DOB: 03/14/1987") and find_patient_identifiers("123-45-6789")
    assert find_patient_identifiers("Waits rose from 10 to 19 business days in 2026.") == []


def test_a_concern_must_not_be_a_grievance(world, carmen):
    with pytest.raises(ValidationError, match="union steward"):
        _raise(world, carmen, "named", not_a_grievance=False)


def test_clocks_count_the_clinics_business_days_around_holidays(world, carmen):
    # Thanksgiving week 2026: with Nov 26 and 27 closed, 5 business days after Monday Nov 23
    # end on Tuesday Dec 1 (Tue 24, Wed 25, Mon 30, Tue 1 ... and Mon 23 itself never counts).
    calendar = world.clinic_a.calendar
    Holiday.objects.create(calendar=calendar, date=dt.date(2026, 11, 26), name="Thanksgiving Day")
    Holiday.objects.create(calendar=calendar, date=dt.date(2026, 11, 27), name="Day after")
    concern = _raise(world, carmen, "named", today=dt.date(2026, 11, 23))
    assert concern.acknowledge_by == dt.date(2026, 12, 2)
    assert concern.respond_by == dt.date(2026, 12, 23)


def test_acknowledgement_and_the_joint_response_need_both_cochairs(world, carmen, diego, omar):
    concern = _raise(world, carmen, "named")
    services.concern_acknowledge(actor=diego, concern=concern)
    concern.refresh_from_db()
    assert concern.status == Status.RAISED  # one side is not a joint acknowledgement
    services.concern_acknowledge(actor=omar, concern=concern)
    concern.refresh_from_db()
    assert concern.status == Status.ACKNOWLEDGED
    with pytest.raises(ValidationError, match="each side gives its reasons"):
        services.response_draft(actor=diego, concern=concern, agreed=False, text="No")
    response = services.response_draft(
        actor=diego, concern=concern, agreed=True, text="Protect four return slots."
    )
    services.response_sign(actor=diego, concern=concern)
    # Omar edits: Diego's signature was for version 1 and no longer counts.
    services.response_draft(
        actor=omar,
        concern=concern,
        agreed=True,
        text="Protect three return slots.",
        version=response.version,
    )
    services.response_sign(actor=omar, concern=concern)
    concern.refresh_from_db()
    assert concern.status == Status.ACKNOWLEDGED
    services.response_sign(actor=diego, concern=concern)
    concern.refresh_from_db()
    assert concern.status == Status.JOINT_RESPONSE


def test_a_stale_response_edit_is_refused_not_overwritten(world, carmen, diego, omar):
    concern = _raise(world, carmen, "named")
    services.concern_acknowledge(actor=diego, concern=concern)
    services.concern_acknowledge(actor=omar, concern=concern)
    services.response_draft(actor=diego, concern=concern, agreed=True, text="First")
    services.response_draft(actor=omar, concern=concern, agreed=True, text="Second", version=1)
    with pytest.raises(ValidationError, match="changed the response"):
        services.response_draft(actor=diego, concern=concern, agreed=True, text="Stale", version=1)
    assert concern.response.text == "Second"


def test_lapsed_clocks_escalate_to_the_regional_committee_on_time(world, carmen):
    concern = _raise(world, carmen, "named", today=MONDAY)
    assert services.escalate_overdue(today=concern.acknowledge_by) == 0  # due today: not late
    assert services.escalate_overdue(today=concern.acknowledge_by + dt.timedelta(days=1)) == 1
    concern.refresh_from_db()
    assert (concern.status, concern.escalated_to) == (Status.ESCALATED, world.regional)
    assert services.escalate_overdue(today=concern.respond_by + dt.timedelta(days=1)) == 0


def test_cosign_counts_by_side_only_when_every_side_has_at_least_k(world, carmen, maria):
    concern = _raise(world, carmen, "named")
    for index in range(6):
        person = UserFactory(username=f"cosigner-{index}")
        MembershipFactory(person=person, committee=world.ppc_a, side=Side.CLINICIAN)
        services.concern_cosign(actor=person, concern=concern)
    counts = selectors.cosign_counts(concern)
    assert (counts.total, counts.by_side) == (6, {"clinician": 6})
    services.concern_cosign(actor=maria, concern=concern)  # one manager: too few to show
    counts = selectors.cosign_counts(concern)
    assert (counts.total, counts.by_side) == (7, None)
    with pytest.raises(ValidationError, match="already co-signed"):
        services.concern_cosign(actor=maria, concern=concern)
    assert CoSign.objects.filter(concern=concern).count() == 7


def test_agenda_suggestions_name_lapsed_and_due_clocks(world, carmen):
    concern = _raise(world, carmen, "named", today=MONDAY)
    due = selectors.concerns_needing_attention(world.ppc_a, concern.acknowledge_by)
    assert [(a.concern, a.reason) for a in due] == [(concern, "acknowledgement due Nov 9")]
    late = selectors.concerns_needing_attention(
        world.ppc_a, concern.acknowledge_by + dt.timedelta(days=1)
    )
    assert late[0].reason.startswith("not acknowledged")


def test_receipt_lookup_is_rate_limited(world, client):
    url = reverse("concerns:receipt-lookup")
    for _ in range(20):
        assert client.post(url, {"token": "wrong"}).status_code == 200
    assert client.post(url, {"token": "wrong"}).status_code == 429


def test_the_raise_form_refuses_patient_details_and_keeps_the_text(world, carmen, login):
    response = login(carmen).post(
        reverse("concerns:concern-raise", args=["ppc-oakland"]),
        {
            **FIELDS,
            "identity_mode": "named",
            "not_a_grievance": "on",
            "description": "Call the patient at 510-555-0199",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "patient information" in html and "510-555-0199" in html
    assert not Concern.objects.exists()


def test_markdown_is_rendered_and_sanitised(world, carmen, login):
    concern = _raise(
        world,
        carmen,
        "named",
        description="**bold** <script>alert(1)</script> [x](javascript:alert(1))",
    )
    html = login(carmen).get(concern.get_absolute_url()).content.decode()
    assert "<strong>bold</strong>" in html
    assert "&lt;script&gt;alert(1)" in html and "<script>alert(1)" not in html
    assert 'href="javascript:' not in html


def test_memberships_unchanged_by_raising(world, carmen):
    count = Membership.objects.count()
    _raise(world, carmen, "named")
    assert Membership.objects.count() == count


def test_cochairs_are_told_of_new_concerns_and_of_clocks_without_the_raiser(
    world, carmen, diego, omar, enough_clinicians, django_capture_on_commit_callbacks
):
    from django.core import mail

    from commonground.notifications.models import Notification
    from commonground.notifications.services import remind_due
    from commonground.notifications.testing import assert_no_identity, identities_of

    with django_capture_on_commit_callbacks(execute=True):
        concern = _raise(world, carmen, "confidential", today=MONDAY)
        _raise(world, carmen, "anonymous", today=MONDAY, title="Afraid to speak up")
        services.release_anonymous_concerns(today=MONDAY)
    told = Notification.objects.filter(kind="concern_raised")
    assert {n.recipient for n in told} == {diego, omar}
    assert told.count() == 4  # two concerns, two co-chairs
    lapsed = dt.datetime.combine(concern.acknowledge_by + dt.timedelta(days=1), dt.time(8))
    with django_capture_on_commit_callbacks(execute=True):
        first = remind_due(now=lapsed.replace(tzinfo=dt.UTC))
        again = remind_due(now=lapsed.replace(tzinfo=dt.UTC))
    assert first.reminders >= 2 and again.reminders == first.reminders
    assert (
        Notification.objects.filter(kind="clock_lapsed").count() == 4
    )  # once per concern, co-chair
    for note in Notification.objects.all():
        assert_no_identity(f"{note.subject}\n{note.body}\n{note.link}", identities_of(carmen))
    for message in mail.outbox:
        assert_no_identity(f"{message.subject}\n{message.body}", identities_of(carmen))


def test_the_concern_list_pages_filters_and_keeps_its_query_count_flat(world, carmen, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _raise(world, carmen, "named")
    client = login(carmen)
    url = reverse("concerns:concern-list", args=["ppc-oakland"])
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    Concern.objects.bulk_create(
        Concern(
            committee=world.ppc_a,
            title=f"Waits at desk {index}",
            description="Long waits.",
            category="access" if index % 2 else "caseload",
            patient_impact="Patients wait.",
            identity_mode="named",
            raised_by=carmen,
            raiser_side="clinician",
            raised_on=MONDAY - dt.timedelta(days=index),
            acknowledge_by=MONDAY,
            respond_by=MONDAY,
            not_a_grievance=True,
        )
        for index in range(120)
    )
    with CaptureQueriesContext(connection) as large:
        page = client.get(url)
    assert len(large.captured_queries) == len(small.captured_queries)
    html = page.content.decode()
    assert "121 concerns, page 1 of 3" in html and "overdue" in html
    page = client.get(url, {"category": "caseload", "page": "2"})
    assert "60 concerns, page 2 of 2" in page.content.decode()
    # A regional committee lists what was escalated to it, with each concern's clinic.
    Concern.objects.filter(title="Waits at desk 3").update(
        escalated_to=world.regional, status=Status.ESCALATED
    )
    ada = world.person("regional_admin")
    html = login(ada).get(reverse("concerns:concern-list", args=[world.regional.slug])).content
    assert b"Waits at desk 3" in html and world.clinic_a.name.encode() in html
