"""The authorization matrix of the region view and cross-clinic patterns (merged into
``tests.access_matrix.MATRIX``).

The region view and its CSV export use the shared ``region_ledger`` need: regional admins and
members of the regional committee (the data steward among the matrix roles). Three needs
are added here by a subclass of ``Entry``, so the shared table needs no change:

* ``region_merge``: merging concerns into a new pattern, for regional admins and the
  regional committee's co-chairs. Among the matrix roles only the regional admin: 403 for
  everyone else (the data steward sees the region but does not merge).
* ``pattern_view``: a pattern's page. Scope ``region`` is a pattern of the matrix's region:
  the regional admin and the data steward see it; everyone else gets 404, as if it did not
  exist. Scope ``other`` is a pattern of another region: 404 for every role.
* ``pattern_edit``: adding or removing a pattern's concerns. Like ``pattern_view``, and then
  403 for a region person who does not merge (the data steward).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tests.access_matrix import ANONYMOUS, LOGIN, Entry

REGION_PEOPLE = ("regional_admin", "data_steward")
MERGERS = ("regional_admin",)
PATTERN_SCOPES = ("region", "other")


@dataclass(frozen=True)
class RegionEntry(Entry):
    def expected(self, role: str, scope: str, method: str) -> int:
        if self.need not in ("region_merge", "pattern_view", "pattern_edit"):
            return super().expected(role, scope, method)
        if role == ANONYMOUS:
            return LOGIN
        if method not in self.ok:
            return 405
        if self.need == "region_merge":
            return self.ok[method] if role in MERGERS else 403
        if scope != "region" or role not in REGION_PEOPLE:
            return 404
        if self.need == "pattern_edit" and role not in MERGERS:
            return 403
        return self.ok[method]


def _pattern(world: Any, scope: str) -> dict[str, Any]:
    """A pattern linking a concern at Oakland and one at Richmond (scope ``region``), or one
    of another region with its own clinic (scope ``other``). Built once per test."""
    cache = world.__dict__.setdefault("_patterns", {})
    if scope not in cache:
        from commonground.concerns.models import Concern, CrossClinicPattern
        from tests.factories import ClinicFactory, CommitteeFactory, RegionFactory

        if scope == "region":
            region, committees = world.region, [world.ppc_a, world.ppc_b]
        else:
            region = RegionFactory(name="Southern California", slug="southern-california")
            clinic = ClinicFactory(region=region, name="San Diego", slug="san-diego")
            committees = [CommitteeFactory(clinic=clinic, region=region, slug="ppc-san-diego")]
        pattern = CrossClinicPattern.objects.create(
            region=region,
            title=f"Return visits too far out ({scope})",
            category="access",
            created_by=world.person("regional_admin"),
            created_on=dt.date(2026, 11, 16),
        )
        for committee in committees:
            Concern.objects.create(
                committee=committee,
                title=f"Return visits too far out at {committee.name}",
                description="Follow-ups are offered after 30 business days.",
                category="access",
                patient_impact="Long gaps between sessions.",
                identity_mode="anonymous",
                raised_on=dt.date(2026, 11, 2),
                acknowledge_by=dt.date(2026, 11, 9),
                respond_by=dt.date(2026, 12, 1),
                not_a_grievance=True,
                pattern=pattern,
            )
        cache[scope] = pattern
    return {"pattern_id": cache[scope].pk}


EXTRA_MATRIX: dict[str, Entry] = {
    # Region view of concerns: themes, clock compliance, clusters, patterns; its CSV export.
    "concerns:region-concerns": Entry("region_ledger", {"GET": 200}),
    "concerns:region-compliance-csv": Entry("region_ledger", {"GET": 200}),
    # Merging a cluster into a new pattern (POSTed nothing: the refusal page, 422).
    "concerns:pattern-create": RegionEntry("region_merge", {"POST": 422}),
    "concerns:pattern-detail": RegionEntry(
        "pattern_view", {"GET": 200}, PATTERN_SCOPES, _pattern, object_scoped=True
    ),
    "concerns:pattern-concerns": RegionEntry(
        "pattern_edit", {"POST": 422}, PATTERN_SCOPES, _pattern, object_scoped=True
    ),
}
