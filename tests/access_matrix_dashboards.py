"""The authorization matrix of the access dashboards (merged into ``tests.access_matrix.MATRIX``).

* Clinic dashboard and its CSV tables: ``view`` over the clinic (``own`` Oakland, ``other``
  Richmond): everyone who can view the clinic's committee; another clinic's answers 404.
* Chart evidence for a concern (POST): ``seat`` on the clinic's PPC, where the concern would be
  raised (a regional admin sees the dashboard but holds no seat there: 403). The matrix posts
  no table key, so a permitted request answers 404 (no such table).
* Region dashboard, its CSV tables and its chart evidence: ``region_ledger`` (regional admins
  and regional committee members; 403 for everyone else). Both region people hold a seat on
  the regional committee, so the evidence POST reaches the missing-table 404 too.
* The aggregate-only counts upload: the data steward only (``steward``, as the imports).
"""

from __future__ import annotations

from typing import Any

from tests.access_matrix import Entry, _clinic
from tests.access_matrix_access import AccessEntry

CLINIC_SCOPES = ("own", "other")
TABLE = "month.follow_up_sb221"


def _clinic_table(world: Any, scope: str) -> dict[str, Any]:
    return {**_clinic(world, scope), "key": TABLE}


def _region_table(world: Any, scope: str) -> dict[str, Any]:
    return {"key": TABLE}


EXTRA_MATRIX: dict[str, Entry] = {
    "access:clinic-dashboard": Entry("view", {"GET": 200}, CLINIC_SCOPES, _clinic),
    "access:clinic-table-csv": Entry("view", {"GET": 200}, CLINIC_SCOPES, _clinic_table),
    "access:clinic-evidence": Entry("seat", {"POST": 404}, CLINIC_SCOPES, _clinic),
    "access:region-dashboard": Entry("region_ledger", {"GET": 200}),
    "access:region-table-csv": Entry("region_ledger", {"GET": 200}, kwargs=_region_table),
    "access:region-evidence": Entry("region_ledger", {"POST": 404}),
    "access:counts-upload": AccessEntry("steward", {"GET": 200, "POST": 422}),
}
