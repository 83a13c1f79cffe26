from __future__ import annotations

from django.urls import path

from commonground.improvement import views

app_name = "improvement"

urlpatterns = [
    # /committees/<slug>/...
    path(
        "committees/<slug:slug>/improvement/", views.committee_projects, name="committee-projects"
    ),
    path("committees/<slug:slug>/improvement/new/", views.project_create, name="project-create"),
    path("committees/<slug:slug>/improvement/rules/", views.chart_settings, name="chart-settings"),
    path("committees/<slug:slug>/accountability/", views.committee_ledger, name="committee-ledger"),
    path(
        "committees/<slug:slug>/accountability/new/",
        views.recommendation_create,
        name="recommendation-create",
    ),
    # /improvement/projects/<uuid>/
    path("improvement/projects/<uuid:project_id>/", views.project_detail, name="project-detail"),
    path("improvement/projects/<uuid:project_id>/edit/", views.project_edit, name="project-edit"),
    path(
        "improvement/projects/<uuid:project_id>/links/", views.project_links, name="project-links"
    ),
    path(
        "improvement/projects/<uuid:project_id>/team/",
        views.team_member_add,
        name="team-member-add",
    ),
    path(
        "improvement/projects/<uuid:project_id>/team/<int:member_id>/remove/",
        views.team_member_remove,
        name="team-member-remove",
    ),
    path(
        "improvement/projects/<uuid:project_id>/measures/new/",
        views.measure_create,
        name="measure-create",
    ),
    path("improvement/projects/<uuid:project_id>/cycles/", views.pdsa_create, name="pdsa-create"),
    # /improvement/measures/<uuid>/, /improvement/cycles/<uuid>/
    path("improvement/measures/<uuid:measure_id>/", views.measure_detail, name="measure-detail"),
    path(
        "improvement/measures/<uuid:measure_id>/points/",
        views.measure_point_add,
        name="measure-point-add",
    ),
    path(
        "improvement/measures/<uuid:measure_id>/upload/",
        views.measure_upload,
        name="measure-upload",
    ),
    path("improvement/cycles/<uuid:cycle_id>/", views.pdsa_record, name="pdsa-record"),
    # ledger
    path(
        "improvement/recommendations/<uuid:rec_id>/commitments/new/",
        views.commitment_create,
        name="commitment-create",
    ),
    path(
        "improvement/commitments/<uuid:commitment_id>/",
        views.commitment_edit,
        name="commitment-edit",
    ),
    path("improvement/accountability/", views.region_ledger, name="region-ledger"),
    path("improvement/signals/<uuid:signal_id>/", views.signal_detail, name="signal-detail"),
    path("improvement/signals/<uuid:signal_id>/decide/", views.signal_decide, name="signal-decide"),
]
