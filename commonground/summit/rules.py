"""Named permissions for the regional summit.

* Everyone with a seat in the summit's region sees the event and its program, registers and
  unregisters, and reads the results reports (aggregates only).
* Attendees (a seat on the summit committee, or a confirmed registration) ask and upvote
  questions and open the projector view. Organisers are attendees too.
* Organisers (the summit committee's co-chairs and the region's admins) edit the program,
  moderate questions and send results to the clinic committees.
"""

from __future__ import annotations

from typing import Any

import rules

from commonground.organizations.access import access_profile
from commonground.organizations.rules import can_view_committee

_REGISTERED_ATTR = "_commonground_summit_registrations"


def summit_of(obj: Any) -> Any:
    """The summit of a summit, a room, a session or a question."""
    from commonground.summit.models import Question, Summit

    if obj is None or isinstance(obj, Summit):
        return obj
    if isinstance(obj, Question):
        return obj.session.summit
    return getattr(obj, "summit", None)


def confirmed_summit_ids(user: Any) -> frozenset[int]:
    """The summits the person holds a confirmed place at (one query per request, cached on
    the user object like the access profile)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, _REGISTERED_ATTR, None)
    if cached is None:
        from commonground.summit.models import Registration

        cached = frozenset(
            Registration.objects.filter(
                person_id=user.pk, status=Registration.Status.CONFIRMED
            ).values_list("summit_id", flat=True)
        )
        setattr(user, _REGISTERED_ATTR, cached)
    return cached


def forget_registrations(user: Any) -> None:
    if hasattr(user, _REGISTERED_ATTR):
        delattr(user, _REGISTERED_ATTR)


@rules.predicate
def can_view(user: Any, obj: Any) -> bool:
    summit = summit_of(obj)
    return summit is not None and bool(can_view_committee(user, summit.committee))


@rules.predicate
def is_organiser(user: Any, obj: Any) -> bool:
    summit = summit_of(obj)
    if summit is None:
        return False
    profile = access_profile(user)
    return (
        summit.committee_id in profile.cochair_committee_ids
        or summit.region_id in profile.admin_region_ids
    )


@rules.predicate
def is_attendee(user: Any, obj: Any) -> bool:
    summit = summit_of(obj)
    if summit is None:
        return False
    if summit.committee_id in access_profile(user).committee_ids:
        return True
    return summit.pk in confirmed_summit_ids(user)


@rules.predicate
def has_region_seat(user: Any, obj: Any) -> bool:
    summit = summit_of(obj)
    return summit is not None and summit.region_id in access_profile(user).region_ids


rules.add_perm("summit.view", can_view)
rules.add_perm("summit.register", can_view & has_region_seat)
rules.add_perm("summit.attend", can_view & (is_attendee | is_organiser))
rules.add_perm("summit.organise", can_view & is_organiser)
