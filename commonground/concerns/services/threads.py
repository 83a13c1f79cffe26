"""Writes for a concern's discussion thread: post, reply, edit. Nothing is ever deleted;
withdrawing a comment is an edit, and every earlier text is kept as a revision.

Each write is atomic and audited with its author and version, never its text. Mentions
reach only people who may see the concern; any other name stays plain text and the author
is not told, so a comment cannot be used to learn whether someone exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.mentions import find_mentions
from commonground.concerns.models import Comment, CommentRevision, Concern, Status
from commonground.concerns.phi import find_patient_identifiers
from commonground.core.permissions import allowed
from commonground.notifications.services import notify
from commonground.organizations.access import access_profile

BODY_MAX = 10_000
CLOSED = "This concern is closed: its discussion is kept as it was and takes no new comments."


class EditConflict(Exception):
    """The comment changed after the person opened it; ``current`` is how it is now."""

    def __init__(self, current: Comment) -> None:
        super().__init__("The comment changed while you were editing it.")
        self.current = current


def _check_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError("Write something first.")
    if len(body) > BODY_MAX:
        raise ValidationError(f"A comment is at most {BODY_MAX:,} characters.")
    findings = find_patient_identifiers(body)
    if findings:
        kinds = ", ".join(sorted({f.kind for f in findings}))
        raise ValidationError(
            f"This looks like patient information ({kinds}). Remove it: discuss the practice "
            "problem without identifying anyone."
        )
    return body


def resolve_mentions(concern: Concern, body: str) -> list[Any]:
    """The people ``body`` mentions who may see ``concern``; every other name is ignored."""
    names = find_mentions(body)
    if not names:
        return []
    match = Q()
    for name in names:
        match |= Q(username__iexact=name)
    candidates = get_user_model().objects.filter(match, is_active=True).order_by("pk")
    return [person for person in candidates if allowed(person, "concerns.view_concern", concern)]


def _notify_mentioned(comment: Comment, people: Iterable[Any], actor: Any) -> None:
    recipients = [person for person in people if person.pk != actor.pk]
    if not recipients:
        return
    concern = comment.concern
    # The version is in the key: an edit that adds a name tells that person once, and the
    # people already mentioned are not told again (they are not passed in).
    notify(
        recipients=recipients,
        kind="mention",
        subject=f"{actor.get_display_name()} mentioned you: {concern.title}"[:200],
        body="You were mentioned in the discussion of a concern. Open it to read and reply.",
        link=f"{concern.get_absolute_url()}#comment-{comment.pk}",
        dedup_key=f"mention:{comment.pk}:v{comment.version}",
        clinic_id=concern.committee.clinic_id,
    )


def _audit(action: str, actor: Any, comment: Comment, concern: Concern) -> None:
    audit_record(
        action=action,
        actor=actor,
        object_type="concerns.comment",
        object_id=str(comment.pk),
        object_repr="comment",
        clinic_id=concern.committee.clinic_id,
        changes={"version": comment.version, "concern": str(concern.pk)},
    )


@transaction.atomic
def comment_post(
    *,
    actor: Any,
    concern: Concern,
    body: str,
    parent_id: uuid.UUID | None = None,
) -> Comment:
    """Post a comment, or a reply to ``parent_id``.

    1. Refuse a closed concern, a person without a seat, and text with patient identifiers.
    2. A reply to a reply is attached to the top-level comment: one level of nesting.
    3. Store, link the mentioned people who may see the concern, audit, notify them.
    """
    if concern.status == Status.CLOSED:
        raise ValidationError(CLOSED)
    if not allowed(actor, "concerns.comment", concern):
        raise PermissionDenied
    body = _check_body(body)
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(pk=parent_id, concern=concern).first()
        if parent is None:
            raise ValidationError("The comment you replied to is not in this discussion.")
        if parent.parent_id is not None:
            parent = Comment.objects.get(pk=parent.parent_id)
    owner_ids = (concern.committee_id, concern.escalated_to_id)
    sides = access_profile(actor).side_by_committee
    comment = Comment.objects.create(
        concern=concern,
        parent=parent,
        author=actor,
        author_side=next((sides[pk] for pk in owner_ids if pk in sides), ""),
        body=body,
        created_at=timezone.now(),
    )
    mentioned = resolve_mentions(concern, body)
    comment.mentions.set(mentioned)
    _audit(AuditEvent.Action.CREATE, actor, comment, concern)
    _notify_mentioned(comment, mentioned, actor)
    return comment


@transaction.atomic
def comment_edit(*, actor: Any, comment: Comment, body: str, version: int) -> Comment:
    """Change the text of one's own comment.

    ``version`` is the one the person read: if the comment has moved on since, nothing is
    written and EditConflict carries the current text. Otherwise the earlier text becomes
    a revision, the version goes up, and only people newly mentioned are told.
    """
    current = (
        Comment.objects.select_for_update()
        .select_related("concern", "concern__committee")
        .get(pk=comment.pk)
    )
    concern = current.concern
    if concern.status == Status.CLOSED:
        raise ValidationError(CLOSED)
    if current.author_id != actor.pk:
        raise PermissionDenied
    if version != current.version:
        raise EditConflict(current)
    body = _check_body(body)
    if body == current.body:
        return current
    CommentRevision.objects.create(
        comment=current,
        version=current.version,
        body=current.body,
        written_at=current.edited_at or current.created_at,
    )
    current.body = body
    current.version += 1
    current.edited_at = timezone.now()
    current.save(update_fields=["body", "version", "edited_at"])
    before = set(current.mentions.values_list("pk", flat=True))
    mentioned = resolve_mentions(concern, body)
    current.mentions.set(mentioned)
    _audit(AuditEvent.Action.UPDATE, actor, current, concern)
    _notify_mentioned(current, [p for p in mentioned if p.pk not in before], actor)
    return current
