from __future__ import annotations

from django.apps import AppConfig


class ImprovementConfig(AppConfig):
    name = "commonground.improvement"
    label = "improvement"
    verbose_name = "Common Ground quality improvement"
