"""Who may import scheduling extracts: the data steward only (row-level data, section 3 of
issue 5). Regional admins and committee members never reach imports or their reports."""

from __future__ import annotations

from typing import Any

import rules

from commonground.access.models import ImportJob
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
