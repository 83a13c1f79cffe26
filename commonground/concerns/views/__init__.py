"""Raise, follow and answer concerns. One permission decision and one service per view."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.access.evidence import evidence_get, evidence_used
from commonground.concerns import selectors, services
from commonground.concerns.forms import ConcernForm, ReceiptForm, ResponseForm
from commonground.concerns.models import Category, Concern, JointResponse, Status
from commonground.concerns.services.attachments import prepare_uploads
from commonground.core.permissions import allowed
from commonground.organizations.selectors import get_committee_for_user

RECEIPT_TRIES_PER_HOUR = 20


@login_required
@require_GET
def concern_list(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug)
    status = request.GET.get("status", "open")
    status = status if status in {"open", "", *Status.values} else "open"
    category = request.GET.get("category", "")
    category = category if category in Category.values else ""
    concerns = selectors.committee_concerns(committee, status=status, category=category)
    page = Paginator(concerns, selectors.CONCERNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "concerns/concern_list.html",
        {
            "committee": committee,
            "page": page,
            "query": urlencode({"status": status, "category": category}),
            "status": status,
            "category": category,
            "statuses": Status.choices,
            "categories": Category.choices,
            "today": timezone.localdate(),
            "can_raise": allowed(request.user, "concerns.raise_concern", committee),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def concern_raise(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, "concerns.raise_concern")
    posted = request.method == "POST"
    # A chart from the access dashboards, attached as a CSV of its (suppressed) numbers.
    reference = request.POST.get("chart_evidence") if posted else request.GET.get("evidence")
    chart = evidence_get(request.user, reference)
    initial = {"title": chart.title, "category": chart.category} if chart else None
    form = ConcernForm(
        request.POST if posted else None, request.FILES if posted else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if chart is not None:
                data["evidence"] = [*data["evidence"], *prepare_uploads([chart.as_upload()])]
            result = services.concern_raise(actor=request.user, committee=committee, **data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if chart is not None:
                evidence_used(chart.reference)
            if isinstance(result, str):
                # Shown once, never stored: only its hash is kept.
                return render(
                    request,
                    "concerns/receipt_issued.html",
                    {"committee": committee, "token": result},
                )
            messages.success(request, _raised_message(result))
            return redirect(result)
    status = 422 if request.method == "POST" else 200
    similar = None
    if request.method == "POST":
        similar = selectors.similar_open_concerns(request.user, committee, _draft_text(request))
    _ask_for_similar_while_typing(form, committee.slug)
    return render(
        request,
        "concerns/concern_form.html",
        {"committee": committee, "form": form, "similar": similar, "chart": chart},
        status=status,
    )


def _raised_message(concern: Concern) -> str:
    days = concern.committee.region.acknowledge_within_days
    if not concern.announced:
        return (
            "Concern raised. Only you can see it until today's batch shares it with the "
            "committee (so the time you raised it stays private); the co-chairs then have "
            f"{days} business days to acknowledge it."
        )
    return f"Concern raised. The co-chairs have {days} business days to acknowledge it."


def _draft_text(request: HttpRequest) -> str:
    return f"{request.POST.get('title', '')}\n{request.POST.get('description', '')}"


def _ask_for_similar_while_typing(form: ConcernForm, slug: str) -> None:
    """The title and description ask for similar open concerns as the person types. POST, so
    the draft stays out of URLs and access logs; htmx sends the CSRF header from base.html."""
    attrs = {
        "hx-post": reverse("concerns:concern-similar", kwargs={"slug": slug}),
        "hx-trigger": "input changed delay:500ms",
        "hx-target": "#similar-concerns",
        "hx-swap": "innerHTML",
        "hx-include": "#id_title, #id_description",
        "hx-params": "title,description",
        "hx-sync": "closest form:replace",
        "aria-controls": "similar-concerns",
    }
    for name in ("title", "description"):
        form.fields[name].widget.attrs.update(attrs)


@login_required
@require_POST
def concern_similar(request: HttpRequest, slug: str) -> HttpResponse:
    """Similar open concerns for the draft on the raise form (an htmx fragment)."""
    committee = get_committee_for_user(request.user, slug, "concerns.raise_concern")
    similar = selectors.similar_open_concerns(request.user, committee, _draft_text(request))
    return render(
        request,
        "concerns/concern_form.html#similar",
        {"committee": committee, "similar": similar},
    )


@login_required
@require_GET
def concern_detail(request: HttpRequest, concern_id: uuid.UUID) -> HttpResponse:
    concern = selectors.get_concern_for_user(request.user, concern_id)
    response = JointResponse.objects.filter(concern=concern).first()
    return render(
        request,
        "concerns/concern_detail.html",
        {
            "concern": concern,
            "raiser": selectors.raiser_label(request.user, concern),
            "cosigns": selectors.cosign_counts(concern),
            "signoffs": list(concern.signoffs.order_by("step", "side")),
            "joint_response": response,
            "response_form": ResponseForm(
                initial={
                    "agreed": "yes" if (response is None or response.agreed) else "no",
                    "text": response.text if response else "",
                    "clinician_reasons": response.clinician_reasons if response else "",
                    "management_reasons": response.management_reasons if response else "",
                    "version": response.version if response else None,
                }
            ),
            "can_cosign": allowed(request.user, "concerns.cosign", concern),
            "can_respond": allowed(request.user, "concerns.respond", concern),
            "next_steps": services.NEXT_STEPS.get(Status(concern.status), []),
            "status_labels": dict(Status.choices),
        },
    )


def _act(request: HttpRequest, concern_id: uuid.UUID, perm: str, action: str) -> HttpResponse:
    concern = selectors.get_concern_for_user(request.user, concern_id, perm)
    try:
        if action == "cosign":
            services.concern_cosign(actor=request.user, concern=concern)
            messages.success(request, "Co-signed.")
        elif action == "acknowledge":
            services.concern_acknowledge(actor=request.user, concern=concern)
            messages.success(request, "Acknowledged for your side.")
        elif action == "discuss":
            services.concern_start_discussion(actor=request.user, concern=concern)
            messages.success(request, "Discussion started.")
        elif action == "sign":
            services.response_sign(actor=request.user, concern=concern)
            messages.success(request, "Joint response signed for your side.")
        else:
            services.concern_move(actor=request.user, concern=concern, to=action)
            messages.success(request, "Status changed.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(concern)


@login_required
@require_POST
def concern_cosign(request: HttpRequest, concern_id: uuid.UUID) -> HttpResponse:
    return _act(request, concern_id, "concerns.cosign", "cosign")


@login_required
@require_POST
def concern_step(request: HttpRequest, concern_id: uuid.UUID) -> HttpResponse:
    step = request.POST.get("step", "")
    allowed_steps = {"acknowledge", "discuss", "sign", *(s.value for s in Status)}
    action = step if step in allowed_steps else "invalid"
    return _act(request, concern_id, "concerns.respond", action)


@login_required
@require_POST
def response_edit(request: HttpRequest, concern_id: uuid.UUID) -> HttpResponse:
    concern = selectors.get_concern_for_user(request.user, concern_id, "concerns.respond")
    form = ResponseForm(request.POST)
    if form.is_valid():
        try:
            services.response_draft(actor=request.user, concern=concern, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            current = JointResponse.objects.filter(concern=concern).first()
            if current is not None and form.cleaned_data.get("version") != current.version:
                return render(
                    request,
                    "concerns/response_conflict.html",
                    {"concern": concern, "current": current, "yours": form.cleaned_data},
                    status=409,
                )
        else:
            messages.success(request, "Joint response saved. Both co-chairs now sign it.")
    else:
        messages.error(request, "The response needs an outcome and its text.")
    return redirect(concern)


@require_http_methods(["GET", "POST"])
def receipt_lookup(request: HttpRequest) -> HttpResponse:
    """The anonymous raiser follows up with the receipt code, signed in or not."""
    form = ReceiptForm(request.POST if request.method == "POST" else None)
    result: object = None
    if request.method == "POST" and form.is_valid():
        key = services.receipt_rate_key(request.META.get("REMOTE_ADDR", ""))
        tries = cache.get(key, 0)
        if tries >= RECEIPT_TRIES_PER_HOUR:
            return render(
                request,
                "concerns/receipt_lookup.html",
                {"form": form, "throttled": True},
                status=429,
            )
        cache.set(key, tries + 1, timeout=3600)
        result = services.concern_for_receipt(form.cleaned_data["token"])
        if result is None:
            form.add_error("token", "No concern matches that code.")
    return render(
        request,
        "concerns/receipt_lookup.html",
        {"form": form, "result": result, "status_labels": dict(Status.choices)},
    )
