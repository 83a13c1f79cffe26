"""notify() records in-app rows once per dedup key and queues email only after commit."""

from __future__ import annotations

import inspect

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tasks.signals import task_enqueued

from commonground.notifications import services
from commonground.notifications.models import Kind, Notification


def _notify(recipients, key="concern:1:raised", **extra):
    fields = {
        "kind": Kind.CONCERN_RAISED,
        "subject": "A concern was raised",
        "body": "Body",
        "link": "/concerns/1/",
        **extra,
    }
    services.notify(recipients=recipients, dedup_key=key, **fields)


def test_it_records_one_row_per_recipient_and_nothing_new_the_second_time(
    maria, omar, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([maria, omar, maria])
    with django_capture_on_commit_callbacks(execute=True) as second:
        _notify([maria, omar])
    assert Notification.objects.count() == 2
    assert second == []  # nothing new, nothing queued
    assert sorted(m.to[0] for m in mail.outbox) == sorted([maria.email, omar.email])


def test_a_new_recipient_for_the_same_key_gets_only_their_own(
    maria, omar, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([maria])
    with django_capture_on_commit_callbacks(execute=True):
        _notify([maria, omar])
    assert Notification.objects.count() == 2
    assert [m.to for m in mail.outbox] == [[maria.email], [omar.email]]


def test_inactive_people_are_not_notified(maria, omar, django_capture_on_commit_callbacks):
    omar.is_active = False
    omar.save()
    with django_capture_on_commit_callbacks(execute=True):
        _notify([maria, omar])
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [maria.pk]


def test_email_is_queued_only_after_commit_with_the_id_as_the_only_argument(
    maria, django_capture_on_commit_callbacks
):
    queued = []

    def _record(sender, task_result, **kwargs):
        queued.append((task_result.task.name, task_result.args, task_result.kwargs))

    task_enqueued.connect(_record)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            _notify([maria])
        assert len(callbacks) == 1
        assert queued == []
        assert mail.outbox == []
        callbacks[0]()
    finally:
        task_enqueued.disconnect(_record)
    notification = Notification.objects.get()
    assert queued == [("deliver_notification", [notification.pk], {})]
    assert len(mail.outbox) == 1


def test_a_rolled_back_caller_leaves_no_notification_and_sends_nothing(
    maria, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _notify([maria])
        raise RuntimeError("the caller's write failed")
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"kind": "gossip"}, "Unknown notification kind"),
        ({"subject": "   "}, "subject"),
        ({"link": "https://evil.example/"}, "path inside Common Ground"),
        ({"link": "//evil.example/"}, "path inside Common Ground"),
        ({"link": "javascript:alert(1)"}, "path inside Common Ground"),
    ],
)
def test_it_refuses_bad_input(maria, extra, message):
    with pytest.raises(ValidationError, match=message):
        _notify([maria], **extra)


def test_a_subject_is_kept_on_one_line(maria, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([maria], subject="Two\nlines\r\n  here")
    assert Notification.objects.get().subject == "Two lines here"
    assert mail.outbox[0].subject == "Two lines here"


def test_the_api_takes_no_actor():
    parameters = set(inspect.signature(services.notify).parameters)
    assert parameters == {
        "recipients",
        "kind",
        "subject",
        "body",
        "link",
        "dedup_key",
        "clinic_id",
    }
