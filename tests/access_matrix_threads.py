"""The authorization matrix of concern discussion threads (merged into
``tests.access_matrix.MATRIX``).

* Posting is for a seat on the concern's committee, observers included ("seat").
* Reading a comment's history is for whoever sees the concern ("view").
* Editing is for the comment's author only ("author", added here by a subclass of
  ``Entry``): the matrix comment in each scope is written by the scope's member (Carmen at
  Oakland, Kenji at Richmond, Dana on the regional committee). Others who see the concern
  get 403; those who do not, 404.

The tests send no form data, so posting and editing answer with the re-rendered form (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.access_matrix import (
    ANONYMOUS,
    COMMITTEE_SCOPES,
    Entry,
    _concern,
)

# The persona who wrote the matrix comment in each scope (``None``: no matrix role did).
AUTHOR = {"own": "clinician", "other": None, "region": "data_steward"}


@dataclass(frozen=True)
class ThreadsEntry(Entry):
    def expected(self, role: str, scope: str, method: str) -> int:
        if self.need == "author":
            seen = Entry("view", self.ok, self.scopes).expected(role, scope, method)
            if role == ANONYMOUS or method not in self.ok or seen != self.ok[method]:
                return seen
            return seen if role == AUTHOR[scope] else 403
        return super().expected(role, scope, method)


def _comment(world: Any, scope: str) -> dict[str, Any]:
    """A comment on the scope's matrix concern by the scope's member. Built once per test."""
    cache = world.__dict__.setdefault("_comments", {})
    if scope not in cache:
        from django.utils import timezone

        from commonground.concerns.models import Comment, Concern

        concern = Concern.objects.get(pk=_concern(world, scope)["concern_id"])
        author = {
            "own": world.person("clinician_a"),
            "other": world.person("clinician_b"),
            "region": world.person("data_steward"),
        }[scope]
        cache[scope] = Comment.objects.create(
            concern=concern,
            author=author,
            author_side="clinician" if scope != "region" else "neutral",
            body="Could we protect return slots?",
            created_at=timezone.now(),
        )
    return {"comment_id": cache[scope].pk}


S = COMMITTEE_SCOPES

EXTRA_MATRIX: dict[str, Entry] = {
    "concerns:comment-post": ThreadsEntry("seat", {"POST": 422}, S, _concern, True),
    "concerns:comment-edit": ThreadsEntry("author", {"POST": 422}, S, _comment, True),
    "concerns:comment-history": ThreadsEntry("view", {"GET": 200}, S, _comment, True),
}
