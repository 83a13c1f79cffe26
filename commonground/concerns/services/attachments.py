"""Evidence files on concerns.

Every file is checked whole before any is stored: its size, what its bytes really are
(``commonground.concerns.sniff``), and for a CSV, patient identifiers in its text. Files go
to the private storage under random names; the uploaded name is kept only as display text.

Identity rules follow the concern's. An anonymous concern's files record no uploader, and
their audit events name no actor and carry no request id (which would lead to the access
log). A confidential concern's file events name no actor either: regional admins read the
audit trail, and it must not tie the concern to its raiser; and while a confidential
concern waits for the daily announcement (``Concern.announced`` is False), its files are
audited only with that announcement, so no event sits next to the raiser's session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from commonground.audit.context import current_request_id
from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.models import (
    Attachment,
    Concern,
    IdentityMode,
    PendingAnonymousConcern,
)
from commonground.concerns.phi import find_patient_identifiers
from commonground.concerns.sniff import Rejected, Sniffed, clean_name, sniff, strip_metadata
from commonground.core.permissions import allowed

MAX_PER_UPLOAD = 5
MAX_PER_CONCERN = 20


def size_label(size: int) -> str:
    """A size as people read it: "812 KB", "10 MB"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def max_size_label() -> str:
    return size_label(settings.COMMONGROUND_ATTACHMENT_MAX_BYTES)


@dataclass(frozen=True)
class PreparedFile:
    """An upload that passed every check, ready to store."""

    name: str
    data: bytes
    sniffed: Sniffed
    sha256: str


