from __future__ import annotations

from django.apps import AppConfig


class SummitConfig(AppConfig):
    name = "commonground.summit"
    verbose_name = "Regional summit"
