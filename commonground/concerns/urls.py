from __future__ import annotations

from django.urls import path

from commonground.concerns import views
from commonground.concerns.views import attachments as evidence_views
from commonground.concerns.views import clocks as clock_views
from commonground.concerns.views import region as region_views
from commonground.concerns.views import threads

app_name = "concerns"

urlpatterns = [
    path("committees/<slug:slug>/concerns/", views.concern_list, name="concern-list"),
    path("committees/<slug:slug>/concerns/new/", views.concern_raise, name="concern-raise"),
    path("committees/<slug:slug>/concerns/similar/", views.concern_similar, name="concern-similar"),
    path("concerns/receipt/", views.receipt_lookup, name="receipt-lookup"),
    path("concerns/<uuid:concern_id>/", views.concern_detail, name="concern-detail"),
    path("concerns/<uuid:concern_id>/cosign/", views.concern_cosign, name="concern-cosign"),
    path("concerns/<uuid:concern_id>/step/", views.concern_step, name="concern-step"),
    path("concerns/<uuid:concern_id>/response/", views.response_edit, name="response-edit"),
    # Clock extensions and pauses
    path("concerns/<uuid:concern_id>/clocks/", clock_views.clock_propose, name="clock-propose"),
    path(
        "concerns/<uuid:concern_id>/clocks/<int:change_id>/<str:decision>/",
        clock_views.clock_decide,
        name="clock-decide",
    ),
    # Evidence files
    path(
        "concerns/<uuid:concern_id>/evidence/",
        evidence_views.evidence_upload,
        name="evidence-upload",
    ),
    path(
        "concerns/<uuid:concern_id>/evidence/<uuid:attachment_id>/",
        evidence_views.evidence_download,
        name="evidence-download",
    ),
    path(
        "concerns/<uuid:concern_id>/evidence/<uuid:attachment_id>/remove/",
        evidence_views.evidence_remove,
        name="evidence-remove",
    ),
    # Discussion threads
    path("concerns/<uuid:concern_id>/comments/", threads.comment_post, name="comment-post"),
    path("concerns/comments/<uuid:comment_id>/edit/", threads.comment_edit, name="comment-edit"),
    path(
        "concerns/comments/<uuid:comment_id>/history/",
        threads.comment_history,
        name="comment-history",
    ),
    # Region view and cross-clinic patterns
    path("region/concerns/", region_views.region_concerns, name="region-concerns"),
    path(
        "region/concerns/compliance.csv",
        region_views.region_compliance_csv,
        name="region-compliance-csv",
    ),
    path("region/patterns/new/", region_views.pattern_create, name="pattern-create"),
    path("region/patterns/<uuid:pattern_id>/", region_views.pattern_detail, name="pattern-detail"),
    path(
        "region/patterns/<uuid:pattern_id>/concerns/",
        region_views.pattern_concerns,
        name="pattern-concerns",
    ),
]
