"""A4: notifying about an anonymous concern carries nothing of the raiser, on any channel.

notify() has no actor; here the raiser (Carmen) is the signed-in person whose action causes
the notification, and every channel is searched for her identifiers: the rows, the queued
task's arguments, the emails (immediate and digest), the recipients' pages and the audit
trail.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django_tasks.signals import task_enqueued

from commonground.audit.models import AuditEvent
from commonground.notifications import services
from commonground.notifications.models import EmailDelivery, Frequency, Kind, Notification
from commonground.notifications.testing import assert_no_identity, identities_of


def _channels(*, queued: list[str], extra: list[str]) -> str:
    rows = [
        " ".join(str(value) for value in row)
        for model in (Notification, EmailDelivery, AuditEvent)
        for row in model.objects.values_list()
    ]
    emails = [
        f"{m.subject}\n{m.body}\n{m.to}\n{m.cc}\n{m.bcc}\n{m.from_email}\n{m.extra_headers}"
        for m in mail.outbox
    ]
    return "\n".join([*rows, *emails, *queued, *extra])


def test_a_raised_anonymous_concern_reaches_managers_without_the_raiser(
    world, carmen, maria, omar, login, prefer, django_capture_on_commit_callbacks
):
    raiser = carmen
    prefer(omar, Frequency.DAILY)
    queued: list[tuple[list, dict]] = []

    def _record(sender, task_result, **kwargs):
        queued.append((list(task_result.args), dict(task_result.kwargs)))

    task_enqueued.connect(_record)
    try:
        # What the concerns app does when it releases the day's anonymous concerns.
        with django_capture_on_commit_callbacks(execute=True):
            services.notify(
                recipients=[maria, omar],
                kind=Kind.CONCERN_RAISED,
                subject="New anonymous concern at Oakland",
                body="Category: scheduling. Read it in Common Ground.",
                link="/concerns/5f0c/",
                dedup_key="concern:5f0c:raised",
                clinic_id=world.clinic_a.pk,
            )
        services.digests_send(
            frequency=Frequency.DAILY, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        )
    finally:
        task_enqueued.disconnect(_record)

    assert len(mail.outbox) == 2  # Maria at once, Omar in his digest
    pages = [
        login(person).get(reverse("notifications:list")).content.decode()
        for person in (maria, omar)
    ]
    assert all("New anonymous concern at Oakland" in page for page in pages)
    assert_no_identity(
        _channels(queued=[repr(q) for q in queued], extra=pages), identities_of(raiser)
    )
    # Emails go to the recipients only; the task's only argument is a notification id.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([maria.email, omar.email])
    ids = set(Notification.objects.values_list("pk", flat=True))
    assert queued
    assert all(kwargs == {} and len(args) == 1 and args[0] in ids for args, kwargs in queued)


def test_an_email_holds_only_what_the_caller_passed_and_fixed_wording(
    maria, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipients=[maria],
            kind=Kind.CONCERN_STATUS,
            subject="SUBJECT-CANARY",
            body="BODY-CANARY",
            link="/concerns/LINK-CANARY/",
            dedup_key="KEY-CANARY",
        )
    [message] = mail.outbox
    assert message.subject == "SUBJECT-CANARY"
    text = message.body
    for passed in ("BODY-CANARY", "/concerns/LINK-CANARY/"):
        text = text.replace(passed, "")
    fixed = services._single_body(Notification(body="", link="")).strip()
    leftover = " ".join(text.split())
    assert leftover.replace("Open it in Common Ground:", "").strip() == " ".join(fixed.split())


def test_the_guard_finds_a_leak(carmen):
    with pytest.raises(AssertionError, match="carries identity"):
        assert_no_identity("Raised by Carmen Reyes", identities_of(carmen))
    with pytest.raises(AssertionError):
        assert_no_identity(f"contact {carmen.email.upper()}", identities_of(carmen))
    assert_no_identity("Raised anonymously", identities_of(carmen))
