"""The audit trail: append-only, hash-chained, verifiable, browsable by regional admins."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from commonground.audit.models import AppendOnlyError, AuditEvent
from commonground.audit.selectors import audit_chain_verify
from commonground.audit.services import GENESIS_HASH, audit_record


def _three_events(actor=None):
    return [
        audit_record(action="create", actor=actor, object_type="demo.thing", object_id=str(n))
        for n in range(3)
    ]


def _raw_update(sql, params):
    """What a person with database access could do: bypass the app entirely."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def test_events_chain_each_to_the_one_before(db):
    first, second, third = _three_events()
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert audit_chain_verify().ok


def test_the_app_cannot_change_or_delete_an_event(db):
    event, *_ = _three_events()
    event.object_repr = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(object_repr="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger is PostgreSQL's")
def test_postgresql_refuses_updates_and_deletes_of_events(db):
    event, *_ = _three_events()
    for sql in (
        "UPDATE audit_auditevent SET object_repr = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])


def test_verify_finds_a_hand_edited_event_at_its_row(db):
    events = _three_events()
    call_command("audit", "verify")  # intact
    _raw_update(
        "UPDATE audit_auditevent SET object_id = %s WHERE id = %s", ["tampered", events[1].pk]
    )
    report = audit_chain_verify()
    assert report.first_bad_id == events[1].pk
    assert "do not match" in report.reason
    with pytest.raises(CommandError, match=f"event {events[1].pk}"):
        call_command("audit", "verify")


def test_verify_finds_a_removed_event(db):
    events = _three_events()
    _raw_update("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    report = audit_chain_verify()
    assert report.first_bad_id == events[2].pk
    assert "link" in report.reason


def test_verify_finds_a_rehashed_event_by_its_broken_link(db):
    events = _three_events()
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.object_id = "forged"
    new_hash = forged.compute_hash()
    _raw_update(
        "UPDATE audit_auditevent SET object_id = %s, hash = %s WHERE id = %s",
        ["forged", new_hash, events[1].pk],
    )
    assert audit_chain_verify().first_bad_id == events[2].pk


def test_requests_stamp_their_id_on_events(world, omar, login):
    client = login(omar)
    response = client.post(
        reverse("organizations:committee-edit", args=["ppc-oakland"]),
        {"name": "Oakland PPC", "purpose": "A new purpose."},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(object_type="organizations.committee").latest("id")
    assert event.request_id == response["X-Request-ID"]
    assert event.actor_label == "omar.haddad"
    assert event.changes == {
        "purpose": ["Raise concerns and improve care together.", "A new purpose."]
    }


def test_regional_admins_browse_and_filter_the_trail(world, ada, omar, login):
    audit_record(action="export", actor=omar, object_type="organizations.committee")
    audit_record(action="create", actor=omar, object_type="organizations.membership")
    client = login(ada)
    response = client.get(reverse("audit:event-list"), {"action": "export"})
    assert response.status_code == 200
    page = response.context["page"]
    assert {event.action for event in page} == {"export"}
    # Reading the trail is itself recorded.
    assert AuditEvent.objects.filter(action="view", actor_id=ada.pk).exists()


def test_htmx_filtering_returns_only_the_results(world, ada, login):
    response = login(ada).get(
        reverse("audit:event-list"), {"action": "login"}, headers={"HX-Request": "true"}
    )
    assert response.content.decode().lstrip().startswith('<section id="results"')


def test_audit_page_queries_do_not_grow_with_events(world, ada, login):
    from django.test.utils import CaptureQueriesContext

    client = login(ada)
    client.get(reverse("audit:event-list"))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("audit:event-list")).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for n in range(60):
        audit_record(action="create", object_type="demo.thing", object_id=str(n))
    assert count() == small
