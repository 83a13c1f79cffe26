from __future__ import annotations

from typing import Any

from django.contrib import admin

from commonground.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Browse only: the trail is append-only everywhere, the admin included."""

    list_display = ("occurred_at", "action", "actor_label", "object_type", "object_repr")
    list_filter = ("action",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
