from __future__ import annotations

from django.apps import AppConfig


class ConcernsConfig(AppConfig):
    name = "commonground.concerns"
    label = "concerns"
