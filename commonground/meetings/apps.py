from __future__ import annotations

from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "commonground.meetings"
    label = "meetings"
    verbose_name = "Common Ground meetings, decisions and actions"

    def ready(self) -> None:
        from commonground.meetings.reminders import due_actions
        from commonground.notifications.services import register_reminder_source

        register_reminder_source(due_actions)
