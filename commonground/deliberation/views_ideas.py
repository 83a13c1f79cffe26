"""The ideas board: the committee's board (stage filters, dots left, sorted by dots or by
the pairwise ranking), proposing an idea, an idea's page with the co-chairs' actions (stage,
merge, concern links), dots (htmx swaps the idea's dot control; plain POST + redirect
without JavaScript) and the pairwise page ("which would help patients more?", one pair at a
time; htmx swaps in the next pair).

Each view makes one permission decision through a fetch-and-authorise selector and calls
one service or selector.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.concerns.models import Concern
from commonground.deliberation import selectors_ideas as selectors
from commonground.deliberation import services_ideas as services
from commonground.deliberation.forms_ideas import (
    BoardSettingsForm,
    CompareForm,
    ConcernLinkForm,
    DotForm,
    IdeaForm,
    MergeForm,
    StageForm,
)
from commonground.deliberation.models import Idea
from commonground.organizations.models import Committee
from commonground.organizations.selectors import get_committee_for_user

VIEW_IDEAS = selectors.VIEW_IDEAS
TAKE_PART_IDEAS = selectors.TAKE_PART_IDEAS
MANAGE_IDEAS = selectors.MANAGE_IDEAS


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _board_url(committee: Committee) -> str:
    return reverse("deliberation:idea-board", kwargs={"slug": committee.slug})


# --- the board: /committees/<slug>/ideas/ -------------------------------------------------


@login_required
@require_GET
def idea_board(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, VIEW_IDEAS)
    page = selectors.board_page(
        request.user,
        committee,
        stage=request.GET.get("stage", "open"),
        sort=request.GET.get("sort", "dots"),
    )
    return render(
        request,
        "deliberation/ideas/board.html",
        {
            "committee": committee,
            "page": page,
            "settings_form": BoardSettingsForm(
                initial={"dots_per_person": page.board.dots_per_person}
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def idea_create(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, TAKE_PART_IDEAS)
    initial: dict[str, Any] = {}
    concern_id = request.GET.get("concern", "")
    if concern_id:
        with contextlib.suppress(ValueError):
            initial["concerns"] = [uuid.UUID(concern_id)]
    form = IdeaForm(
        request.POST if request.method == "POST" else None, committee=committee, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            idea = services.idea_propose(
                actor=request.user, committee=committee, **form.service_fields()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Idea posted. Others can put their dots on it now.")
            return redirect(idea)
    return render(
        request,
        "deliberation/ideas/idea_form.html",
        {"committee": committee, "form": form},
    )


@login_required
@require_POST
def idea_board_settings(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, MANAGE_IDEAS)
    form = BoardSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a number of dots between 1 and 50.")
        return redirect(_board_url(committee))
    try:
        services.board_settings_set(
            actor=request.user,
            committee=committee,
            dots_per_person=form.cleaned_data["dots_per_person"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Dots per person saved.")
    return redirect(_board_url(committee))


# --- pairwise: /committees/<slug>/ideas/compare/ -----------------------------------------


def _compare(request: HttpRequest, committee: Committee, *, partial: str = "") -> HttpResponse:
    template = "deliberation/ideas/compare.html"
    if partial and _is_htmx(request):
        template += f"#{partial}"
    return render(
        request,
        template,
        {"committee": committee, "page": selectors.compare_page(request.user, committee)},
    )


@login_required
@require_GET
def idea_compare(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, VIEW_IDEAS)
    return _compare(request, committee)


@login_required
@require_POST
def idea_compare_answer(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, TAKE_PART_IDEAS)
    form = CompareForm(request.POST)
    status = 200
    if form.is_valid():
        ids = [form.cleaned_data["left"], form.cleaned_data["right"]]
        found = {
            i.public_id: i for i in Idea.objects.filter(committee=committee, public_id__in=ids)
        }
        try:
            if len(found) != 2:
                raise ValidationError("Those ideas are not on this board.")
            services.comparison_record(
                actor=request.user,
                committee=committee,
                shown=[found[ids[0]], found[ids[1]]],
                choice=form.cleaned_data["choice"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 409
        else:
            if not _is_htmx(request):
                return redirect("deliberation:idea-compare", slug=committee.slug)
    else:
        messages.error(request, "Choose one of the two ideas, or “can't decide”.")
        status = 422
    if _is_htmx(request):
        # htmx swaps only successful responses: the fragment carries the message.
        return _compare(request, committee, partial="pair")
    response = _compare(request, committee)
    response.status_code = status
    return response


# --- one idea: /ideas/<uuid>/ -------------------------------------------------------------


def _idea(
    request: HttpRequest,
    idea: Idea,
    *,
    stage_form: StageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    page = selectors.idea_page(request.user, idea)
    return render(
        request,
        "deliberation/ideas/idea_detail.html",
        {
            "idea": idea,
            "committee": idea.committee,
            "page": page,
            "stage_form": stage_form or StageForm(),
        },
        status=status,
    )


@login_required
@require_GET
def idea_detail(request: HttpRequest, idea_id: uuid.UUID) -> HttpResponse:
    idea = selectors.get_idea_for_user(request.user, idea_id)
    return _idea(request, idea)


@login_required
@require_POST
def idea_dots(request: HttpRequest, idea_id: uuid.UUID) -> HttpResponse:
    idea = selectors.get_idea_for_user(request.user, idea_id, TAKE_PART_IDEAS)
    form = DotForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            services.dots_add(actor=request.user, idea=idea, delta=form.delta)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 409
    else:
        messages.error(request, "Add a dot or take one off.")
        status = 422
    if _is_htmx(request):
        page = selectors.idea_page(request.user, idea)
        return render(
            request,
            "deliberation/ideas/_dots_response.html",
            {"idea": idea, "totals": page.totals, "my_dots": page.my_dots, "page": page},
        )
    if status != 200:
        return _idea(request, idea, status=status)
    if request.POST.get("return_to") == "board":
        return redirect(_board_url(idea.committee) + f"#idea-{idea.public_id}")
    return redirect(idea)


@login_required
@require_POST
def idea_stage(request: HttpRequest, idea_id: uuid.UUID) -> HttpResponse:
    idea = selectors.get_idea_for_user(request.user, idea_id, MANAGE_IDEAS)
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            services.idea_set_stage(
                actor=request.user,
                idea=idea,
                stage=form.cleaned_data["stage"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Stage changed.")
            return redirect(idea)
    return _idea(request, idea, stage_form=form, status=422)


@login_required
@require_POST
def idea_merge(request: HttpRequest, idea_id: uuid.UUID) -> HttpResponse:
    idea = selectors.get_idea_for_user(request.user, idea_id, MANAGE_IDEAS)
    form = MergeForm(request.POST)
    target = None
    if form.is_valid():
        target = Idea.objects.filter(
            committee=idea.committee, public_id=form.cleaned_data["into"]
        ).first()
    if target is None:
        messages.error(request, "Choose an idea of this board to merge into.")
        return _idea(request, idea, status=422)
    try:
        kept = services.idea_merge(actor=request.user, duplicate=idea, into=target)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _idea(request, idea, status=409)
    messages.success(request, f"Merged into “{kept.title}”: dots and comparisons carried over.")
    return redirect(kept)


@login_required
@require_POST
def idea_concerns(request: HttpRequest, idea_id: uuid.UUID) -> HttpResponse:
    idea = selectors.get_idea_for_user(request.user, idea_id, MANAGE_IDEAS)
    form = ConcernLinkForm(request.POST)
    concern = None
    if form.is_valid():
        concern = Concern.objects.filter(
            committee=idea.committee, pk=form.cleaned_data["concern"]
        ).first()
    if concern is None:
        messages.error(request, "Choose a concern of this committee.")
        return _idea(request, idea, status=422)
    services.idea_link_concern(
        actor=request.user, idea=idea, concern=concern, unlink=form.cleaned_data["unlink"]
    )
    messages.success(request, "Link removed." if form.cleaned_data["unlink"] else "Linked.")
    return redirect(idea)
