"""Notifications: in-app and by email, with per-person frequency, digests and reminders.

Public API for other apps (everything else in this package is internal):

``commonground.notifications.services.notify(*, recipients, kind, subject, body, link="",
dedup_key, clinic_id=None) -> None``
    Records one in-app ``Notification`` per recipient inside the caller's transaction and,
    after commit, queues the email for each (``tasks.deliver_notification``, whose only
    argument is the notification's id). Rows are unique on (recipient, dedup_key): calling
    twice with the same key creates nothing new and sends nothing new, so a caller that is
    itself retried is safe. ``kind`` is one of ``models.Kind`` (concern_raised,
    concern_status, clock_due, clock_lapsed, action_due, meeting_scheduled,
    minutes_to_approve, mention, digest). ``link`` is a path inside Common Ground
    ("/concerns/…"); anything else is refused. Inactive recipients are skipped.

``commonground.notifications.services.register_reminder_source(source)``
    ``source(now)`` returns an iterable of ``Reminder`` (or plain tuples
    ``(recipients, kind, subject, body, link, dedup_key[, clinic_id])``) for things due at
    ``now``. ``remind_due(now=...)`` (task ``remind_due_task``, command
    ``commonground send_reminders``) passes each to ``notify``. Put the date in the dedup key
    ("action:42:due:2026-05-04") so a second run the same day sends nothing new. Register in
    your ``AppConfig.ready()``.

Anonymity (reliability-security 3.6): ``notify`` has no actor parameter, and nothing it
writes, queues or sends carries anything but what the caller passed (subject, body, link,
kind, dedup key) plus fixed wording. So a notification about an anonymous concern carries
no raiser unless the caller puts one in; never do. The moment a notification arrives is
itself visible, so notify about anonymous concerns when they are released to the committee
(the daily batch), not when they are submitted. Pages show dates only, no times.
``commonground.notifications.testing.assert_no_identity`` checks any output for a person's
identifiers.

Email frequency per person (``NotificationPreference``): immediate (the default), daily
digest, weekly digest or off. In-app notifications are always on. Every email is claimed by
an ``EmailDelivery`` row, unique per (recipient, dedup key), inserted in the same
transaction that sends it: a task run twice, or re-queued by the reaper, sends once; a
failed send rolls the claim back so a later run sends it. (A crash after the mail server
accepted a message but before the commit sends it again on retry: email is at least once
at that one point, never silently lost.)

Commands: ``send_digests daily|weekly`` (once a day / once a week), ``send_reminders``
(once a day or more), ``send_pending_emails`` (every few minutes: re-queues immediate
emails whose task failed or was never queued).
"""
