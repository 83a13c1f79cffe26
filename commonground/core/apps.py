from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "commonground.core"
    label = "core"
    verbose_name = "Common Ground core"
