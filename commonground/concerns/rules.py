"""Named permissions for concerns.

A concern is seen by whoever sees its committee, and by the committee it was escalated to.
Anyone with a seat on the committee raises and co-signs concerns there. The committee's
co-chairs carry it through its steps; once escalated, the receiving committee's co-chairs
do. Who may learn the raiser is decided in selectors.raiser_visible_to, not here.
"""

from __future__ import annotations

from typing import Any

import rules

from commonground.concerns.models import Concern
from commonground.organizations.access import access_profile
from commonground.organizations.models import Committee
from commonground.organizations.rules import can_view_committee


@rules.predicate
def can_view_concern(user: Any, concern: Concern | None) -> bool:
    if concern is None:
        return False
    if can_view_committee(user, concern.committee):
        return True
    return concern.escalated_to is not None and bool(can_view_committee(user, concern.escalated_to))


@rules.predicate
def has_seat_on(user: Any, committee: Committee | None) -> bool:
    return committee is not None and committee.pk in access_profile(user).committee_ids


@rules.predicate
def can_cosign(user: Any, concern: Concern | None) -> bool:
    return concern is not None and concern.is_open and bool(has_seat_on(user, concern.committee))


@rules.predicate
def is_responsible_cochair(user: Any, concern: Concern | None) -> bool:
    if concern is None:
        return False
    cochair_of = access_profile(user).cochair_committee_ids
    owner = concern.escalated_to_id or concern.committee_id
    return owner in cochair_of


# Clock extensions and pauses
# Evidence files
# Discussion threads
# Region view and cross-clinic patterns

rules.add_perm("concerns.view_concern", can_view_concern)
rules.add_perm("concerns.raise_concern", can_view_committee & has_seat_on)
rules.add_perm("concerns.cosign", can_cosign)
rules.add_perm("concerns.respond", can_view_concern & is_responsible_cochair)
