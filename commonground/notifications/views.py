"""The person's notifications, read marks and email preferences.

Each view asks one selector (scoped to the person) and calls one service or selector.
Another person's notification answers 404, exactly as a missing one.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.notifications import selectors, services
from commonground.notifications.forms import PreferenceForm

PAGE_SIZE = 25
LIST = "notifications/notification_list.html"


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, LIST, {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: uuid.UUID) -> HttpResponse:
    notification = selectors.get_notification_for_user(request.user, notification_id)
    notification = services.notification_mark_read(notification=notification)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, f"{LIST}#item", {"notification": notification, "swapped": True})
    return redirect("notifications:list")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(person=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={"email_frequency": selectors.email_frequency(request.user)},
    )
    if request.method == "POST" and form.is_valid():
        services.preference_set(
            actor=request.user,
            person=request.user,
            email_frequency=form.cleaned_data["email_frequency"],
        )
        messages.success(request, "Notification settings saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
