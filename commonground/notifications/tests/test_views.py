"""The notifications pages: each person sees and changes only their own."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.notifications import services
from commonground.notifications.context_processors import unread_notifications
from commonground.notifications.models import Frequency, Kind, Notification

LIST = reverse("notifications:list")
PREFS = reverse("notifications:preferences")


def _give(person, count=1, prefix="n"):
    for i in range(count):
        services.notify(
            recipients=[person],
            kind=Kind.MINUTES_TO_APPROVE,
            subject=f"Minutes {prefix}{i} to approve",
            body="Please read them before Thursday.",
            link=f"/meetings/{i}/minutes/",
            dedup_key=f"{prefix}:{i}",
        )
    return list(Notification.objects.filter(recipient=person).order_by("-created_at", "-id"))


def _read_url(notification):
    return reverse("notifications:read", args=[notification.public_id])


# --- list ------------------------------------------------------------------------------------


def test_the_list_shows_my_notifications_newest_first_with_unread_marked(login, carmen, maria):
    mine = _give(carmen, 3)
    _give(maria, 1, prefix="secret")
    services.notification_mark_read(notification=mine[-1])
    response = login(carmen).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Minutes n2") < html.index("Minutes n1") < html.index("Minutes n0")
    assert "secret" not in html
    assert html.count('<span class="badge">Unread</span>') == 2
    assert "2 unread." in html
    assert 'href="/meetings/2/minutes/"' in html


def test_the_list_shows_dates_not_times(login, carmen):
    [notification] = _give(carmen)
    html = login(carmen).get(LIST).content.decode()
    # The page shows the day in the site's time zone, not UTC's: from 4 or 5 pm until
    # midnight in California they are different days.
    shown_day = timezone.localtime(notification.created_at)
    assert f'datetime="{shown_day:%Y-%m-%d}"' in html
    assert ":" not in html.split("<time", 1)[1].split("</time>", 1)[0].split(">", 1)[1]


def test_the_list_needs_a_sign_in(db, client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_list_costs_the_same_queries_for_3_or_30(login, carmen, maria):
    client = login(carmen)
    _give(carmen, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    _give(carmen, 27, prefix="more")
    with CaptureQueriesContext(connection) as many:
        assert client.get(LIST).status_code == 200
    assert len(few) == len(many)


def test_the_list_is_paginated(login, carmen):
    _give(carmen, 30)
    client = login(carmen)
    first = client.get(LIST).content.decode()
    assert "page 1 of 2, 30 in all" in first
    assert "Minutes n4 " not in first
    second = client.get(LIST, {"page": 2}).content.decode()
    assert "Minutes n4 " in second
    assert "Newer" in second


# --- mark read -------------------------------------------------------------------------------


def test_marking_my_notification_read(login, carmen):
    [notification] = _give(carmen)
    response = login(carmen).post(_read_url(notification))
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_marking_read_with_htmx_returns_the_updated_item(login, carmen):
    [notification] = _give(carmen)
    response = login(carmen).post(_read_url(notification), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<li id="notification-{notification.public_id}"')
    assert "Unread" not in html
    assert "Marked as read." in html
    assert "<html" not in html


def test_marking_read_twice_keeps_the_first_time(login, carmen):
    [notification] = _give(carmen)
    client = login(carmen)
    client.post(_read_url(notification))
    notification.refresh_from_db()
    first = notification.read_at
    client.post(_read_url(notification))
    notification.refresh_from_db()
    assert notification.read_at == first


def test_another_persons_notification_answers_404_and_is_audited(login, carmen, maria):
    [theirs] = _give(maria)
    response = login(carmen).post(_read_url(theirs))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    denied = AuditEvent.objects.get(action=AuditEvent.Action.DENIED)
    assert denied.actor_id == carmen.pk
    assert "Minutes" not in denied.object_repr


def test_a_missing_notification_answers_the_same_404(login, carmen, maria):
    [theirs] = _give(maria)
    client = login(carmen)
    forbidden = client.post(_read_url(theirs))
    missing = client.post(reverse("notifications:read", args=[uuid.uuid4()]))
    assert forbidden.status_code == missing.status_code == 404
    assert [t.name for t in forbidden.templates] == [t.name for t in missing.templates]


def test_marking_read_needs_post(login, carmen):
    [notification] = _give(carmen)
    assert login(carmen).get(_read_url(notification)).status_code == 405


def test_mark_all_read_touches_only_mine(login, carmen, maria):
    _give(carmen, 3)
    _give(maria, 2)
    response = login(carmen).post(reverse("notifications:read-all"), follow=True)
    assert "Marked 3 notifications read." in response.content.decode()
    assert not Notification.objects.filter(recipient=carmen, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=maria, read_at__isnull=True).count() == 2


# --- preferences -----------------------------------------------------------------------------


def test_preferences_show_the_default_and_save_with_an_audit_event(login, carmen):
    client = login(carmen)
    html = client.get(PREFS).content.decode()
    assert 'value="immediate" id="id_email_frequency_0" required checked' in html
    assert "<legend>" in html
    response = client.post(PREFS, {"email_frequency": Frequency.WEEKLY})
    assert response.status_code == 302
    assert carmen.notification_preference.email_frequency == Frequency.WEEKLY
    event = AuditEvent.objects.get(object_type="notifications.notificationpreference")
    assert event.actor_id == carmen.pk
    assert event.changes == {"email_frequency": [None, "weekly"]}
    client.post(PREFS, {"email_frequency": Frequency.OFF})
    client.post(PREFS, {"email_frequency": Frequency.OFF})  # no change: no event
    changes = list(
        AuditEvent.objects.filter(object_type="notifications.notificationpreference")
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert changes[1:] == [{"email_frequency": ["weekly", "off"]}]


def test_an_invalid_choice_re_renders_the_form(login, carmen):
    response = login(carmen).post(PREFS, {"email_frequency": "hourly"})
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not AuditEvent.objects.filter(object_type__startswith="notifications").exists()


def test_preferences_need_a_sign_in(db, client):
    assert client.post(PREFS, {"email_frequency": "off"}).status_code == 302
    assert not AuditEvent.objects.filter(object_type__startswith="notifications").exists()


# --- unread count ----------------------------------------------------------------------------


def test_the_unread_count_is_zero_without_a_query_for_signed_out_people(
    db, rf: RequestFactory, django_assert_num_queries
):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert unread_notifications(request) == {"unread_notifications": 0}


def test_the_unread_count_is_one_lazy_query(rf, carmen, maria, django_assert_num_queries):
    _give(carmen, 4)
    _give(maria, 2)
    request = rf.get("/")
    request.user = carmen
    with django_assert_num_queries(0):
        context = unread_notifications(request)
    with django_assert_num_queries(1):
        rendered = Template(
            "{% if unread_notifications %}{{ unread_notifications }} unread{% endif %}"
        ).render(Context(context))
    assert rendered == "4 unread"


@pytest.mark.parametrize("key", ["nav_link", "profile_section"])
def test_the_integration_snippets_render(key, carmen):
    from django.template.loader import render_to_string

    _give(carmen, 2)
    request = RequestFactory().get("/")
    request.user = carmen
    html = render_to_string(f"notifications/includes/{key}.html", request=request)
    assert reverse("notifications:list") in html
