from __future__ import annotations

from django.urls import path

from commonground.access import views

app_name = "access"

urlpatterns = [
    path("imports/", views.import_list, name="import-list"),
    path("imports/<uuid:job_id>/", views.import_detail, name="import-detail"),
    path("imports/<uuid:job_id>/errors.csv", views.import_errors, name="import-errors"),
]
