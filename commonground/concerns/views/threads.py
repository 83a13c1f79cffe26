"""Post, reply to and edit comments in a concern's thread, and read a comment's history.

With htmx each answer is the thread fragment (``concerns/_thread.html``), swapped in place;
htmx swaps only successful answers, so refusals come back in the fragment with status 200.
Without JavaScript a saved comment redirects to the concern, and a refusal renders a page
with the form and the person's text (422, or 409 for an edit that conflicts).
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from commonground.concerns.models import Comment, Concern
from commonground.concerns.selectors import get_concern_for_user
from commonground.concerns.selectors import threads as selectors
from commonground.concerns.services import threads as services


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=services.BODY_MAX,
        help_text="Markdown. Mention someone with @username.",
    )
    parent = forms.UUIDField(required=False, widget=forms.HiddenInput)


class CommentEditForm(forms.Form):
    body = forms.CharField(
        label="Edit your comment",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=services.BODY_MAX,
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _thread(
    request: HttpRequest, concern: Concern, draft: selectors.Draft | None = None
) -> HttpResponse:
    thread = selectors.concern_thread(request.user, concern)
    if draft is not None:
        thread.attach(draft)
    return render(request, "concerns/_thread.html", {"concern": concern, "thread": thread})


def _refused(
    request: HttpRequest,
    concern: Concern,
    draft: selectors.Draft,
    *,
    comment: Comment | None = None,
    status: int = 422,
) -> HttpResponse:
    if _is_htmx(request):
        return _thread(request, concern, draft)
    return render(
        request,
        "concerns/comment_form.html",
        {"concern": concern, "draft": draft, "comment": comment},
        status=status,
    )


@login_required
@require_POST
def comment_post(request: HttpRequest, concern_id: uuid.UUID) -> HttpResponse:
    concern = get_concern_for_user(request.user, concern_id, "concerns.comment")
    form = CommentForm(request.POST)
    parent = request.POST.get("parent", "")
    target = f"reply:{parent}" if parent else "new"
    if form.is_valid():
        try:
            comment = services.comment_post(
                actor=request.user,
                concern=concern,
                body=form.cleaned_data["body"],
                parent_id=form.cleaned_data["parent"],
            )
        except ValidationError as exc:
            draft = selectors.Draft(target, form.cleaned_data["body"], exc.messages)
        else:
            messages.success(request, "Comment posted.")
            if _is_htmx(request):
                return _thread(request, concern)
            return redirect(f"{concern.get_absolute_url()}#comment-{comment.pk}")
    else:
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        draft = selectors.Draft(target, request.POST.get("body", ""), errors)
    return _refused(request, concern, draft)


@login_required
@require_POST
def comment_edit(request: HttpRequest, comment_id: uuid.UUID) -> HttpResponse:
    comment = selectors.get_comment_for_user(request.user, comment_id, "concerns.edit_comment")
    concern = comment.concern
    form = CommentEditForm(request.POST)
    target = f"edit:{comment.pk}"
    if form.is_valid():
        try:
            saved = services.comment_edit(
                actor=request.user,
                comment=comment,
                body=form.cleaned_data["body"],
                version=form.cleaned_data["version"],
            )
        except services.EditConflict as conflict:
            draft = selectors.Draft(
                target,
                form.cleaned_data["body"],
                [
                    "This comment changed after you opened it (it is now version "
                    f"{conflict.current.version}). Nothing was overwritten: compare the "
                    "current text with yours, then save again."
                ],
                current=conflict.current,
            )
            return _refused(request, concern, draft, comment=conflict.current, status=409)
        except ValidationError as exc:
            draft = selectors.Draft(target, form.cleaned_data["body"], exc.messages)
        else:
            if saved.version == form.cleaned_data["version"]:
                messages.info(request, "Nothing changed.")
            else:
                messages.success(request, "Comment updated; the earlier text is in its history.")
            if _is_htmx(request):
                return _thread(request, concern)
            return redirect(f"{concern.get_absolute_url()}#comment-{comment.pk}")
    else:
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        draft = selectors.Draft(target, request.POST.get("body", ""), errors)
    return _refused(request, concern, draft, comment=comment)


@login_required
@require_GET
def comment_history(request: HttpRequest, comment_id: uuid.UUID) -> HttpResponse:
    comment = selectors.get_comment_for_user(request.user, comment_id)
    template = "concerns/comment_history.html"
    if _is_htmx(request):
        template += "#revisions"
    return render(
        request,
        template,
        {
            "concern": comment.concern,
            "comment": comment,
            "revisions": selectors.comment_history(comment),
        },
    )
