"""Who may import scheduling extracts: the data steward only (row-level data, section 3 of
issue 5). Regional admins and committee members never reach imports or their reports."""

from __future__ import annotations

from typing import Any

import rules

from commonground.access.models import AggregateRun, ImportJob
from commonground.organizations.access import access_profile
from commonground.organizations.models import Region


@rules.predicate
def is_data_steward(user: Any, region: Region | None = None) -> bool:
    """A data steward; of ``region`` when one is given."""
    regions = access_profile(user).steward_region_ids
    if region is None:
        return bool(regions)
    return region.pk in regions


@rules.predicate
def stewards_job_region(user: Any, job: ImportJob | None) -> bool:
    return job is not None and job.region_id in access_profile(user).steward_region_ids


rules.add_perm("access.import_extracts", is_data_steward)
rules.add_perm("access.view_import", stewards_job_region)


# Dashboards: aggregates only (suppressed), so the audience is wider than imports'.


@rules.predicate
def can_view_clinic_dashboard(user: Any, clinic: Any) -> bool:
    """Everyone who can view the clinic's committee (its seats and the regional admins)."""
    from commonground.organizations.rules import can_view_clinic

    return bool(can_view_clinic(user, clinic))


@rules.predicate
def can_view_region_dashboard(user: Any, region: Region | None) -> bool:
    """Regional admins and members of the region's regional committee."""
    from commonground.concerns.selectors.region import viewable_region_ids

    return region is not None and region.pk in viewable_region_ids(user)


rules.add_perm("access.view_clinic_dashboard", can_view_clinic_dashboard)
rules.add_perm("access.view_region_dashboard", can_view_region_dashboard)


# Region settings (calendar, parity thresholds, clinic code map) and the counts uploads.


@rules.predicate
def changes_region_settings(user: Any, region: Region | None) -> bool:
    """The region's regional admins and data stewards."""
    if region is None:
        return False
    profile = access_profile(user)
    return region.pk in profile.admin_region_ids | profile.steward_region_ids


@rules.predicate
def stewards_run_region(user: Any, run: AggregateRun | None) -> bool:
    return run is not None and run.region_id in access_profile(user).steward_region_ids


rules.add_perm("access.change_settings", changes_region_settings)
# A counts upload's error report: the data steward of its region, as an import's.
rules.add_perm("access.view_counts_run", stewards_run_region)
