"""Access-matrix entries for evidence files on concerns (merged into ``tests.access_matrix``).

* upload: any seat on the concern's committee (observers too), as for co-signing; the
  matrix posts no file, so a permitted request re-renders the upload form with its error
  (422).
* download: whoever sees the concern.
* remove, need ``remove_evidence``: the file's uploader (on a named, open concern) and the
  concern's responsible co-chairs; anyone else who sees the concern gets 403. The matrix's
  files are uploaded by the scope concern's raiser: Carmen (the "clinician" role) at
  Oakland, Kenji (no matrix role) at Richmond, Dana (data steward) on the regional
  committee, whose co-chairs are not matrix roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.access_matrix import (
    ANONYMOUS,
    COCHAIRS,
    COMMITTEE_SCOPES,
    LOGIN,
    Entry,
    _concern,
    can_view,
)

# Scope -> the matrix role that uploaded the file (None: no matrix role did).
UPLOADER_ROLE = {"own": "clinician", "other": None, "region": "data_steward"}
UPLOADER_PERSONA = {"own": "clinician_a", "other": "clinician_b", "region": "data_steward"}


@dataclass(frozen=True)
class EvidenceEntry(Entry):
    def expected(self, role: str, scope: str, method: str) -> int:
        if self.need != "remove_evidence":
            return super().expected(role, scope, method)
        if method not in self.ok:
            return LOGIN if role == ANONYMOUS else 405
        if role == ANONYMOUS:
            return LOGIN
        if not can_view(role, scope):
            return 404
        if role == UPLOADER_ROLE[scope] or (scope == "own" and role in COCHAIRS):
            return self.ok[method]
        return 403


def _attachment(world: Any, scope: str) -> dict[str, Any]:
    """A PDF on the scope's concern, uploaded by its raiser (built once per test)."""
    kwargs = _concern(world, scope)
    cache = world.__dict__.setdefault("_attachments", {})
    if scope not in cache:
        from django.core.files.uploadedfile import SimpleUploadedFile

        from commonground.concerns.models import Concern
        from commonground.concerns.services.attachments import attachment_add

        cache[scope] = attachment_add(
            actor=world.person(UPLOADER_PERSONA[scope]),
            concern=Concern.objects.select_related("committee").get(pk=kwargs["concern_id"]),
            upload=SimpleUploadedFile("waits.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
        )
    return {**kwargs, "attachment_id": cache[scope].pk}


S = COMMITTEE_SCOPES

EXTRA_MATRIX: dict[str, Entry] = {
    "concerns:evidence-upload": EvidenceEntry("seat", {"POST": 422}, S, _concern, True),
    "concerns:evidence-download": EvidenceEntry("view", {"GET": 200}, S, _attachment, True),
    "concerns:evidence-remove": EvidenceEntry(
        "remove_evidence", {"POST": 302}, S, _attachment, True
    ),
}
ENTRIES = EXTRA_MATRIX  # the name the other apps' matrix files use
