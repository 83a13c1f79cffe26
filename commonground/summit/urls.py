from __future__ import annotations

from django.urls import path

from commonground.summit import views

app_name = "summit"

urlpatterns = [
    # /summit/...
    path("", views.summit_list, name="summit-list"),
    path("<int:summit_id>/", views.summit_detail, name="summit-detail"),
    path("<int:summit_id>/registration/", views.registration, name="registration"),
    path("<int:summit_id>/edit/", views.summit_edit, name="summit-edit"),
    path("<int:summit_id>/rooms/new/", views.room_form, name="room-create"),
    path("<int:summit_id>/rooms/<int:room_id>/edit/", views.room_form, name="room-edit"),
    path("<int:summit_id>/sessions/new/", views.session_form, name="session-create"),
    path(
        "<int:summit_id>/sessions/<int:session_id>/",
        views.session_detail,
        name="session-detail",
    ),
    path(
        "<int:summit_id>/sessions/<int:session_id>/edit/",
        views.session_form,
        name="session-edit",
    ),
    path(
        "<int:summit_id>/sessions/<int:session_id>/questions/",
        views.question_ask,
        name="question-ask",
    ),
    path(
        "<int:summit_id>/questions/<int:question_id>/upvote/",
        views.question_upvote,
        name="question-upvote",
    ),
    path(
        "<int:summit_id>/questions/<int:question_id>/moderate/",
        views.question_moderate,
        name="question-moderate",
    ),
    path(
        "<int:summit_id>/projector/<uuid:conversation_id>/",
        views.projector,
        name="projector",
    ),
    path("<int:summit_id>/report/<uuid:conversation_id>/", views.report, name="report"),
    path(
        "<int:summit_id>/report/<uuid:conversation_id>/send/",
        views.report_send,
        name="report-send",
    ),
]
