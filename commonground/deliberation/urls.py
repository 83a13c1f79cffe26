from __future__ import annotations

from django.urls import path

from commonground.deliberation import views, views_ideas

app_name = "deliberation"

urlpatterns = [
    # /committees/<slug>/conversations/...
    path(
        "committees/<slug:slug>/conversations/",
        views.conversation_list,
        name="conversation-list",
    ),
    path(
        "committees/<slug:slug>/conversations/new/",
        views.conversation_create,
        name="conversation-create",
    ),
    path(
        "committees/<slug:slug>/conversations/import/",
        views.conversation_import,
        name="conversation-import",
    ),
    # /conversations/<uuid>/...
    path(
        "conversations/<uuid:conversation_id>/",
        views.conversation_detail,
        name="conversation-detail",
    ),
    path("conversations/<uuid:conversation_id>/vote/", views.vote, name="vote"),
    path(
        "conversations/<uuid:conversation_id>/statements/",
        views.statement_add,
        name="statement-add",
    ),
    path(
        "conversations/<uuid:conversation_id>/results/",
        views.conversation_results,
        name="conversation-results",
    ),
    path(
        "conversations/<uuid:conversation_id>/moderate/",
        views.conversation_moderate,
        name="conversation-moderate",
    ),
    path(
        "conversations/<uuid:conversation_id>/statements/<int:number>/moderate/",
        views.statement_moderate,
        name="statement-moderate",
    ),
    path(
        "conversations/<uuid:conversation_id>/state/",
        views.conversation_state,
        name="conversation-state",
    ),
    path(
        "conversations/<uuid:conversation_id>/export.zip",
        views.conversation_export,
        name="conversation-export",
    ),
    # --- decision polls: /committees/<slug>/polls/... and /polls/<uuid>/...
    path("committees/<slug:slug>/polls/", views.poll_list, name="poll-list"),
    path("committees/<slug:slug>/polls/new/", views.poll_create, name="poll-create"),
    path("polls/<uuid:poll_id>/", views.poll_detail, name="poll-detail"),
    path("polls/<uuid:poll_id>/vote/", views.poll_vote, name="poll-vote"),
    path("polls/<uuid:poll_id>/close/", views.poll_close, name="poll-close"),
    # --- ideas board: /committees/<slug>/ideas/... and /ideas/<uuid>/...
    path("committees/<slug:slug>/ideas/", views_ideas.idea_board, name="idea-board"),
    path("committees/<slug:slug>/ideas/new/", views_ideas.idea_create, name="idea-create"),
    path(
        "committees/<slug:slug>/ideas/settings/",
        views_ideas.idea_board_settings,
        name="idea-board-settings",
    ),
    path("committees/<slug:slug>/ideas/compare/", views_ideas.idea_compare, name="idea-compare"),
    path(
        "committees/<slug:slug>/ideas/compare/answer/",
        views_ideas.idea_compare_answer,
        name="idea-compare-answer",
    ),
    path("ideas/<uuid:idea_id>/", views_ideas.idea_detail, name="idea-detail"),
    path("ideas/<uuid:idea_id>/dots/", views_ideas.idea_dots, name="idea-dots"),
    path("ideas/<uuid:idea_id>/stage/", views_ideas.idea_stage, name="idea-stage"),
    path("ideas/<uuid:idea_id>/merge/", views_ideas.idea_merge, name="idea-merge"),
    path("ideas/<uuid:idea_id>/concerns/", views_ideas.idea_concerns, name="idea-concerns"),
]
