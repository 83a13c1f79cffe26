"""Named permissions for improvement projects and the accountability ledger.

A project is seen by whoever sees its committee. Committee members who take part (not the
observing union representative) start projects; the project team, the committee's
co-chairs and regional admins change them. Recommendations and commitments are recorded by
the co-chairs and regional admins. The region-wide ledger is for regional admins and the
regional committee.
"""

from __future__ import annotations

from typing import Any

import rules

from commonground.improvement.models import Project
from commonground.organizations.access import access_profile
from commonground.organizations.models import Committee
from commonground.organizations.rules import can_manage_committee, can_view_committee


def _committee_of(obj: Any) -> Committee | None:
    if obj is None:
        return None
    if isinstance(obj, Committee):
        return obj
    return getattr(obj, "committee", None)


@rules.predicate
def can_view_project(user: Any, project: Project | None) -> bool:
    return bool(can_view_committee(user, _committee_of(project)))


@rules.predicate
def can_start_project(user: Any, committee: Committee | None) -> bool:
    if committee is None or not can_view_committee(user, committee):
        return False
    profile = access_profile(user)
    return profile.takes_part_in(committee.pk) or committee.region_id in profile.admin_region_ids


@rules.predicate
def is_on_project_team(user: Any, project: Project | None) -> bool:
    if project is None or not getattr(user, "is_authenticated", False):
        return False
    team_ids = getattr(project, "team_person_ids", None)
    if team_ids is None:
        team_ids = set(project.team.values_list("person_id", flat=True))
    return user.pk in team_ids


@rules.predicate
def can_manage_project_committee(user: Any, project: Project | None) -> bool:
    return bool(can_manage_committee(user, _committee_of(project)))


@rules.predicate
def can_view_region_ledger(user: Any) -> bool:
    profile = access_profile(user)
    if profile.is_regional_admin:
        return True
    regional_ids = set(
        Committee.objects.filter(
            kind=Committee.Kind.REGIONAL, pk__in=profile.committee_ids
        ).values_list("pk", flat=True)
    )
    return bool(regional_ids)


can_edit_project = can_view_project & (is_on_project_team | can_manage_project_committee)

rules.add_perm("improvement.view_project", can_view_project)
rules.add_perm("improvement.start_project", can_start_project)
rules.add_perm("improvement.edit_project", can_edit_project)
rules.add_perm("improvement.manage_ledger", can_manage_committee)
rules.add_perm("improvement.set_chart_profile", can_manage_committee)
rules.add_perm("improvement.view_region_ledger", can_view_region_ledger)


@rules.predicate
def is_signal_cochair(user: Any, signal: Any) -> bool:
    committee = _committee_of(signal)
    return committee is not None and committee.pk in access_profile(user).cochair_committee_ids


# Access signals: seen with the committee; raised or dismissed by its co-chairs.
rules.add_perm("improvement.view_signal", can_view_project)
rules.add_perm("improvement.decide_signal", can_view_project & is_signal_cochair)
