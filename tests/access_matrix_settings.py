"""The authorization matrix of the region access settings and the counts error reports
(merged into ``tests.access_matrix.MATRIX``).

* Region settings (calendar, parity thresholds, clinic codes): ``settings``, the region's
  regional admins and data stewards; everyone else who is signed in, staff included, gets 403
  (audited). The matrix posts no form data, so a permitted POST re-renders the form with its
  errors (422). Another region's settings answer 404 (tested in ``commonground/access/tests``).
  The closure calendar upload beside them (POST only) is theirs too.
* A weekly counts upload's error report: the data steward only (``steward``, as an import's
  error report); another region's steward gets 404 (tested beside the code).
"""

from __future__ import annotations

from typing import Any

from tests.access_matrix import Entry
from tests.access_matrix_access import AccessEntry


def _counts_run(world: Any, scope: str) -> dict[str, Any]:
    """A rejected counts upload of the region with a stored error report (built once)."""
    if "_counts_run" not in world.__dict__:
        from django.core.files.base import ContentFile
        from django.core.files.storage import storages

        from commonground.access.models import AggregateRun

        run = AggregateRun.objects.create(
            region=world.region,
            source="counts",
            state="invalid",
            requested_by=world.person("data_steward"),
            rows=1,
            rejected=1,
            error_report_lines=1,
        )
        run.error_report = storages["private"].save(
            f"access/counts/{run.pk}/errors.csv",
            ContentFile(b"line,column,value,reason\n2,week_start,2025-10-07,not a Monday\n"),
        )
        run.save(update_fields=["error_report"])
        world.__dict__["_counts_run"] = run
    return {"run_id": world.__dict__["_counts_run"].pk}


EXTRA_MATRIX: dict[str, Entry] = {
    "access:region-settings": AccessEntry("settings", {"GET": 200, "POST": 422}),
    # The clinic closure calendar upload (POST only): the same people as the settings.
    "access:region-closures": AccessEntry("settings", {"POST": 422}),
    "access:counts-errors": AccessEntry(
        "steward", {"GET": 200}, ("region",), _counts_run, object_scoped=True
    ),
}
