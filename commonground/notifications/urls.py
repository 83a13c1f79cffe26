from __future__ import annotations

from django.urls import path

from commonground.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read-all/", views.notifications_read_all, name="read-all"),
    path("preferences/", views.preferences, name="preferences"),
    path("<uuid:notification_id>/read/", views.notification_read, name="read"),
]
