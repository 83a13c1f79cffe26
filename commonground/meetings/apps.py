from __future__ import annotations

from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "commonground.meetings"
    label = "meetings"
    verbose_name = "Common Ground meetings, decisions and actions"