def prepare_upload(upload: Any) -> PreparedFile:
    """Check one uploaded file; ``ValidationError`` naming the file says what is wrong."""
    original = str(getattr(upload, "name", "") or "")
    shown = clean_name(original, "") or "The file"
    limit = settings.COMMONGROUND_ATTACHMENT_MAX_BYTES
    too_big = (
        f"“{shown}” is larger than {max_size_label()}, the most a file may be. "
        "Make it smaller (a PDF of fewer pages, a smaller picture) or split it."
    )
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(too_big)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)  # never more than the limit in memory
    if hasattr(upload, "seek"):
        upload.seek(0)  # a form that checked the file hands it on to the service
    if len(data) > limit:
        raise ValidationError(too_big)
    try:
        sniffed = sniff(data)
    except Rejected as exc:
        raise ValidationError(f"“{shown}”: {exc.reason}") from None
    if sniffed.text is not None:
        findings = find_patient_identifiers(sniffed.text)
        if findings:
            kinds = ", ".join(sorted({finding.kind for finding in findings}))
            raise ValidationError(
                f"“{shown}” looks like it holds patient information ({kinds}). Remove those "
                "columns or values, or share a summary without identifiers."
            )
    data = strip_metadata(sniffed.kind, data)
    return PreparedFile(
        name=clean_name(original, sniffed.extension),
        data=data,
        sniffed=sniffed,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def prepare_uploads(uploads: Iterable[Any]) -> list[PreparedFile]:
    """Check every file of one upload; one ``ValidationError`` lists every problem.

    Takes uploaded files, or ``PreparedFile`` values that a form already checked (so a
    large CSV is not scanned twice)."""
    files = [upload for upload in uploads if upload]
    if len(files) > MAX_PER_UPLOAD:
        raise ValidationError(
            f"Attach at most {MAX_PER_UPLOAD} files at a time ({len(files)} were chosen)."
        )
    prepared: list[PreparedFile] = []
    errors: list[str] = []
    for upload in files:
        if isinstance(upload, PreparedFile):  # checked already, by the form
            prepared.append(upload)
            continue
        try:
            prepared.append(prepare_upload(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return prepared


def _check_room(existing: int, adding: int) -> None:
    if existing + adding > MAX_PER_CONCERN:
        room = max(MAX_PER_CONCERN - existing, 0)
        raise ValidationError(
            f"A concern holds at most {MAX_PER_CONCERN} files. This one has {existing}, so "
            f"{room} more can be attached."
        )


def _store(
    prepared: PreparedFile,
    *,
    day: dt.date,
    concern: Concern | None = None,
    pending: PendingAnonymousConcern | None = None,
    uploaded_by: Any = None,
) -> Attachment:
    attachment = Attachment(
        concern=concern,
        pending=pending,
        display_name=prepared.name,
        content_type=prepared.sniffed.content_type,
        size=len(prepared.data),
        sha256=prepared.sha256,
        uploaded_by=uploaded_by,
        uploaded_on=day,
    )
    # The storage name is random (models._attachment_path); this name is never used.
    attachment.file.save("evidence", ContentFile(prepared.data), save=False)
    attachment.save()
    return attachment


def hides_people(concern: Concern) -> bool:
    """Whether events about this concern's files must name no one."""
    return concern.identity_mode != IdentityMode.NAMED


@contextmanager
def _without_request_id(hide: bool) -> Iterator[None]:
    """The request id leads to the access log (address, time, session): left out when the
    event must not point at a person."""
    if not hide:
        yield
        return
    token = current_request_id.set("")
    try:
        yield
    finally:
        current_request_id.reset(token)


def _audit(
    action: str, actor: Any, concern: Concern, attachment: Attachment, **changes: Any
) -> None:
    hide = hides_people(concern)
    with _without_request_id(hide):
        audit_record(
            action=action,
            actor=None if hide else actor,
            object_type="concerns.attachment",
            object_id=str(attachment.pk),
            object_repr="evidence file" if hide else attachment.display_name,
            clinic_id=concern.committee.clinic_id,
            changes={"concern": str(concern.pk), **changes},
        )


def _added(attachment: Attachment) -> dict[str, Any]:
    return {
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


@transaction.atomic
def attachments_add(
    *, actor: Any, concern: Concern, uploads: Iterable[Any], today: dt.date | None = None
) -> list[Attachment]:
    """Attach up to five files to an open concern (twenty in all). All or none are stored."""
    prepared = prepare_uploads(uploads)
    if not prepared:
        return []
    # The lock makes the twenty-file count hold against two uploads at once.
    locked = Concern.all_objects.select_for_update().select_related("committee").get(pk=concern.pk)
    if not locked.is_open:
        raise ValidationError("Evidence can be added only while the concern is open.")
    _check_room(Attachment.objects.filter(concern=locked).count(), len(prepared))
    day = today or timezone.localdate()
    # Nobody is recorded against an anonymous concern's files, whoever adds them.
    uploaded_by = None if locked.identity_mode == IdentityMode.ANONYMOUS else actor
    announced = getattr(locked, "announced", True)
    stored = []
    for item in prepared:
        attachment = _store(item, day=day, concern=locked, uploaded_by=uploaded_by)
        if announced:  # otherwise audited by attachments_announce, in the daily batch
            _audit(AuditEvent.Action.CREATE, actor, locked, attachment, **_added(attachment))
        stored.append(attachment)
    return stored


def attachment_add(
    *, actor: Any, concern: Concern, upload: Any, today: dt.date | None = None
) -> Attachment:
    """Attach one file; see ``attachments_add``."""
    stored = attachments_add(actor=actor, concern=concern, uploads=[upload], today=today)
    if not stored:
        raise ValidationError("Choose a file to attach.")
    return stored[0]


@transaction.atomic
def attachments_for_pending(
    pending: PendingAnonymousConcern, uploads: Iterable[Any], today: dt.date | None = None
) -> list[Attachment]:
    """Files sent with an anonymous concern, held on its pending row until the release.

    No uploader and no audit event now: an event at submission time would carry the
    moment and the request of the raiser's session. The release audits them
    (``attachments_release``), in its daily batch, with no actor.
    """
    prepared = prepare_uploads(uploads)
    _check_room(Attachment.objects.filter(pending=pending).count(), len(prepared))
    day = today or pending.submitted_on
    return [_store(item, day=day, pending=pending, uploaded_by=None) for item in prepared]


def attachments_release(pending: PendingAnonymousConcern, concern: Concern) -> int:
    """Move a pending anonymous concern's files to the released concern, and audit them.
    Called by ``release_anonymous_concerns`` inside its transaction."""
    moved = list(Attachment.objects.filter(pending=pending).order_by("pk"))
    if not moved:
        return 0
    Attachment.objects.filter(pk__in=[a.pk for a in moved]).update(concern=concern, pending=None)
    for attachment in moved:
        attachment.concern, attachment.pending = concern, None
        _audit(AuditEvent.Action.CREATE, None, concern, attachment, **_added(attachment))
    return len(moved)


def attachment_download_record(*, actor: Any, attachment: Attachment) -> None:
    """Audit a download as a sensitive read. The reader is named, as for every read; nothing
    about the uploader is written, and everyone's downloads are recorded alike, so the trail
    cannot tell an uploader fetching their own file from anyone else."""
    concern = attachment.concern
    if concern is None:
        return
    audit_record(
        action=AuditEvent.Action.VIEW,
        actor=actor,
        object_type="concerns.attachment",
        object_id=str(attachment.pk),
        object_repr="evidence file" if hides_people(concern) else attachment.display_name,
        clinic_id=concern.committee.clinic_id,
        changes={"concern": str(concern.pk), "download": True},
    )


def attachments_announce(concern: Concern) -> int:
    """Audit the files of a confidential concern as the daily batch announces it (with no
    actor, like the concern itself). Called by ``_announce_confidential``."""
    files = list(Attachment.objects.filter(concern=concern).order_by("pk"))
    for attachment in files:
        _audit(AuditEvent.Action.CREATE, None, concern, attachment, **_added(attachment))
    return len(files)


@transaction.atomic
def attachment_remove(*, actor: Any, attachment: Attachment) -> None:
    """Remove a file: its uploader on a named, open concern, or the responsible co-chairs.
    The stored bytes are deleted once the removal is committed."""
    if not allowed(actor, "concerns.remove_evidence", attachment):
        raise PermissionDenied
    concern = attachment.concern
    if concern is None:  # a pending anonymous concern's files are not reachable here
        raise PermissionDenied
    name, storage = attachment.file.name, attachment.file.storage
    _audit(AuditEvent.Action.DELETE, actor, concern, attachment, sha256=attachment.sha256)
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))
