"""Who may see and do what: one per-request access profile, read by every rule.

The profile is built with one query the first time a request asks for it and cached on the
user object, so permission checks in views and templates add no queries per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from commonground.organizations.models import Membership, Role

_CACHE_ATTR = "_commonground_access_profile"


@dataclass(frozen=True)
class AccessProfile:
    user_id: int | None
    region_ids: frozenset[int] = frozenset()
    clinic_ids: frozenset[int] = frozenset()
    committee_ids: frozenset[int] = frozenset()
    cochair_committee_ids: frozenset[int] = frozenset()
    admin_region_ids: frozenset[int] = frozenset()
    steward_region_ids: frozenset[int] = frozenset()
    side_by_committee: dict[int, str] = field(default_factory=dict)
    role_by_committee: dict[int, str] = field(default_factory=dict)

    @property
    def is_regional_admin(self) -> bool:
        return bool(self.admin_region_ids)

    @property
    def is_data_steward(self) -> bool:
        return bool(self.steward_region_ids)

    @property
    def is_manager(self) -> bool:
        return "management" in self.side_by_committee.values()

    def takes_part_in(self, committee_id: int) -> bool:
        """A seat on the committee that joins in its work (observers only watch)."""
        role = self.role_by_committee.get(committee_id)
        return role is not None and role != Role.UNION_REP


ANONYMOUS_PROFILE = AccessProfile(user_id=None)


def access_profile(user: Any) -> AccessProfile:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS_PROFILE
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    rows = (
        Membership.objects.active_on(timezone.localdate())
        .filter(person_id=user.pk)
        .values_list("committee_id", "committee__clinic_id", "committee__region_id", "role", "side")
    )
    regions: set[int] = set()
    clinics: set[int] = set()
    committees: set[int] = set()
    cochair: set[int] = set()
    admin_regions: set[int] = set()
    steward_regions: set[int] = set()
    sides: dict[int, str] = {}
    roles: dict[int, str] = {}
    for committee_id, clinic_id, region_id, role, side in rows:
        regions.add(region_id)
        committees.add(committee_id)
        sides[committee_id] = side
        roles[committee_id] = role
        if clinic_id is not None:
            clinics.add(clinic_id)
        if role == Role.CO_CHAIR:
            cochair.add(committee_id)
        elif role == Role.REGIONAL_ADMIN:
            admin_regions.add(region_id)
        elif role == Role.DATA_STEWARD:
            steward_regions.add(region_id)
    profile = AccessProfile(
        user_id=user.pk,
        region_ids=frozenset(regions),
        clinic_ids=frozenset(clinics),
        committee_ids=frozenset(committees),
        cochair_committee_ids=frozenset(cochair),
        admin_region_ids=frozenset(admin_regions),
        steward_region_ids=frozenset(steward_regions),
        side_by_committee=sides,
        role_by_committee=roles,
    )
    setattr(user, _CACHE_ATTR, profile)
    return profile


def forget_access_profile(user: Any) -> None:
    """Drop the cached profile after a membership change, so it applies at once."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
