"""Reads for a concern's discussion thread.

The thread is read in a fixed number of queries whatever its length: the comments with
their authors and revision counts, their mentions, and the people who can be mentioned.
Nothing here reads or shows who raised the concern: a comment is a named post, and no
comment is marked as the raiser's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from commonground.concerns.models import Comment, CommentRevision, Concern, IdentityMode, Status
from commonground.core.permissions import allowed, authorise
from commonground.organizations.models import Membership


@dataclass
class Draft:
    """Text a person sent that was not saved (refused, or a conflicting edit), shown again
    in the form it came from so nothing they typed is lost."""

    target: str  # "new", "reply:<comment id>" or "edit:<comment id>"
    body: str
    errors: list[str] = field(default_factory=list)
    # For a conflicting edit: the comment as it is now, to compare with ``body``.
    current: Comment | None = None

    @property
    def kind(self) -> str:
        return self.target.partition(":")[0]

    @property
    def ref(self) -> str:
        """The comment replied to or edited; empty for a new comment."""
        return self.target.partition(":")[2]


@dataclass
class ThreadComment:
    comment: Comment
    can_edit: bool
    revision_count: int
    mentions: list[Any]
    replies: list[ThreadComment] = field(default_factory=list)
    reply_draft: Draft | None = None
    edit_draft: Draft | None = None

    @property
    def edited(self) -> bool:
        return self.comment.edited_at is not None

    @property
    def reply_key(self) -> str:
        """A prefix that keeps the ids of this comment's reply form unique on the page."""
        return f"reply-{self.comment.pk}"


@dataclass
class Thread:
    concern: Concern
    comments: list[ThreadComment]
    count: int
    can_post: bool
    closed: bool
    # People the hint lists: those seated on the committee (and on the one it went to).
    # Empty on a confidential or anonymous concern: no name is printed on its page unless
    # that person chose to comment, so a roster cannot be mistaken for a clue.
    mentionable: list[Any]
    shows_name_warning: bool
    draft: Draft | None = None  # for a new top-level comment

    def attach(self, draft: Draft) -> Thread:
        """Put ``draft`` back on the form it came from."""
        if draft.target == "new":
            self.draft = draft
            return self
        kind, pk = draft.kind, draft.ref
        for entry in self.comments:
            for item in (entry, *entry.replies):
                if str(item.comment.pk) == pk:
                    if kind == "reply":
                        # Replies to a reply are answered under its top-level comment.
                        entry.reply_draft = draft
                    else:
                        item.edit_draft = draft
                    return self
        self.draft = draft
        return self


def mentionable_people(concern: Concern) -> QuerySet[Any]:
    """People seated on the concern's committee or on the committee it was escalated to."""
    from django.contrib.auth import get_user_model

    committees = [concern.committee_id]
    if concern.escalated_to_id:
        committees.append(concern.escalated_to_id)
    seats = Membership.objects.current().filter(committee_id__in=committees)
    return (
        get_user_model()
        .objects.filter(pk__in=seats.values("person_id"), is_active=True)
        .order_by("last_name", "first_name", "username")
    )


def concern_thread(user: Any, concern: Concern) -> Thread:
    """The thread of ``concern`` as ``user`` sees it (they may view the concern)."""
    rows = list(
        Comment.objects.filter(concern=concern)
        .select_related("author")
        .prefetch_related("mentions")
        .annotate(revision_count=Count("revisions"))
        .order_by("created_at", "id")
    )
    can_post = allowed(user, "concerns.comment", concern)
    closed = concern.status == Status.CLOSED
    named = concern.identity_mode == IdentityMode.NAMED
    top: dict[uuid.UUID, ThreadComment] = {}
    ordered: list[ThreadComment] = []
    for row in rows:
        entry = ThreadComment(
            comment=row,
            can_edit=not closed and row.author_id == user.pk,
            revision_count=row.revision_count,
            mentions=sorted(row.mentions.all(), key=lambda p: p.get_display_name()),
        )
        parent = top.get(row.parent_id) if row.parent_id else None
        if parent is not None:
            parent.replies.append(entry)
        else:
            # A reply whose parent is itself a reply (or missing) still shows, at the top.
            top[row.pk] = entry
            ordered.append(entry)
    return Thread(
        concern=concern,
        comments=ordered,
        count=len(rows),
        can_post=can_post,
        closed=closed,
        mentionable=list(mentionable_people(concern)) if can_post and named else [],
        shows_name_warning=not named,
    )


def get_comment_for_user(
    user: Any, comment_id: uuid.UUID, perm: str = "concerns.view_comment"
) -> Comment:
    """A comment with its concern: 404 if the person may not see the concern, 403 if they
    may see it but lack ``perm``."""
    comment = (
        Comment.objects.select_related(
            "author", "concern", "concern__committee", "concern__committee__clinic"
        )
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        raise Http404
    authorise(
        user,
        comment,
        view_perm="concerns.view_comment",
        perm=perm,
        clinic_id=comment.concern.committee.clinic_id,
    )
    return comment


def comment_history(comment: Comment) -> list[CommentRevision]:
    """Earlier texts of the comment, newest first (the current text is on the comment)."""
    return list(CommentRevision.objects.filter(comment=comment).order_by("-version"))
