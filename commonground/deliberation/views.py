"""Common-ground conversations: the committee's list, starting and importing, the voting
page (one statement at a time; htmx swaps in the next, plain POST + redirect without
JavaScript), the results page, moderation, open / close and the Pol.is export.

Each view makes one permission decision through a fetch-and-authorise selector and calls
one service or selector.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.core.permissions import allowed
from commonground.deliberation import selectors, services
from commonground.deliberation.forms import (
    ConversationForm,
    ImportForm,
    ModerateForm,
    PollCloseForm,
    PollForm,
    PollVoteForm,
    StateForm,
    StatementForm,
    VoteForm,
)
from commonground.deliberation.models import Conversation, Poll
from commonground.organizations.models import Committee
from commonground.organizations.selectors import get_committee_for_user

VIEW = selectors.VIEW
TAKE_PART = selectors.TAKE_PART
MODERATE = selectors.MODERATE


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- committee level: /committees/<slug>/conversations/ -----------------------------------


@login_required
@require_GET
def conversation_list(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, VIEW)
    return render(
        request,
        "deliberation/conversation_list.html",
        {
            "committee": committee,
            "conversations": selectors.committee_conversations(committee),
            "can_moderate": allowed(request.user, MODERATE, committee),
        },
    )


def _region_wide(committee: Committee) -> bool:
    return committee.kind != Committee.Kind.CLINIC_PPC


@login_required
@require_http_methods(["GET", "POST"])
def conversation_create(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, MODERATE)
    form = ConversationForm(
        request.POST if request.method == "POST" else None,
        region_wide=_region_wide(committee),
    )
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.conversation_start(
                actor=request.user, committee=committee, **form.service_fields()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Conversation opened. Members can vote now.")
            return redirect(conversation)
    return render(
        request, "deliberation/conversation_form.html", {"committee": committee, "form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def conversation_import(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, MODERATE)
    form = ImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        votes, comments = form.cleaned_data["files"]
        try:
            conversation = services.conversation_import(
                actor=request.user,
                committee=committee,
                topic=form.cleaned_data["topic"],
                description=form.cleaned_data["description"],
                participants_votes=votes,
                comments=comments,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Conversation imported. Its results are being computed.")
            return redirect(
                "deliberation:conversation-results", conversation_id=conversation.public_id
            )
    return render(
        request, "deliberation/conversation_import.html", {"committee": committee, "form": form}
    )


# --- one conversation: /conversations/<uuid>/ ---------------------------------------------


def _voting(
    request: HttpRequest,
    conversation: Conversation,
    *,
    partial: str = "",
    statement_form: StatementForm | None = None,
    status: int = 200,
) -> HttpResponse:
    page = selectors.voting_page(request.user, conversation)
    context: dict[str, Any] = {
        "conversation": conversation,
        "committee": conversation.committee,
        "page": page,
        "statement_form": statement_form or StatementForm(),
        "vote_choices": (("agree", "Agree"), ("disagree", "Disagree"), ("pass", "Pass / unsure")),
    }
    template = "deliberation/conversation_detail.html"
    if partial and _is_htmx(request):
        template += f"#{partial}"
    return render(request, template, context, status=status)


@login_required
@require_GET
def conversation_detail(request: HttpRequest, conversation_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, conversation_id)
    return _voting(request, conversation)


@login_required
@require_POST
def vote(request: HttpRequest, conversation_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, conversation_id, TAKE_PART)
    form = VoteForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            services.vote_cast(
                actor=request.user,
                conversation=conversation,
                statement_number=form.cleaned_data["statement"],
                vote=form.cleaned_data["vote"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 409
        else:
            if not _is_htmx(request):
                return redirect(conversation)
    else:
        messages.error(request, "Choose agree, disagree or pass.")
        status = 422
    if _is_htmx(request):
        # htmx swaps only successful responses: the fragment carries the message.
        return _voting(request, conversation, partial="voting")
    return _voting(request, conversation, status=status)


@login_required
@require_POST
def statement_add(request: HttpRequest, conversation_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, conversation_id, TAKE_PART)
    form = StatementForm(request.POST)
    if form.is_valid():
        try:
            statement = services.statement_add(
                actor=request.user, conversation=conversation, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            form.add_error("text", exc)
        else:
            if statement.moderation == statement.Moderation.ACCEPTED:
                messages.success(request, "Statement added. Others can vote on it now.")
            else:
                messages.success(request, "Thank you. A co-chair will review your statement.")
            if not _is_htmx(request):
                return redirect(conversation)
            return _voting(request, conversation, partial="add_statement")
    status = 200 if _is_htmx(request) else 422
    return _voting(
        request, conversation, partial="add_statement", statement_form=form, status=status
    )


@login_required
@require_GET
def conversation_results(request: HttpRequest, conversation_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, conversation_id)
    page = selectors.results_page(request.user, conversation, timezone.now())
    return render(
        request,
        "deliberation/conversation_results.html",
        {"conversation": conversation, "committee": conversation.committee, "page": page},
    )


def _moderation(
    request: HttpRequest, conversation: Conversation, *, partial: str = "", status: int = 200
) -> HttpResponse:
    template = "deliberation/conversation_moderate.html"
    if partial and _is_htmx(request):
        template += f"#{partial}"
    return render(
        request,
        template,
        {
            "conversation": conversation,
            "committee": conversation.committee,
            "page": selectors.moderation_page(conversation),
            "state_form": StateForm(initial={"state": conversation.state}),
        },
        status=status,
    )


@login_required
@require_GET
def conversation_moderate(request: HttpRequest, conversation_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, conversation_id, MODERATE)
    return _moderation(request, conversation)


@login_required
@require_POST
def statement_moderate(
    request: HttpRequest, conversation_id: uuid.UUID, number: int
) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, conversation_id, MODERATE)
    statement = selectors.get_statement(conversation, number)
    form = ModerateForm(request.POST)
    status = 200
    if form.is_valid():
        services.statement_moderate(
            actor=request.user, statement=statement, decision=form.cleaned_data["decision"]
        )
        messages.success(request, f"Statement {statement.number} updated.")
        if not _is_htmx(request):
            return redirect("deliberation:conversation-moderate", conversation_id=conversation_id)
    else:
        messages.error(request, "Choose accept, reject or meta.")
        status = 200 if _is_htmx(request) else 422
    return _moderation(request, conversation, partial="queue", status=status)


@login_required
@require_POST
def conversation_state(request: HttpRequest, conversation_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, conversation_id, MODERATE)
    form = StateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose open or closed.")
        return _moderation(request, conversation, status=422)
    services.conversation_set_state(
        actor=request.user, conversation=conversation, state=form.cleaned_data["state"]
    )
    messages.success(
        request,
        "Conversation opened." if form.cleaned_data["state"] == "open" else "Conversation closed.",
    )
    return redirect("deliberation:conversation-moderate", conversation_id=conversation_id)


@login_required
@require_GET
def conversation_export(request: HttpRequest, conversation_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, conversation_id, MODERATE)
    data = services.conversation_export(actor=request.user, conversation=conversation)
    response = HttpResponse(data, content_type="application/zip")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="conversation-{conversation.public_id}-{stamp}.zip"'
    )
    return response


# --- decision polls: /committees/<slug>/polls/ and /polls/<uuid>/ --------------------------

VIEW_POLL = selectors.VIEW_POLL
VOTE_POLL = selectors.VOTE_POLL
MANAGE_POLL = selectors.MANAGE_POLL


@login_required
@require_GET
def poll_list(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, VIEW_POLL)
    return render(
        request,
        "deliberation/polls/poll_list.html",
        {
            "committee": committee,
            "page": selectors.committee_polls(committee),
            "can_manage": allowed(request.user, MANAGE_POLL, committee),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def poll_create(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, MANAGE_POLL)
    form = PollForm(
        request.POST if request.method == "POST" else None,
        initial={"closing_at": timezone.localtime() + dt.timedelta(days=7)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            poll = services.poll_create(
                actor=request.user, committee=committee, **form.service_fields()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Poll opened. Members can vote now.")
            return redirect(poll)
    return render(
        request, "deliberation/polls/poll_form.html", {"committee": committee, "form": form}
    )


def _poll(
    request: HttpRequest,
    poll: Poll,
    *,
    vote_form: PollVoteForm | None = None,
    close_form: PollCloseForm | None = None,
    partial: str = "",
    status: int = 200,
) -> HttpResponse:
    page = selectors.poll_page(request.user, poll)
    if vote_form is None:
        vote_form = PollVoteForm(poll=poll, options=page.options, vote=page.my_vote)
    if close_form is None:
        close_form = PollCloseForm(initial={"action": "close", "statement": page.draft})
    template = "deliberation/polls/poll_detail.html"
    if partial and _is_htmx(request):
        template += f"#{partial}"
    return render(
        request,
        template,
        {
            "poll": poll,
            "committee": poll.committee,
            "page": page,
            "vote_form": vote_form,
            "close_form": close_form,
        },
        status=status,
    )


@login_required
@require_GET
def poll_detail(request: HttpRequest, poll_id: uuid.UUID) -> HttpResponse:
    poll = selectors.get_poll_for_user(request.user, poll_id)
    return _poll(request, poll)


@login_required
@require_POST
def poll_vote(request: HttpRequest, poll_id: uuid.UUID) -> HttpResponse:
    poll = selectors.get_poll_for_user(request.user, poll_id, VOTE_POLL)
    options = list(poll.options.order_by("position"))
    form = PollVoteForm(request.POST, poll=poll, options=options)
    status = 422
    if form.is_valid():
        try:
            services.poll_vote(actor=request.user, poll=poll, **form.service_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 409 if not poll.is_open else 422
        else:
            messages.success(
                request, "Your vote is recorded. You can change it until the poll closes."
            )
            if not _is_htmx(request):
                return redirect(poll)
            return _poll(request, poll, partial="poll_body")
    if _is_htmx(request):
        # htmx swaps only successful responses: the fragment carries the errors.
        status = 200
    return _poll(request, poll, vote_form=form, partial="poll_body", status=status)


@login_required
@require_POST
def poll_close(request: HttpRequest, poll_id: uuid.UUID) -> HttpResponse:
    poll = selectors.get_poll_for_user(request.user, poll_id, MANAGE_POLL)
    form = PollCloseForm(request.POST)
    if form.is_valid():
        try:
            services.poll_close(
                actor=request.user,
                poll=poll,
                statement=form.cleaned_data["statement"],
                review_on=form.cleaned_data["review_on"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Poll closed. Its outcome is in the decisions log.")
            return redirect(poll)
    return _poll(request, poll, close_form=form, status=422)
