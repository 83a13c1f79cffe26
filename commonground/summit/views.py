"""The summit's pages: the event and its program, "My registration", organisers' program
forms, each session's live Q&A (htmx polling, plain forms without JavaScript), the projector
view of a summit conversation and its results report.

Each view makes one permission decision through ``get_summit_for_user`` and calls one
service or selector.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.core.permissions import allowed
from commonground.summit import selectors, services
from commonground.summit.forms import (
    ModerateForm,
    QuestionForm,
    RegistrationForm,
    RoomForm,
    SessionForm,
    SummitForm,
)
from commonground.summit.models import Session, Summit
from commonground.summit.selectors import ATTEND, ORGANISE, REGISTER, VIEW

# How often the live pages poll, in seconds.
POLL_SECONDS = 5


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _flags(request: HttpRequest, summit: Summit) -> dict[str, bool]:
    return {
        "can_organise": allowed(request.user, ORGANISE, summit),
        "can_attend": allowed(request.user, ATTEND, summit),
        "can_register": allowed(request.user, REGISTER, summit),
    }


# --- event and program --------------------------------------------------------------------


@login_required
@require_GET
def summit_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "summit/summit_list.html", {"summits": selectors.summits_for_user(request.user)}
    )


@login_required
@require_GET
def summit_detail(request: HttpRequest, summit_id: int) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id)
    return render(
        request,
        "summit/summit_detail.html",
        {
            "summit": summit,
            "slots": selectors.program(summit),
            "box": selectors.registration_box(request.user, summit),
            "conversations": selectors.summit_conversations(summit),
            **_flags(request, summit),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def registration(request: HttpRequest, summit_id: int) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, REGISTER)
    form = RegistrationForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if form.cleaned_data["action"] == "register":
                    row = services.register(actor=request.user, summit=summit)
                    messages.success(
                        request,
                        "You are registered."
                        if row.status == row.Status.CONFIRMED
                        else "The summit is full: you are on the waiting list.",
                    )
                else:
                    services.unregister(actor=request.user, summit=summit)
                    messages.success(request, "Your registration is cancelled.")
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                status = 409
            else:
                return redirect("summit:registration", summit_id=summit.pk)
        else:
            messages.error(request, "Choose register or unregister.")
            status = 422
    return render(
        request,
        "summit/registration.html",
        {"summit": summit, "box": selectors.registration_box(request.user, summit)},
        status=status,
    )


def _form_page(
    request: HttpRequest,
    summit: Summit,
    form: Any,
    *,
    heading: str,
    submit: str,
    status: int = 200,
) -> HttpResponse:
    if request.method == "POST" and status == 200:
        status = 422
    return render(
        request,
        "summit/form.html",
        {"summit": summit, "form": form, "heading": heading, "submit": submit},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def summit_edit(request: HttpRequest, summit_id: int) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, ORGANISE)
    form = SummitForm(request.POST if request.method == "POST" else None, instance=summit)
    if request.method == "POST" and form.is_valid():
        try:
            services.summit_update(actor=request.user, summit=summit, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Summit saved.")
            return redirect(summit)
    return _form_page(request, summit, form, heading="Edit the summit", submit="Save")


@login_required
@require_http_methods(["GET", "POST"])
def room_form(request: HttpRequest, summit_id: int, room_id: int | None = None) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, ORGANISE)
    room = selectors.get_room(summit, room_id) if room_id is not None else None
    form = RoomForm(request.POST if request.method == "POST" else None, instance=room)
    if request.method == "POST" and form.is_valid():
        try:
            services.room_save(actor=request.user, summit=summit, room=room, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Room saved.")
            return redirect(summit)
    heading = "Add a room" if room is None else f"Edit room {room.name}"
    return _form_page(request, summit, form, heading=heading, submit="Save room")


@login_required
@require_http_methods(["GET", "POST"])
def session_form(
    request: HttpRequest, summit_id: int, session_id: int | None = None
) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, ORGANISE)
    session = selectors.get_session(summit, session_id) if session_id is not None else None
    form = SessionForm(
        request.POST if request.method == "POST" else None,
        instance=session or Session(summit=summit),
        summit=summit,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.session_save(
                actor=request.user, summit=summit, session=session, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Session saved.")
            return redirect(saved)
    heading = "Add a session" if session is None else f"Edit session {session.title}"
    return _form_page(request, summit, form, heading=heading, submit="Save session")


# --- sessions and live Q&A ----------------------------------------------------------------


def _session_page(
    request: HttpRequest,
    summit: Summit,
    session: Session,
    *,
    partial: str = "",
    form: QuestionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_organise = allowed(request.user, ORGANISE, summit)
    listing = selectors.questions(request.user, session, can_moderate=can_organise)
    if partial == "questions" and request.GET.get("v") == listing.version:
        # Nothing changed since the last poll: leave the list (and any focus in it) alone.
        return HttpResponse(status=204)
    template = "summit/session_detail.html"
    if partial and _is_htmx(request):
        template += f"#{partial}"
    return render(
        request,
        template,
        {
            "summit": summit,
            "session": session,
            "listing": listing,
            "form": form or QuestionForm(),
            "can_organise": can_organise,
            "can_attend": allowed(request.user, ATTEND, summit),
            "poll_seconds": POLL_SECONDS,
        },
        status=status,
    )


@login_required
@require_GET
def session_detail(request: HttpRequest, summit_id: int, session_id: int) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id)
    session = selectors.get_session(summit, session_id)
    partial = "questions" if _is_htmx(request) else ""
    return _session_page(request, summit, session, partial=partial)


@login_required
@require_POST
def question_ask(request: HttpRequest, summit_id: int, session_id: int) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, ATTEND)
    session = selectors.get_session(summit, session_id)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.question_ask(
                actor=request.user,
                session=session,
                text=form.cleaned_data["text"],
                anonymous=form.cleaned_data["anonymous"],
            )
        except ValidationError as exc:
            form.add_error("text", exc)
        else:
            messages.success(request, "Thank you. A moderator will put your question on show.")
            if not _is_htmx(request):
                return redirect(session)
            return _session_page(request, summit, session, partial="ask")
    status = 200 if _is_htmx(request) else 422
    return _session_page(request, summit, session, partial="ask", form=form, status=status)


@login_required
@require_POST
def question_upvote(request: HttpRequest, summit_id: int, question_id: int) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, ATTEND)
    question = selectors.get_question(summit, question_id)
    status = 200
    try:
        services.question_upvote(actor=request.user, question=question)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        status = 409
    if not _is_htmx(request) and status == 200:
        return redirect(question.session)
    return _session_page(
        request,
        summit,
        question.session,
        partial="questions",
        status=200 if _is_htmx(request) else status,
    )


@login_required
@require_POST
def question_moderate(request: HttpRequest, summit_id: int, question_id: int) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, ORGANISE)
    question = selectors.get_question(summit, question_id)
    form = ModerateForm(request.POST)
    status = 200
    if form.is_valid():
        services.question_moderate(
            actor=request.user, question=question, decision=form.cleaned_data["decision"]
        )
        if not _is_htmx(request):
            return redirect(question.session)
    else:
        messages.error(request, "Choose approve, hide or answered.")
        status = 200 if _is_htmx(request) else 422
    return _session_page(request, summit, question.session, partial="questions", status=status)


# --- projector and results report ---------------------------------------------------------


@login_required
@require_GET
def projector(request: HttpRequest, summit_id: int, conversation_id: uuid.UUID) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, ATTEND)
    conversation = selectors.get_summit_conversation(summit, conversation_id)
    page = selectors.projector_page(summit, conversation)
    template = "summit/projector.html"
    if _is_htmx(request):
        if request.GET.get("v") == page.version:
            return HttpResponse(status=204)
        template += "#live"
    return render(request, template, {"page": page, "poll_seconds": POLL_SECONDS})


@login_required
@require_GET
def report(request: HttpRequest, summit_id: int, conversation_id: uuid.UUID) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, VIEW)
    conversation = selectors.get_summit_conversation(summit, conversation_id)
    return render(
        request,
        "summit/report.html",
        {"page": selectors.report_page(request.user, summit, conversation)},
    )


@login_required
@require_POST
def report_send(request: HttpRequest, summit_id: int, conversation_id: uuid.UUID) -> HttpResponse:
    summit = selectors.get_summit_for_user(request.user, summit_id, ORGANISE)
    conversation = selectors.get_summit_conversation(summit, conversation_id)
    try:
        sent = services.report_send(actor=request.user, summit=summit, conversation=conversation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Results sent to the co-chairs of {sent.committees_notified} clinic committees.",
        )
    return redirect("summit:report", summit_id=summit.pk, conversation_id=conversation.public_id)
