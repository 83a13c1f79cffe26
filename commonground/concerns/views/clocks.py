"""Extend or pause a concern's clocks: proposed by one co-chair, signed by the other."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from commonground.concerns import selectors
from commonground.concerns.forms import ClockChangeForm
from commonground.concerns.models import ClockChange
from commonground.concerns.services import clocks as clock_services

DONE = {
    "sign": "Signed. The change is in effect.",
    "resume": "Clocks resumed; the deadlines moved out by the business days of the pause.",
    "withdraw": "Proposal withdrawn.",
}


@login_required
@require_POST
def clock_propose(request: HttpRequest, concern_id: uuid.UUID) -> HttpResponse:
    concern = selectors.get_concern_for_user(request.user, concern_id, "concerns.respond")
    form = ClockChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a change and give its reason.")
        return redirect(concern)
    try:
        clock_services.clock_change_propose(
            actor=request.user,
            concern=concern,
            kind=form.cleaned_data["kind"],
            reason=form.cleaned_data["reason"],
            business_days=form.cleaned_data["business_days"] or 0,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Proposed. The other side's co-chair signs for it to apply.")
    return redirect(concern)


@login_required
@require_POST
def clock_decide(
    request: HttpRequest, concern_id: uuid.UUID, change_id: int, decision: str
) -> HttpResponse:
    concern = selectors.get_concern_for_user(request.user, concern_id, "concerns.respond")
    change = ClockChange.objects.filter(pk=change_id, concern=concern).first()
    if change is None or decision not in DONE:
        raise Http404
    try:
        if decision == "sign":
            clock_services.clock_change_sign(actor=request.user, change=change)
        elif decision == "resume":
            clock_services.clock_resume(actor=request.user, change=change)
        else:
            clock_services.clock_change_withdraw(actor=request.user, change=change)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, DONE[decision])
    return redirect(concern)
