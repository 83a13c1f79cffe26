"""Background tasks of the deliberation app. Arguments are ids only.

The recompute is idempotent: a run finds the snapshot current and does nothing, so the
worker's at-least-once delivery and the debounce's occasional extra run are harmless.
"""

from __future__ import annotations

from django_tasks import task

from commonground.deliberation import services


@task()
def recompute_conversation(conversation_id: int) -> int | None:
    snapshot = services.conversation_recompute(conversation_id=conversation_id)
    return None if snapshot is None else snapshot.revision


@task()
def close_poll(poll_id: int) -> bool:
    """Close a poll at its closing time (queued for then when the poll opens). Early or
    repeated runs do nothing: the service checks the time and the state under the lock."""
    return services.poll_close_if_due(poll_id=poll_id)
