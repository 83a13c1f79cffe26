"""Reads for evidence files: the concern page's evidence list, and the one fetch that every
file view goes through."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.http import Http404
from django.urls import reverse

from commonground.concerns.models import Attachment, Concern, IdentityMode
from commonground.concerns.selectors import get_concern_for_user
from commonground.concerns.services.attachments import (
    MAX_PER_CONCERN,
    MAX_PER_UPLOAD,
    max_size_label,
    size_label,
)
from commonground.concerns.sniff import ACCEPT_ATTRIBUTE, ACCEPTED_LABELS, LABEL_BY_CONTENT_TYPE
from commonground.core.permissions import allowed, authorise


def get_attachment_for_user(
    user: Any,
    concern_id: uuid.UUID,
    attachment_id: uuid.UUID,
    perm: str = "concerns.view_attachment",
) -> Attachment:
    """The file, when ``user`` may see its concern (404 otherwise, as for a missing one) and
    holds ``perm`` on the file (403). A file of another concern answers 404."""
    concern = get_concern_for_user(user, concern_id)
    attachment = Attachment.objects.filter(pk=attachment_id, concern=concern).first()
    if attachment is None:
        raise Http404
    attachment.concern = concern  # already fetched, with its committee
    authorise(
        user,
        attachment,
        view_perm="concerns.view_attachment",
        perm=perm,
        clinic_id=concern.committee.clinic_id,
    )
    return attachment


@dataclass(frozen=True)
class EvidenceItem:
    id: uuid.UUID
    name: str
    kind: str
    size: str
    added_on: dt.date
    uploader: str  # empty unless the concern is named
    download_url: str
    remove_url: str  # empty unless this person may remove it


@dataclass(frozen=True)
class EvidencePanel:
    concern: Concern
    items: list[EvidenceItem]
    can_add: bool
    room: int  # how many more files the concern can hold
    max_files: int = MAX_PER_UPLOAD
    accepted: str = ACCEPTED_LABELS
    accept: str = ACCEPT_ATTRIBUTE

    @property
    def max_size(self) -> str:
        return max_size_label()


def evidence_panel(user: Any, concern: Concern) -> EvidencePanel:
    """The concern's files as ``user`` sees them. One query, however many files.

    Who uploaded a file is shown only on a named concern: on a confidential one it would
    often be the raiser, and an anonymous one's files record no one.
    """
    named = concern.identity_mode == IdentityMode.NAMED
    files = Attachment.objects.filter(concern=concern).order_by("uploaded_on", "display_name")
    if named:
        files = files.select_related("uploaded_by")
    items: list[EvidenceItem] = []
    for attachment in files:
        attachment.concern = concern  # spare the rules a query per file
        kwargs = {"concern_id": concern.pk, "attachment_id": attachment.pk}
        may_remove = allowed(user, "concerns.remove_evidence", attachment)
        uploader = attachment.uploaded_by if named else None
        items.append(
            EvidenceItem(
                id=attachment.pk,
                name=attachment.display_name,
                kind=LABEL_BY_CONTENT_TYPE.get(attachment.content_type, "File"),
                size=size_label(attachment.size),
                added_on=attachment.uploaded_on,
                uploader=uploader.get_display_name() if uploader is not None else "",
                download_url=reverse("concerns:evidence-download", kwargs=kwargs),
                remove_url=reverse("concerns:evidence-remove", kwargs=kwargs) if may_remove else "",
            )
        )
    return EvidencePanel(
        concern=concern,
        items=items,
        can_add=allowed(user, "concerns.add_evidence", concern),
        room=max(MAX_PER_CONCERN - len(items), 0),
    )
