"""The authorization matrix of the ideas board (merged into ``tests.access_matrix.MATRIX``).

* Whoever sees the committee sees its board, each idea's page and the pairwise page
  ("view"; regional admins included).
* Proposing ideas, dots and pairwise answers take a seat on the committee, any role,
  observers included ("seat"), as in conversations and polls: a regional admin sees an
  Oakland idea but does not put dots on it (403).
* Stages, merges, concern links and the number of dots are for the committee's own
  co-chairs ("respond"): a regional admin gets 403, and on the regional committee no matrix
  role is a co-chair.

The tests send no form data: the new-idea form answers with the re-rendered form (200), the
board settings redirect back to the board with a message (302), the other endpoints answer
422. Projects link ideas through the existing ``improvement:project-links`` entry.
"""

from __future__ import annotations

from typing import Any

from tests.access_matrix import COMMITTEE_SCOPES, Entry, _committee


def _ideas(world: Any, scope: str) -> Any:
    """A new idea on the scope's committee board. Built once per test."""
    cache = world.__dict__.setdefault("_ideas", {})
    if scope not in cache:
        from commonground.deliberation.models import Idea

        committee, author = {
            "own": (world.ppc_a, world.person("clinician_a")),
            "other": (world.ppc_b, world.person("clinician_b")),
            "region": (world.regional, world.person("data_steward")),
        }[scope]
        cache[scope] = Idea.objects.create(
            committee=committee, title=f"Protected return slots ({scope})", author=author
        )
    return cache[scope]


def _idea(world: Any, scope: str) -> dict[str, Any]:
    return {"idea_id": _ideas(world, scope).public_id}


S = COMMITTEE_SCOPES
FORM = {"GET": 200, "POST": 200}

EXTRA_MATRIX: dict[str, Entry] = {
    "deliberation:idea-board": Entry("view", {"GET": 200}, S, _committee, True),
    "deliberation:idea-create": Entry("seat", FORM, S, _committee, True),
    "deliberation:idea-board-settings": Entry("respond", {"POST": 302}, S, _committee, True),
    "deliberation:idea-compare": Entry("view", {"GET": 200}, S, _committee, True),
    "deliberation:idea-compare-answer": Entry("seat", {"POST": 422}, S, _committee, True),
    "deliberation:idea-detail": Entry("view", {"GET": 200}, S, _idea, True),
    "deliberation:idea-dots": Entry("seat", {"POST": 422}, S, _idea, True),
    "deliberation:idea-stage": Entry("respond", {"POST": 422}, S, _idea, True),
    "deliberation:idea-merge": Entry("respond", {"POST": 422}, S, _idea, True),
    "deliberation:idea-concerns": Entry("respond", {"POST": 422}, S, _idea, True),
}
