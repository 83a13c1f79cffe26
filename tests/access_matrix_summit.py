"""The authorization matrix of the regional summit (merged into ``tests.access_matrix.MATRIX``).

Scopes: ``own`` is the summit of the matrix's region; ``other`` is a summit of another
region, which nobody in the matrix sees (404, as for a summit that does not exist).

* "view": everyone with a seat in the region sees the event, its program, each session's
  Q&A and the results reports, and registers (the clinic roles, the data steward and the
  regional admin); people without a seat get 404.
* "attend": asking and upvoting questions and the projector take a place at the summit.
  In the matrix the Oakland clinician holds a confirmed registration and the regional admin
  organises; every other region member gets 403.
* "organise": editing the summit, its rooms and sessions, moderating questions and sending
  results are for the summit committee's co-chairs (none in the matrix roles) and the
  region's admins.

The tests send no form data: form pages answer with the re-rendered form (GET 200, POST
422); an upvote of a question on show succeeds (302); sending results of an open
conversation is refused with a message (302).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tests.access_matrix import ANONYMOUS, LOGIN, REGION_MEMBERS, Entry

SCOPES = ("own", "other")
ATTENDEES = {"clinician", "regional_admin"}
ORGANISERS = {"regional_admin"}


@dataclass(frozen=True)
class SummitEntry(Entry):
    def expected(self, role: str, scope: str, method: str) -> int:
        if method not in self.ok:
            return LOGIN if role == ANONYMOUS else 405
        if role == ANONYMOUS:
            return LOGIN
        if self.need == "signed_in":
            return self.ok[method]
        if scope != "own" or role not in REGION_MEMBERS:
            return 404
        if self.need == "summit_attend" and role not in ATTENDEES:
            return 403
        if self.need == "summit_organise" and role not in ORGANISERS:
            return 403
        return self.ok[method]


def _summit_objects(world: Any, scope: str) -> dict[str, Any]:
    """A summit with a room, a session, a question on show and an open conversation of the
    summit committee; in ``own`` the Oakland clinician is registered. Built once per test."""
    cache = world.__dict__.setdefault("_summit", {})
    if scope not in cache:
        from commonground.deliberation.models import Conversation
        from commonground.organizations.models import Committee
        from commonground.summit.models import Question, Registration, Room, Session, Summit
        from tests.factories import CommitteeFactory, RegionFactory

        if scope == "own":
            region, committee = world.region, world.summit
        else:
            region = RegionFactory(name="Southern California", slug="southern-california")
            committee = CommitteeFactory(
                clinic=None,
                region=region,
                kind=Committee.Kind.SUMMIT,
                slug="summit-south",
                name="Southern Summit",
            )
        summit = Summit.objects.create(
            region=region,
            committee=committee,
            title=f"Summit ({scope})",
            starts_on=dt.date(2026, 12, 3),
            ends_on=dt.date(2026, 12, 3),
            venue="Oakland",
            state=Summit.State.OPEN,
        )
        room = Room.objects.create(summit=summit, name="Main hall")
        conversation = Conversation.objects.create(
            committee=committee, topic=f"What next? ({scope})", open_to_region=True
        )
        tz = dt.timezone(dt.timedelta(hours=-8))
        session = Session.objects.create(
            summit=summit,
            title="Opening plenary",
            kind=Session.Kind.PLENARY,
            room=room,
            starts_at=dt.datetime(2026, 12, 3, 9, tzinfo=tz),
            ends_at=dt.datetime(2026, 12, 3, 10, tzinfo=tz),
            conversation=conversation,
        )
        question = Question.objects.create(
            session=session, text="Who funds the pilots?", status=Question.Status.APPROVED
        )
        if scope == "own":
            Registration.objects.create(
                summit=summit, person=world.person("clinician_a"), status="confirmed"
            )
        cache[scope] = {
            "summit": summit,
            "room": room,
            "session": session,
            "question": question,
            "conversation": conversation,
        }
    return cache[scope]


def _summit(world: Any, scope: str) -> dict[str, Any]:
    return {"summit_id": _summit_objects(world, scope)["summit"].pk}


def _room(world: Any, scope: str) -> dict[str, Any]:
    objects = _summit_objects(world, scope)
    return {"summit_id": objects["summit"].pk, "room_id": objects["room"].pk}


def _session(world: Any, scope: str) -> dict[str, Any]:
    objects = _summit_objects(world, scope)
    return {"summit_id": objects["summit"].pk, "session_id": objects["session"].pk}


def _question(world: Any, scope: str) -> dict[str, Any]:
    objects = _summit_objects(world, scope)
    return {"summit_id": objects["summit"].pk, "question_id": objects["question"].pk}


def _conversation(world: Any, scope: str) -> dict[str, Any]:
    objects = _summit_objects(world, scope)
    return {
        "summit_id": objects["summit"].pk,
        "conversation_id": objects["conversation"].public_id,
    }


FORM = {"GET": 200, "POST": 422}


def _e(need: str, ok: dict[str, int], kwargs: Any) -> SummitEntry:
    return SummitEntry(need, ok, SCOPES, kwargs, True)


EXTRA_MATRIX: dict[str, Entry] = {
    "summit:summit-list": SummitEntry("signed_in", {"GET": 200}),
    "summit:summit-detail": _e("summit_view", {"GET": 200}, _summit),
    "summit:registration": _e("summit_view", FORM, _summit),
    "summit:summit-edit": _e("summit_organise", FORM, _summit),
    "summit:room-create": _e("summit_organise", FORM, _summit),
    "summit:room-edit": _e("summit_organise", FORM, _room),
    "summit:session-create": _e("summit_organise", FORM, _summit),
    "summit:session-detail": _e("summit_view", {"GET": 200}, _session),
    "summit:session-edit": _e("summit_organise", FORM, _session),
    "summit:question-ask": _e("summit_attend", {"POST": 422}, _session),
    "summit:question-upvote": _e("summit_attend", {"POST": 302}, _question),
    "summit:question-moderate": _e("summit_organise", {"POST": 422}, _question),
    "summit:projector": _e("summit_attend", {"GET": 200}, _conversation),
    "summit:report": _e("summit_view", {"GET": 200}, _conversation),
    "summit:report-send": _e("summit_organise", {"POST": 302}, _conversation),
}
