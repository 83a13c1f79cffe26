from __future__ import annotations

from django.urls import path

from commonground.access import dashboard_views, views

app_name = "access"

urlpatterns = [
    path("imports/", views.import_list, name="import-list"),
    path("extract-format/", views.extract_format, name="extract-format"),
    path("extract-format/template.csv", views.extract_template, name="extract-template"),
    path("imports/counts/", dashboard_views.counts_upload, name="counts-upload"),
    path(
        "imports/counts/<int:run_id>/errors.csv",
        dashboard_views.counts_errors,
        name="counts-errors",
    ),
    path("imports/<uuid:job_id>/", views.import_detail, name="import-detail"),
    path("imports/<uuid:job_id>/errors.csv", views.import_errors, name="import-errors"),
    path("clinics/<slug:slug>/", dashboard_views.clinic_dashboard, name="clinic-dashboard"),
    path(
        "clinics/<slug:slug>/tables/<str:key>.csv",
        dashboard_views.clinic_table_csv,
        name="clinic-table-csv",
    ),
    path("clinics/<slug:slug>/evidence/", dashboard_views.clinic_evidence, name="clinic-evidence"),
    path("region/", dashboard_views.region_dashboard, name="region-dashboard"),
    path("region/tables/<str:key>.csv", dashboard_views.region_table_csv, name="region-table-csv"),
    path("region/evidence/", dashboard_views.region_evidence, name="region-evidence"),
    path("region/settings/", views.region_settings, name="region-settings"),
    path("region/settings/closures/", views.region_closures, name="region-closures"),
]
