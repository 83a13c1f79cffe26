"""Named permissions for regions, clinics and committees (used by views and templates).

Clinic PPCs are visible to people who hold a seat at that clinic; the regional committee
and the summit are visible to everyone with a seat in the region. Regional admins read
every committee of their region. Managing a committee is for its co-chairs and regional
admins.
"""

from __future__ import annotations

from typing import Any

import rules

from commonground.organizations.access import access_profile
from commonground.organizations.models import Clinic, Committee


@rules.predicate
def is_regional_admin(user: Any) -> bool:
    return access_profile(user).is_regional_admin


@rules.predicate
def can_view_clinic(user: Any, clinic: Clinic | None) -> bool:
    if clinic is None:
        return False
    profile = access_profile(user)
    return clinic.pk in profile.clinic_ids or clinic.region_id in profile.admin_region_ids


@rules.predicate
def can_view_committee(user: Any, committee: Committee | None) -> bool:
    if committee is None:
        return False
    profile = access_profile(user)
    if committee.region_id in profile.admin_region_ids:
        return True
    if committee.clinic_id is not None:
        return committee.clinic_id in profile.clinic_ids
    return committee.region_id in profile.region_ids


@rules.predicate
def is_committee_cochair(user: Any, committee: Committee | None) -> bool:
    return committee is not None and committee.pk in access_profile(user).cochair_committee_ids


@rules.predicate
def is_admin_of_committee_region(user: Any, committee: Committee | None) -> bool:
    return committee is not None and committee.region_id in access_profile(user).admin_region_ids


can_manage_committee = can_view_committee & (is_committee_cochair | is_admin_of_committee_region)

rules.add_perm("organizations.view_clinic", can_view_clinic)
rules.add_perm("organizations.view_committee", can_view_committee)
rules.add_perm("organizations.manage_committee", can_manage_committee)
rules.add_perm("organizations.export_roster", can_manage_committee)
