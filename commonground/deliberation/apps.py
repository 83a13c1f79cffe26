from __future__ import annotations

from django.apps import AppConfig


class DeliberationConfig(AppConfig):
    name = "commonground.deliberation"
    label = "deliberation"
    verbose_name = "Common Ground deliberation"
