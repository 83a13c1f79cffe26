"""Named permissions for common-ground conversations.

* Whoever sees the committee sees its conversations and their results (regional admins
  included).
* Taking part (voting, adding statements) needs a seat on the committee, any role. A
  conversation ``open_to_region`` (the summit) takes everyone with a seat in the region.
* The committee's co-chairs moderate statements, open and close conversations, start them,
  and import or export them. A regional admin who is not a co-chair does not.
"""

from __future__ import annotations

from typing import Any

import rules

from commonground.organizations.access import access_profile
from commonground.organizations.models import Committee
from commonground.organizations.rules import can_view_committee, is_committee_cochair


def committee_of(obj: Any) -> Committee | None:
    """The committee of a committee, a conversation, or anything with a ``conversation``."""
    if obj is None or isinstance(obj, Committee):
        return obj
    conversation = getattr(obj, "conversation", None)
    if conversation is not None:
        return committee_of(conversation)
    return getattr(obj, "committee", None)


def _conversation_of(obj: Any) -> Any:
    from commonground.deliberation.models import Conversation

    if isinstance(obj, Conversation):
        return obj
    return getattr(obj, "conversation", None)


@rules.predicate
def can_view(user: Any, obj: Any) -> bool:
    return bool(can_view_committee(user, committee_of(obj)))


@rules.predicate
def has_seat(user: Any, obj: Any) -> bool:
    committee = committee_of(obj)
    if committee is None:
        return False
    profile = access_profile(user)
    if committee.pk in profile.committee_ids:
        return True
    conversation = _conversation_of(obj)
    return bool(
        conversation is not None
        and conversation.open_to_region
        and committee.region_id in profile.region_ids
    )


@rules.predicate
def is_cochair(user: Any, obj: Any) -> bool:
    return bool(is_committee_cochair(user, committee_of(obj)))


rules.add_perm("deliberation.view", can_view)
rules.add_perm("deliberation.take_part", can_view & has_seat)
rules.add_perm("deliberation.moderate", can_view & is_cochair)


# --- decision polls ------------------------------------------------------------------------
#
# The same rules as conversations: whoever sees the committee sees its polls and (once they
# are visible) their results; anyone with a seat on the committee votes, observers included,
# as in conversations; the committee's co-chairs create and close polls and write the
# outcome. A regional admin without a seat watches.

rules.add_perm("deliberation.view_poll", can_view)
rules.add_perm("deliberation.vote_poll", can_view & has_seat)
rules.add_perm("deliberation.manage_poll", can_view & is_cochair)


# --- ideas board ---------------------------------------------------------------------------
#
# Whoever sees the committee sees its board, the ideas, the totals and the ranking. Anyone
# with a seat on the committee (observers included, as in conversations and polls) proposes
# ideas, spends dots and compares pairs. The committee's co-chairs move ideas through the
# stages, merge duplicates and set the number of dots; a regional admin without a seat
# watches.

rules.add_perm("deliberation.view_ideas", can_view)
rules.add_perm("deliberation.take_part_ideas", can_view & has_seat)
rules.add_perm("deliberation.manage_ideas", can_view & is_cochair)
