from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "commonground.notifications"
    label = "notifications"
    verbose_name = "Common Ground notifications"
