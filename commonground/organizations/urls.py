from __future__ import annotations

from django.urls import path

from commonground.organizations import views

app_name = "organizations"

urlpatterns = [
    # /clinics/
    path("clinics/", views.clinic_list, name="clinic-list"),
    path("clinics/<slug:slug>/", views.clinic_detail, name="clinic-detail"),
    # /committees/<slug>/
    path("committees/<slug:slug>/", views.committee_detail, name="committee-detail"),
    path("committees/<slug:slug>/history/", views.committee_history, name="committee-history"),
    path("committees/<slug:slug>/edit/", views.committee_edit, name="committee-edit"),
    path("committees/<slug:slug>/members/", views.membership_add, name="membership-add"),
    path(
        "committees/<slug:slug>/members/<int:membership_id>/end/",
        views.membership_end,
        name="membership-end",
    ),
    path("committees/<slug:slug>/cochairs/", views.cochair_assign, name="cochair-assign"),
    path("committees/<slug:slug>/roster.csv", views.roster_export, name="roster-export"),
]
