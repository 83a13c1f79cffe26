"""The authorization matrix of the meetings app (merged into ``tests.access_matrix.MATRIX``).

Two needs are added here by a subclass of ``Entry``, so the shared table needs no change:

* ``cochair``: the committee's own co-chairs only (approve minutes, decide amendments). A
  regional admin sees the committee but does not approve: 403.
* ``feed``: calendar feeds, authorised by the secret token in the URL, never by the session.
  Every role (anonymous too) gets what the token's owner (Carmen, clinician at Oakland) may
  see: her own committee and the regional committee answer 200, Richmond's answers 404.

``edit`` on an action item means its owners or those who manage the committee: the matrix's
action items are owned by the same people as its improvement projects' teams.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tests.access_matrix import (
    ANONYMOUS,
    COCHAIRS,
    COMMITTEE_SCOPES,
    Entry,
    _committee,
    can_view,
)

FEED_OWNER_ROLE = "clinician"  # Carmen Reyes, clinician member at Oakland


@dataclass(frozen=True)
class MeetingsEntry(Entry):
    def expected(self, role: str, scope: str, method: str) -> int:
        if self.need == "feed":
            if method not in self.ok:
                return 405
            if scope != "none" and not can_view(FEED_OWNER_ROLE, scope):
                return 404
            return self.ok[method]
        if self.need == "cochair":
            seen = Entry("view", self.ok, self.scopes).expected(role, scope, method)
            if role == ANONYMOUS or method not in self.ok or seen != self.ok[method]:
                return seen
            return seen if scope == "own" and role in COCHAIRS else 403
        return super().expected(role, scope, method)


def _meetings(world: Any, scope: str) -> dict[str, Any]:
    """A meeting with an agenda item, a decision and an action; a second meeting whose
    minutes both co-chairs approved, with a proposed amendment; Carmen's feed token.
    Built once per test."""
    cache = world.__dict__.setdefault("_meetings", {})
    if scope not in cache:
        from django.utils import timezone

        from commonground.meetings.models import (
            ActionItem,
            AgendaItem,
            Amendment,
            Decision,
            Meeting,
            Minutes,
        )

        committee = {"own": world.ppc_a, "other": world.ppc_b, "region": world.regional}[scope]
        owner = {
            "own": world.person("clinician_a"),
            "other": world.person("clinician_b"),
            "region": world.person("data_steward"),
        }[scope]
        now = timezone.now()
        meeting = Meeting.objects.create(
            committee=committee, starts_at=now + dt.timedelta(days=7), place="Room 2"
        )
        Minutes.objects.create(meeting=meeting, text="Called to order.")
        item = AgendaItem.objects.create(meeting=meeting, position=1, title="Open actions")
        decision = Decision.objects.create(
            committee=committee,
            meeting=meeting,
            statement="Hold intake huddles weekly",
            decided_on=now.date(),
            recorded_by=owner,
        )
        action = ActionItem.objects.create(
            committee=committee,
            title="Draft the huddle checklist",
            clinician_owner=owner,
            due_on=now.date() + dt.timedelta(days=14),
            decision=decision,
            meeting=meeting,
        )
        approved = Meeting.objects.create(
            committee=committee, starts_at=now - dt.timedelta(days=2), place="Room 2"
        )
        minutes = Minutes.objects.create(
            meeting=approved,
            text="Approved text.",
            clinician_approved_by=owner,
            clinician_approved_at=now,
            management_approved_by=owner,
            management_approved_at=now,
            approved_at=now,
            amendments_close_at=now + dt.timedelta(days=5),
        )
        amendment = Amendment.objects.create(minutes=minutes, proposed_by=owner, text="Fix typo")
        cache[scope] = {
            "meeting": meeting,
            "item": item,
            "decision": decision,
            "action": action,
            "amendment": amendment,
        }
    return cache[scope]


def _feed_token(world: Any) -> str:
    if "_feed_token" not in world.__dict__:
        from commonground.meetings.services import calendar_token_regenerate

        world.__dict__["_feed_token"] = calendar_token_regenerate(
            actor=world.person(f"{FEED_OWNER_ROLE}_a")
        )
    return str(world.__dict__["_feed_token"])


def _meeting(world: Any, scope: str) -> dict[str, Any]:
    return {"meeting_id": _meetings(world, scope)["meeting"].public_id}


def _agenda_item(world: Any, scope: str) -> dict[str, Any]:
    objects = _meetings(world, scope)
    return {"meeting_id": objects["meeting"].public_id, "item_id": objects["item"].pk}


def _approved_meeting(world: Any, scope: str) -> dict[str, Any]:
    return {"meeting_id": _meetings(world, scope)["amendment"].minutes.meeting.public_id}


def _amendment(world: Any, scope: str) -> dict[str, Any]:
    return {"amendment_id": _meetings(world, scope)["amendment"].public_id}


def _decision(world: Any, scope: str) -> dict[str, Any]:
    return {"decision_id": _meetings(world, scope)["decision"].public_id}


def _action(world: Any, scope: str) -> dict[str, Any]:
    return {"action_id": _meetings(world, scope)["action"].public_id}


def _person_feed(world: Any, scope: str) -> dict[str, Any]:
    return {"token": _feed_token(world)}


def _committee_feed(world: Any, scope: str) -> dict[str, Any]:
    return {"token": _feed_token(world), **_committee(world, scope)}


S = COMMITTEE_SCOPES
FORM = {"GET": 200, "POST": 200}  # a form view re-renders its form when POSTed nothing

ENTRIES: dict[str, Entry] = {
    "meetings:meeting-list": MeetingsEntry("view", {"GET": 200}, S, _committee, True),
    "meetings:meeting-create": MeetingsEntry("manage", FORM, S, _committee, True),
    "meetings:meeting-settings": MeetingsEntry("manage", FORM, S, _committee, True),
    "meetings:decision-create": MeetingsEntry("manage", FORM, S, _committee, True),
    "meetings:committee-actions": MeetingsEntry("view", {"GET": 200}, S, _committee, True),
    "meetings:action-create": MeetingsEntry("manage", FORM, S, _committee, True),
    "meetings:meeting-detail": MeetingsEntry("view", {"GET": 200}, S, _meeting, True),
    "meetings:meeting-edit": MeetingsEntry("manage", FORM, S, _meeting, True),
    "meetings:agenda-add": MeetingsEntry("manage", {"POST": 422}, S, _meeting, True),
    "meetings:agenda-remove": MeetingsEntry("manage", {"POST": 302}, S, _agenda_item, True),
    "meetings:attendance-set": MeetingsEntry("manage", {"POST": 422}, S, _meeting, True),
    "meetings:minutes-edit": MeetingsEntry("manage", FORM, S, _meeting, True),
    "meetings:minutes-approve": MeetingsEntry("cochair", {"POST": 302}, S, _meeting, True),
    "meetings:amendment-propose": MeetingsEntry("start", {"POST": 302}, S, _approved_meeting, True),
    "meetings:meeting-decision-create": MeetingsEntry("manage", FORM, S, _meeting, True),
    "meetings:amendment-decide": MeetingsEntry("cochair", {"POST": 302}, S, _amendment, True),
    "meetings:decision-log": MeetingsEntry("signed_in", {"GET": 200}),
    "meetings:decision-detail": MeetingsEntry("view", {"GET": 200}, S, _decision, True),
    "meetings:my-actions": MeetingsEntry("signed_in", {"GET": 200}),
    "meetings:action-edit": MeetingsEntry("edit", FORM, S, _action, True),
    "meetings:calendar": MeetingsEntry("signed_in", {"GET": 200}),
    "meetings:calendar-regenerate": MeetingsEntry("signed_in", {"POST": 302}),
    "meetings:feed-person": MeetingsEntry("feed", {"GET": 200}, ("none",), _person_feed),
    "meetings:feed-committee": MeetingsEntry("feed", {"GET": 200}, S, _committee_feed, True),
}
