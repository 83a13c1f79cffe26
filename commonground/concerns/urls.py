from __future__ import annotations

from django.urls import path

from commonground.concerns import views

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
    # Evidence files
    # Discussion threads
    # Region view and cross-clinic patterns
]
