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


@rules.predicate
def can_add_evidence(user: Any, concern: Concern | None) -> bool:
    """A seat on the concern's committee, or co-chairing the committee it was escalated to,
    while it is open."""
    if concern is None or not concern.is_open:
        return False
    if has_seat_on(user, concern.committee):
        return True
    escalated_to = concern.escalated_to_id
    return escalated_to is not None and escalated_to in access_profile(user).cochair_committee_ids


@rules.predicate
def can_view_attachment(user: Any, attachment: Any) -> bool:
    concern = getattr(attachment, "concern", None)
    return concern is not None and bool(can_view_concern(user, concern))


@rules.predicate
def can_remove_evidence(user: Any, attachment: Any) -> bool:
    """The responsible co-chairs at any time; the uploader while a named concern is open
    (on other concerns, a removal by the uploader would point at them)."""
    concern = getattr(attachment, "concern", None)
    if concern is None:
        return False
    if is_responsible_cochair(user, concern):
        return True
    uploader = attachment.uploaded_by_id
    return (
        concern.is_open
        and concern.identity_mode == "named"
        and uploader is not None
        and uploader == getattr(user, "pk", None)
    )


rules.add_perm("concerns.add_evidence", can_view_concern & can_add_evidence)
rules.add_perm("concerns.view_attachment", can_view_attachment)
rules.add_perm("concerns.remove_evidence", can_view_attachment & can_remove_evidence)


# Discussion threads
@rules.predicate
def can_comment(user: Any, concern: Concern | None) -> bool:
    """A seat on the concern's committee (observers too) or, once escalated, on the
    receiving one; a closed concern's thread is read-only."""
    if concern is None or concern.status == "closed":
        return False
    seats = access_profile(user).committee_ids
    return concern.committee_id in seats or concern.escalated_to_id in seats


@rules.predicate
def can_view_comment(user: Any, comment: Any) -> bool:
    return comment is not None and bool(can_view_concern(user, comment.concern))


@rules.predicate
def is_comment_author(user: Any, comment: Any) -> bool:
    # Only the author edits, and only while the thread takes comments; nobody deletes.
    return (
        comment is not None
        and comment.author_id == getattr(user, "pk", None)
        and comment.concern.status != "closed"
    )


rules.add_perm("concerns.comment", can_view_concern & can_comment)
rules.add_perm("concerns.view_comment", can_view_comment)
rules.add_perm("concerns.edit_comment", can_view_comment & is_comment_author)


# Region view and cross-clinic patterns
def _region_id_of(obj: Any) -> int | None:
    # The region itself, or a pattern (anything with a region).
    from commonground.organizations.models import Region

    if obj is None:
        return None
    return obj.pk if isinstance(obj, Region) else getattr(obj, "region_id", None)


@rules.predicate
def is_region_person(user: Any, obj: Any) -> bool:
    """Regional admins and members of the region's regional committee."""
    from commonground.concerns.selectors.region import viewable_region_ids

    return _region_id_of(obj) in viewable_region_ids(user)


@rules.predicate
def may_merge_in_region(user: Any, obj: Any) -> bool:
    """Regional admins and the regional committee's co-chairs."""
    from commonground.concerns.selectors.region import merging_region_ids

    return _region_id_of(obj) in merging_region_ids(user)


rules.add_perm("concerns.view_region", is_region_person)
rules.add_perm("concerns.merge_patterns", is_region_person & may_merge_in_region)
rules.add_perm("concerns.view_pattern", is_region_person)
rules.add_perm("concerns.edit_pattern", is_region_person & may_merge_in_region)

rules.add_perm("concerns.view_concern", can_view_concern)
rules.add_perm("concerns.raise_concern", can_view_committee & has_seat_on)
rules.add_perm("concerns.cosign", can_cosign)
rules.add_perm("concerns.respond", can_view_concern & is_responsible_cochair)
