"""The authorization matrix of common-ground conversations (merged into
``tests.access_matrix.MATRIX``).

* Whoever sees the committee sees its conversations, their voting page and results ("view";
  regional admins included).
* Voting and adding statements take a seat on the committee, any role, observers included
  ("seat"): a regional admin sees an Oakland conversation but does not vote in it (403).
* Starting, importing, moderating, opening / closing and exporting are for the committee's
  own co-chairs ("respond"): a regional admin gets 403, and on the regional committee no
  matrix role is a co-chair.

The tests send no form data: form pages answer with the re-rendered form (200), and the
POST-only endpoints with 422.
"""

from __future__ import annotations

from typing import Any

from tests.access_matrix import COMMITTEE_SCOPES, Entry, _committee


def _conversations(world: Any, scope: str) -> Any:
    """An open conversation with one accepted statement in the scope's committee. Built once
    per test."""
    cache = world.__dict__.setdefault("_conversations", {})
    if scope not in cache:
        from commonground.deliberation.models import Conversation, Statement

        committee = {"own": world.ppc_a, "other": world.ppc_b, "region": world.regional}[scope]
        conversation = Conversation.objects.create(
            committee=committee, topic=f"How could we protect return visits? ({scope})"
        )
        Statement.objects.create(
            conversation=conversation,
            number=0,
            text="Book the next visit before the patient leaves",
            moderation=Statement.Moderation.ACCEPTED,
            is_seed=True,
        )
        cache[scope] = conversation
    return cache[scope]


def _conversation(world: Any, scope: str) -> dict[str, Any]:
    return {"conversation_id": _conversations(world, scope).public_id}


def _statement(world: Any, scope: str) -> dict[str, Any]:
    return {"conversation_id": _conversations(world, scope).public_id, "number": 0}


S = COMMITTEE_SCOPES
FORM = {"GET": 200, "POST": 200}

EXTRA_MATRIX: dict[str, Entry] = {
    "deliberation:conversation-list": Entry("view", {"GET": 200}, S, _committee, True),
    "deliberation:conversation-create": Entry("respond", FORM, S, _committee, True),
    "deliberation:conversation-import": Entry("respond", FORM, S, _committee, True),
    "deliberation:conversation-detail": Entry("view", {"GET": 200}, S, _conversation, True),
    "deliberation:vote": Entry("seat", {"POST": 422}, S, _conversation, True),
    "deliberation:statement-add": Entry("seat", {"POST": 422}, S, _conversation, True),
    "deliberation:conversation-results": Entry("view", {"GET": 200}, S, _conversation, True),
    "deliberation:conversation-moderate": Entry("respond", {"GET": 200}, S, _conversation, True),
    "deliberation:statement-moderate": Entry("respond", {"POST": 422}, S, _statement, True),
    "deliberation:conversation-state": Entry("respond", {"POST": 422}, S, _conversation, True),
    "deliberation:conversation-export": Entry("respond", {"GET": 200}, S, _conversation, True),
}
