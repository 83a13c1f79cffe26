from __future__ import annotations

from django.contrib import admin

from commonground.organizations.models import (
    BusinessCalendar,
    Clinic,
    Committee,
    Holiday,
    Membership,
    Region,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    inlines = [HolidayInline]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "region", "time_zone")
    list_filter = ("region",)
    search_fields = ("name", "city")


@admin.register(Committee)
class CommitteeAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "clinic", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Read-only here: seats change through the committee page, which keeps the rules."""

    list_display = ("person", "committee", "side", "role", "start_date", "end_date")
    list_filter = ("side", "role")
    search_fields = ("person__username", "person__last_name", "committee__name")
    list_select_related = ("person", "committee")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
