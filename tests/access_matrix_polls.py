"""The authorization matrix of decision polls (merged into ``tests.access_matrix.MATRIX``).

* Whoever sees the committee sees its polls and each poll's page ("view"; regional admins
  included).
* Voting takes a seat on the committee, any role, observers included ("seat"), as in
  conversations: a regional admin sees an Oakland poll but does not vote in it (403).
* Starting a poll and closing it (recording its outcome) are for the committee's own
  co-chairs ("respond"): a regional admin gets 403, and on the regional committee no matrix
  role is a co-chair.

The tests send no form data: the new-poll form answers with the re-rendered form (200), the
vote and close endpoints with 422.
"""

from __future__ import annotations

from typing import Any

from tests.access_matrix import COMMITTEE_SCOPES, Entry, _committee


def _polls(world: Any, scope: str) -> Any:
    """An open proposal poll in the scope's committee. Built once per test."""
    cache = world.__dict__.setdefault("_polls", {})
    if scope not in cache:
        import datetime as dt

        from django.utils import timezone

        from commonground.deliberation.models import Poll

        committee = {"own": world.ppc_a, "other": world.ppc_b, "region": world.regional}[scope]
        cache[scope] = Poll.objects.create(
            committee=committee,
            kind=Poll.Kind.PROPOSAL,
            title=f"Hold a weekly intake huddle ({scope})",
            closing_at=timezone.now() + dt.timedelta(days=7),
        )
    return cache[scope]


def _poll(world: Any, scope: str) -> dict[str, Any]:
    return {"poll_id": _polls(world, scope).public_id}


S = COMMITTEE_SCOPES
FORM = {"GET": 200, "POST": 200}

EXTRA_MATRIX: dict[str, Entry] = {
    "deliberation:poll-list": Entry("view", {"GET": 200}, S, _committee, True),
    "deliberation:poll-create": Entry("respond", FORM, S, _committee, True),
    "deliberation:poll-detail": Entry("view", {"GET": 200}, S, _poll, True),
    "deliberation:poll-vote": Entry("seat", {"POST": 422}, S, _poll, True),
    "deliberation:poll-close": Entry("respond", {"POST": 422}, S, _poll, True),
}
