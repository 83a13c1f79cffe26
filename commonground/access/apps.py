from __future__ import annotations

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "commonground.access"
    label = "access"
    verbose_name = "Common Ground timely access"
