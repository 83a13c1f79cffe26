from __future__ import annotations

from django.urls import path

from commonground.meetings import views

app_name = "meetings"

urlpatterns = [
    # /committees/<slug>/...
    path("committees/<slug:slug>/meetings/", views.meeting_list, name="meeting-list"),
    path("committees/<slug:slug>/meetings/new/", views.meeting_create, name="meeting-create"),
    path("committees/<slug:slug>/meetings/rules/", views.meeting_settings, name="meeting-settings"),
    path("committees/<slug:slug>/decisions/new/", views.decision_create, name="decision-create"),
    path("committees/<slug:slug>/actions/", views.committee_actions, name="committee-actions"),
    path("committees/<slug:slug>/actions/new/", views.action_create, name="action-create"),
    # /meetings/<uuid>/...
    path("meetings/<uuid:meeting_id>/", views.meeting_detail, name="meeting-detail"),
    path("meetings/<uuid:meeting_id>/edit/", views.meeting_edit, name="meeting-edit"),
    path("meetings/<uuid:meeting_id>/agenda/", views.agenda_add, name="agenda-add"),
    path(
        "meetings/<uuid:meeting_id>/agenda/<int:item_id>/remove/",
        views.agenda_remove,
        name="agenda-remove",
    ),
    path("meetings/<uuid:meeting_id>/attendance/", views.attendance_set, name="attendance-set"),
    path("meetings/<uuid:meeting_id>/minutes/", views.minutes_edit, name="minutes-edit"),
    path(
        "meetings/<uuid:meeting_id>/minutes/approve/",
        views.minutes_approve,
        name="minutes-approve",
    ),
    path(
        "meetings/<uuid:meeting_id>/minutes/amendments/",
        views.amendment_propose,
        name="amendment-propose",
    ),
    path(
        "meetings/<uuid:meeting_id>/decisions/new/",
        views.meeting_decision_create,
        name="meeting-decision-create",
    ),
    path(
        "meetings/amendments/<uuid:amendment_id>/",
        views.amendment_decide,
        name="amendment-decide",
    ),
    # decisions and actions across committees
    path("decisions/", views.decision_log, name="decision-log"),
    path("decisions/<uuid:decision_id>/", views.decision_detail, name="decision-detail"),
    path("actions/mine/", views.my_actions, name="my-actions"),
    path("actions/<uuid:action_id>/", views.action_edit, name="action-edit"),
    # calendar feeds: the secret token in the URL authorises them (calendar apps send no cookie)
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/renew/", views.calendar_regenerate, name="calendar-regenerate"),
    path("calendar/<str:token>/mine.ics", views.feed_person, name="feed-person"),
    path(
        "calendar/<str:token>/committees/<slug:slug>.ics",
        views.feed_committee,
        name="feed-committee",
    ),
]
