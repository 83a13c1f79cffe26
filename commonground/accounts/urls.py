from __future__ import annotations

from django.urls import path

from commonground.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile, name="profile"),
]
