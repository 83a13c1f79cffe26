"""The authorization matrix of the access app (merged into ``tests.access_matrix.MATRIX``).

Imports are row-level data, so one need is added by a subclass of ``Entry`` (the shared table
needs no change):

* ``steward``: the data steward only. Everyone else who is signed in, regional admins and
  staff included, gets 403 (and the refusal is audited); a data steward of another region
  would get 404 for this region's jobs (tested in ``commonground/access/tests``).

The job lives in the region (it belongs to no clinic committee), so its scope is ``region``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.access_matrix import ANONYMOUS, LOGIN, Entry

# The access app's own needs: who passes (everyone else signed in gets 403).
ROLES_BY_NEED = {
    "steward": ("data_steward",),
    "settings": ("regional_admin", "data_steward"),  # the region access settings
}


@dataclass(frozen=True)
class AccessEntry(Entry):
    def expected(self, role: str, scope: str, method: str) -> int:
        if self.need not in ROLES_BY_NEED:
            return super().expected(role, scope, method)
        if role == ANONYMOUS:
            return LOGIN
        if method not in self.ok:
            return 405
        return self.ok[method] if role in ROLES_BY_NEED[self.need] else 403


def _import_job(world: Any, scope: str) -> dict[str, Any]:
    """An invalid import of the region with a stored error report (built once per test)."""
    if "_import_job" not in world.__dict__:
        from django.core.files.base import ContentFile
        from django.core.files.storage import storages

        from commonground.access.models import ImportJob

        job = ImportJob.objects.create(
            region=world.region,
            uploaded_by=world.person("data_steward"),
            original_name="extract.csv",
            size=10,
            sha256="0" * 64,
            state=ImportJob.State.INVALID,
            rows=1,
            rejected=1,
            error_report_lines=1,
        )
        job.error_report = storages["private"].save(
            f"access/imports/{job.pk}/errors.csv",
            ContentFile(b"line,column,value,reason\n2,status,x,unmapped code\n"),
        )
        job.save(update_fields=["error_report"])
        world.__dict__["_import_job"] = job
    return {"job_id": world.__dict__["_import_job"].pk}


EXTRA_MATRIX: dict[str, Entry] = {
    # The list and upload form; POSTed nothing, the form re-renders with its errors.
    "access:import-list": AccessEntry("steward", {"GET": 200, "POST": 422}),
    # The extract's format and its template: no data, for whoever builds an extract.
    "access:extract-format": AccessEntry("signed_in", {"GET": 200}),
    "access:extract-template": AccessEntry("signed_in", {"GET": 200}),
    "access:import-detail": AccessEntry(
        "steward", {"GET": 200}, ("region",), _import_job, object_scoped=True
    ),
    "access:import-errors": AccessEntry(
        "steward", {"GET": 200}, ("region",), _import_job, object_scoped=True
    ),
}
