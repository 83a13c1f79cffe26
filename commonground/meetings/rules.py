"""Named permissions for meetings, minutes, decisions and action items.

Whoever sees a committee reads its meetings, decisions and actions. Its co-chairs and
regional admins schedule meetings, build agendas, record attendance, draft minutes and
record decisions and actions. Minutes are approved by the co-chairs only (one approval per
side; a regional admin does not approve), who also accept or reject amendments. Members who
take part in the committee (not the observing union representative) propose amendments.
An action item is updated by its owners and by those who manage the committee.
"""

from __future__ import annotations

from typing import Any

import rules

from commonground.organizations.access import access_profile
from commonground.organizations.models import Committee
from commonground.organizations.rules import (
    can_manage_committee,
    can_view_committee,
    is_committee_cochair,
)


def committee_of(obj: Any) -> Committee | None:
    """The committee an object belongs to: a committee, or anything that leads to one."""
    if obj is None or isinstance(obj, Committee):
        return obj
    for path in ("committee", "meeting", "minutes"):
        parent = getattr(obj, path, None)
        if parent is not None:
            return committee_of(parent)
    return None


@rules.predicate
def can_view(user: Any, obj: Any) -> bool:
    return bool(can_view_committee(user, committee_of(obj)))


@rules.predicate
def can_manage(user: Any, obj: Any) -> bool:
    return bool(can_manage_committee(user, committee_of(obj)))


@rules.predicate
def is_cochair(user: Any, obj: Any) -> bool:
    return bool(is_committee_cochair(user, committee_of(obj)))


@rules.predicate
def takes_part(user: Any, obj: Any) -> bool:
    committee = committee_of(obj)
    if committee is None:
        return False
    profile = access_profile(user)
    return profile.takes_part_in(committee.pk) or committee.region_id in profile.admin_region_ids


@rules.predicate
def owns_action(user: Any, action: Any) -> bool:
    if action is None or not getattr(user, "is_authenticated", False):
        return False
    return user.pk in (
        getattr(action, "clinician_owner_id", None),
        getattr(action, "management_owner_id", None),
    )


rules.add_perm("meetings.view", can_view)
rules.add_perm("meetings.manage", can_view & can_manage)
rules.add_perm("meetings.approve_minutes", can_view & is_cochair)
rules.add_perm("meetings.decide_amendment", can_view & is_cochair)
rules.add_perm("meetings.propose_amendment", can_view & takes_part)
rules.add_perm("meetings.edit_action", can_view & (owns_action | can_manage))
