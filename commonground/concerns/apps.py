from __future__ import annotations

from django.apps import AppConfig


class ConcernsConfig(AppConfig):
    name = "commonground.concerns"
    label = "concerns"

    def ready(self) -> None:
        from commonground.concerns.reminders import due_clocks
        from commonground.notifications.services import register_reminder_source

        register_reminder_source(due_clocks)
