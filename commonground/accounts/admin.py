from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from commonground.accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Common Ground", {"fields": ("display_name", "job_title")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")
