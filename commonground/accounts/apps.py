from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "commonground.accounts"
    label = "accounts"

    def ready(self) -> None:
        from commonground.accounts import signals  # noqa: F401  (connects audit receivers)
