"""Writes for the ideas board: proposing ideas, dots, pairwise answers, stages, merges and
the board's settings.

Race safety (the order locks are taken in is the same everywhere, so there is no deadlock):

* A person's dots change under the lock of their ``DotWallet`` row for the board, then the
  locks of the ideas touched (in id order). The wallet serialises one person's clicks, so
  their total can be checked against the board's number of dots before it is written; the
  idea locks make a dot on an idea wait for a merge or a stage change of that idea to finish.
* A wallet is created under the board row's lock, and changing the number of dots takes the
  board row and then every wallet: a new number is never checked against totals that are
  about to change.
* A merge locks the two ideas (in id order). It never changes anyone's total: dots move from
  the duplicate to the idea kept, so no wallet needs locking.
* A pairwise answer locks its two ideas, so it cannot land on an idea being merged away.

Every write is audited, except the posting of an idea without a name (as with anonymous
concerns and questions, an event timed to the second would point at its author). Dots and
answers are audited as "recorded" on the board, never with the idea or the choice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.models import Concern
from commonground.concerns.phi import find_patient_identifiers
from commonground.deliberation.models import (
    IDEA_DOTS_MAX,
    OPEN_IDEA_STAGES,
    DotWallet,
    Idea,
    IdeaBoard,
    IdeaComparison,
    IdeaDot,
)
from commonground.notifications.models import Kind
from commonground.organizations.access import access_profile
from commonground.organizations.models import Committee, Side

IDEA_TITLE_MAX_CHARS = 200
IDEA_DESCRIPTION_MAX_CHARS = 5000
STAGE_REASON_MAX_CHARS = 2000
# The notification kind for "your idea moved"; falls back to an existing kind until the
# notifications app has one of its own (see the report to the lead).
STAGE_KIND = str(getattr(Kind, "IDEA_STAGE", Kind.CONCERN_STATUS))

# Where an idea may go from each stage. Merging is its own action; a merged idea stays merged.
STAGE_MOVES: dict[str, tuple[str, ...]] = {
    Idea.Stage.NEW: (Idea.Stage.SHORTLISTED, Idea.Stage.PROJECT, Idea.Stage.DECLINED),
    Idea.Stage.SHORTLISTED: (Idea.Stage.NEW, Idea.Stage.PROJECT, Idea.Stage.DECLINED),
    Idea.Stage.PROJECT: (Idea.Stage.SHORTLISTED, Idea.Stage.ADOPTED, Idea.Stage.DECLINED),
    Idea.Stage.ADOPTED: (Idea.Stage.PROJECT,),
    Idea.Stage.DECLINED: (Idea.Stage.NEW,),
    Idea.Stage.MERGED: (),
}
REASON_REQUIRED = (Idea.Stage.ADOPTED, Idea.Stage.DECLINED)
CHOICES = {"first": IdeaComparison.Result.FIRST, "second": IdeaComparison.Result.SECOND}
UNDECIDED = "none"


def _no_patient_information(*texts: str) -> None:
    findings = find_patient_identifiers("\n".join(texts))
    if findings:
        kinds = ", ".join(sorted({f.kind for f in findings}))
        raise ValidationError(
            f"This looks like patient information ({kinds}). Remove it: ideas are about "
            "practice, never about a patient."
        )


def _side(actor: Any, committee_id: int) -> str:
    return access_profile(actor).side_by_committee.get(committee_id, Side.NEUTRAL)


def board_of(committee: Committee) -> IdeaBoard:
    """The committee's board row, created with the defaults on first use."""
    board, _ = IdeaBoard.objects.get_or_create(committee=committee)
    return board


# --- ideas ----------------------------------------------------------------------------------


@transaction.atomic
def idea_propose(
    *,
    actor: Any,
    committee: Committee,
    title: str,
    description: str = "",
    concerns: Iterable[Concern] = (),
    anonymous: bool = False,
    now: dt.datetime | None = None,
) -> Idea:
    """Post an idea. Without a name it keeps no author, its time is cut to the day and no
    audit event is written."""
    title = " ".join(title.split())
    description = description.strip()
    if not title:
        raise ValidationError("Give the idea a short title.")
    if len(title) > IDEA_TITLE_MAX_CHARS:
        raise ValidationError(f"Keep the title to {IDEA_TITLE_MAX_CHARS} characters.")
    if len(description) > IDEA_DESCRIPTION_MAX_CHARS:
        raise ValidationError(f"Keep the description to {IDEA_DESCRIPTION_MAX_CHARS} characters.")
    _no_patient_information(title, description)
    linked = list(dict.fromkeys(concerns))
    if any(c.committee_id != committee.pk for c in linked):
        raise ValidationError("Link concerns of this committee only.")
    now = now or timezone.now()
    if anonymous:
        now = timezone.make_aware(
            dt.datetime.combine(timezone.localdate(now), dt.time.min),
            timezone.get_current_timezone(),
        )
    if (
        Idea.objects.filter(committee=committee, title__iexact=title)
        .exclude(stage=Idea.Stage.MERGED)
        .exists()
    ):
        raise ValidationError(
            "An idea with this title is already on the board: put your dots on it instead."
        )
    idea = Idea.objects.create(
        committee=committee,
        title=title,
        description=description,
        author=None if anonymous else actor,
        created_at=now,
    )
    if linked:
        idea.concerns.add(*linked)
    if not anonymous:
        audit_record(
            action=AuditEvent.Action.CREATE,
            actor=actor,
            obj=idea,
            clinic_id=committee.clinic_id,
            changes={"title": title, "concerns": [str(c.pk) for c in linked]},
        )
    return idea


def _lock_ideas(*ideas: Idea) -> dict[int, Idea]:
    ids = sorted({i.pk for i in ideas})
    rows = Idea.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


@transaction.atomic
def idea_set_stage(*, actor: Any, idea: Idea, stage: str, reason: str = "") -> Idea:
    """Move an idea to another stage. Adopting and declining need a reason, which the board
    and the idea's page show (and its named author is told)."""
    reason = reason.strip()
    if stage not in Idea.Stage.values or stage == Idea.Stage.MERGED:
        raise ValidationError("Choose a stage.")
    if len(reason) > STAGE_REASON_MAX_CHARS:
        raise ValidationError(f"Keep the reason to {STAGE_REASON_MAX_CHARS} characters.")
    if stage in REASON_REQUIRED and not reason:
        raise ValidationError("Say why: the reason is shown with the idea.")
    if reason:
        _no_patient_information(reason)
    locked = _lock_ideas(idea)[idea.pk]
    if locked.stage == stage:
        raise ValidationError("The idea is already at that stage.")
    if stage not in STAGE_MOVES[locked.stage]:
        raise ValidationError(
            f"An idea that is {locked.get_stage_display().lower()} cannot move to "
            f"{Idea.Stage(stage).label.lower()}."
        )
    before = locked.stage
    locked.stage = stage
    locked.stage_reason = reason
    locked.stage_changed_at = timezone.now()
    locked.save(update_fields=["stage", "stage_reason", "stage_changed_at"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=locked,
        clinic_id=locked.committee.clinic_id,
        changes={"stage": [before, stage], "reason": reason},
    )
    if locked.author_id is not None and locked.author_id != getattr(actor, "pk", None):
        from commonground.notifications.services import notify

        label = Idea.Stage(stage).label.lower()
        notify(
            recipients=[locked.author],
            kind=STAGE_KIND,
            subject=f"Your idea is now {label}: {locked.title}"[:200],
            body=reason or f"The co-chairs moved your idea to “{Idea.Stage(stage).label}”.",
            link=locked.get_absolute_url(),
            dedup_key=f"idea-stage:{locked.public_id}:{stage}:{int(locked.stage_changed_at.timestamp())}",
            clinic_id=locked.committee.clinic_id,
        )
    return locked


@transaction.atomic
def idea_link_concern(*, actor: Any, idea: Idea, concern: Concern, unlink: bool = False) -> None:
    if concern.committee_id != idea.committee_id:
        raise ValidationError("Link a concern of this committee.")
    if unlink:
        idea.concerns.remove(concern)
    else:
        idea.concerns.add(concern)
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=idea,
        clinic_id=idea.committee.clinic_id,
        changes={"concerns": {"removed" if unlink else "added": str(concern.pk)}},
    )


@transaction.atomic
def idea_merge(*, actor: Any, duplicate: Idea, into: Idea) -> Idea:
    """Merge ``duplicate`` into ``into``; returns the idea kept.

    * Dots: each person's dots on the duplicate move to the idea kept. Someone with dots on
      both keeps the sum: their dots are their own budget, spent on what is now one idea, so
      the sum is what they gave it, and it can never exceed the board's number of dots (their
      total over the board does not change). Nobody is counted twice: one row per person.
    * Comparisons: answers about the duplicate now speak of the idea kept, except those
      between the two, which are dropped (an idea is not compared with itself). Where a person
      had answered the same pair for both, their later answer stands.
    * Concern links carry over; projects that grew from the duplicate also list the idea
      kept; ideas merged into the duplicate earlier now point at the idea kept.
    * The duplicate stays readable as "merged into" the other.
    """
    if duplicate.pk == into.pk:
        raise ValidationError("Choose another idea to merge into.")
    if duplicate.committee_id != into.committee_id:
        raise ValidationError("Merge ideas of the same board only.")
    locked = _lock_ideas(duplicate, into)
    dup, kept = locked[duplicate.pk], locked[into.pk]
    if dup.stage == Idea.Stage.MERGED:
        raise ValidationError("That idea is already merged into another.")
    if kept.stage == Idea.Stage.MERGED:
        raise ValidationError("Merge into an idea that is not itself merged.")
    now = timezone.now()

    # Dots.
    kept_rows = {row.person_id: row for row in IdeaDot.objects.filter(idea=kept)}
    moved_people = 0
    summed: list[IdeaDot] = []
    repointed: list[IdeaDot] = []
    gone: list[int] = []
    for row in IdeaDot.objects.filter(idea=dup):
        moved_people += 1
        target = kept_rows.get(row.person_id)
        if target is None:
            row.idea = kept
            repointed.append(row)
        else:
            target.count += row.count
            target.updated_at = now
            summed.append(target)
            gone.append(row.pk)
    IdeaDot.objects.filter(pk__in=gone).delete()
    IdeaDot.objects.bulk_update(repointed, ["idea"])
    IdeaDot.objects.bulk_update(summed, ["count", "updated_at"])

    # Comparisons.
    pair = (min(dup.pk, kept.pk), max(dup.pk, kept.pk))
    dropped = IdeaComparison.objects.filter(idea_a_id=pair[0], idea_b_id=pair[1]).delete()[0]
    kept_answers = {
        (c.person_id, c.idea_b_id if c.idea_a_id == kept.pk else c.idea_a_id): c
        for c in IdeaComparison.objects.filter(idea_a=kept)
        | IdeaComparison.objects.filter(idea_b=kept)
    }
    moved: list[IdeaComparison] = []
    superseded: list[int] = []
    dup_answers = IdeaComparison.objects.filter(idea_a=dup) | IdeaComparison.objects.filter(
        idea_b=dup
    )
    for answer in dup_answers.order_by("created_at", "pk"):
        other = answer.idea_b_id if answer.idea_a_id == dup.pk else answer.idea_a_id
        # Re-express the answer with the kept idea in the duplicate's place.
        chose_dup = (answer.result == 1 and answer.idea_a_id == dup.pk) or (
            answer.result == -1 and answer.idea_b_id == dup.pk
        )
        chose_other = answer.result != 0 and not chose_dup
        answer.idea_a_id, answer.idea_b_id = min(kept.pk, other), max(kept.pk, other)
        kept_first = answer.idea_a_id == kept.pk
        if chose_dup:
            answer.result = 1 if kept_first else -1
        elif chose_other:
            answer.result = -1 if kept_first else 1
        earlier = kept_answers.get((answer.person_id, other))
        if earlier is not None:
            if earlier.created_at > answer.created_at:
                superseded.append(answer.pk)
                continue
            superseded.append(earlier.pk)
        kept_answers[(answer.person_id, other)] = answer
        moved.append(answer)
    IdeaComparison.objects.filter(pk__in=superseded).delete()
    IdeaComparison.objects.bulk_update(moved, ["idea_a", "idea_b", "result"])

    # Links, earlier merges, and the duplicate itself.
    concerns = list(dup.concerns.all())
    if concerns:
        kept.concerns.add(*concerns)
    for project in dup.improvement_projects.all():
        project.ideas.add(kept)
    Idea.objects.filter(merged_into=dup).update(merged_into=kept)
    dup.stage = Idea.Stage.MERGED
    dup.merged_into = kept
    dup.stage_reason = ""
    dup.stage_changed_at = now
    dup.save(update_fields=["stage", "merged_into", "stage_reason", "stage_changed_at"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=dup,
        clinic_id=dup.committee.clinic_id,
        changes={
            "merged_into": str(kept.public_id),
            "people_with_dots_moved": moved_people,
            "answers_moved": len(moved),
            "answers_dropped": dropped + len(superseded),
        },
    )
    return kept


# --- dots -----------------------------------------------------------------------------------


def _wallet(actor: Any, board: IdeaBoard) -> DotWallet:
    """The actor's wallet row on the board, locked (created under the board's lock)."""
    wallet = DotWallet.objects.select_for_update().filter(board=board, person=actor).first()
    if wallet is None:
        IdeaBoard.objects.select_for_update().filter(pk=board.pk).first()
        DotWallet.objects.get_or_create(board=board, person=actor)
        wallet = DotWallet.objects.select_for_update().get(board=board, person=actor)
    return wallet


def dots_used(actor: Any, committee: Committee) -> int:
    return int(
        IdeaDot.objects.filter(idea__committee=committee, person=actor).aggregate(n=Sum("count"))[
            "n"
        ]
        or 0
    )


def _change_dots(actor: Any, committee: Committee, new_counts: Mapping[Idea, int]) -> int:
    """Set the actor's dots on each idea given; returns the dots they have left."""
    board = board_of(committee)
    _wallet(actor, board)
    # Read under the wallet's lock: a change of the number of dots has committed by now.
    allowance = IdeaBoard.objects.values_list("dots_per_person", flat=True).get(pk=board.pk)
    locked = _lock_ideas(*new_counts)
    current = {row.idea_id: row for row in IdeaDot.objects.filter(person=actor, idea_id__in=locked)}
    for idea, count in new_counts.items():
        row = locked[idea.pk]
        if row.committee_id != committee.pk:
            raise ValidationError("That idea is on another board.")
        if count < 0:
            raise ValidationError("You cannot have fewer than no dots on an idea.")
        had = current[row.pk].count if row.pk in current else 0
        if count > had and row.stage not in OPEN_IDEA_STAGES:
            if row.stage == Idea.Stage.MERGED:
                raise ValidationError("That idea was merged into another: put your dots there.")
            raise ValidationError(
                f"That idea is {row.get_stage_display().lower()}: it takes no more dots."
            )
    used = dots_used(actor, committee)
    after = used + sum(
        count - (current[idea.pk].count if idea.pk in current else 0)
        for idea, count in new_counts.items()
    )
    if after > allowance and after > used:
        raise ValidationError(
            f"You have {allowance} dots on this board and {allowance - used} left. Take a dot "
            "off another idea first."
        )
    now = timezone.now()
    side = _side(actor, committee.pk)
    for idea, count in new_counts.items():
        dot = current.get(idea.pk)
        if count == 0:
            if dot is not None:
                dot.delete()
        elif dot is None:
            IdeaDot.objects.create(idea_id=idea.pk, person=actor, side=side, count=count)
        elif dot.count != count or dot.side != side:
            dot.count, dot.side, dot.updated_at = count, side, now
            dot.save(update_fields=["count", "side", "updated_at"])
    # Who changed their dots and when, never on what.
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=board,
        clinic_id=committee.clinic_id,
        changes={"dots": "changed"},
    )
    return allowance - after


@transaction.atomic
def dots_set(*, actor: Any, idea: Idea, count: int) -> int:
    """Put exactly ``count`` of the actor's dots on ``idea``; returns the dots left."""
    return _change_dots(actor, idea.committee, {idea: count})


@transaction.atomic
def dots_add(*, actor: Any, idea: Idea, delta: int) -> int:
    """Add (or, negative, take off) dots on ``idea``; returns the dots left."""
    board = board_of(idea.committee)
    _wallet(actor, board)
    had = IdeaDot.objects.filter(idea=idea, person=actor).values_list("count", flat=True).first()
    return _change_dots(actor, idea.committee, {idea: max(0, (had or 0) + delta)})


@transaction.atomic
def dots_move(*, actor: Any, source: Idea, target: Idea, count: int = 1) -> int:
    """Move ``count`` dots from one idea to another in one step; returns the dots left."""
    if source.pk == target.pk:
        raise ValidationError("Choose another idea to move your dots to.")
    if count < 1:
        raise ValidationError("Move at least one dot.")
    board = board_of(source.committee)
    _wallet(actor, board)
    have = dict(
        IdeaDot.objects.filter(person=actor, idea__in=[source, target]).values_list(
            "idea_id", "count"
        )
    )
    if have.get(source.pk, 0) < count:
        raise ValidationError("You do not have that many dots on that idea.")
    return _change_dots(
        actor,
        source.committee,
        {source: have[source.pk] - count, target: have.get(target.pk, 0) + count},
    )


@transaction.atomic
def board_settings_set(*, actor: Any, committee: Committee, dots_per_person: int) -> IdeaBoard:
    """Change the number of dots per person. Lowering it is refused while someone has more
    dots placed than the new number (they would have to take some off first)."""
    if not 1 <= dots_per_person <= IDEA_DOTS_MAX:
        raise ValidationError(f"Give between 1 and {IDEA_DOTS_MAX} dots per person.")
    board = board_of(committee)
    locked = IdeaBoard.objects.select_for_update().get(pk=board.pk)
    list(DotWallet.objects.select_for_update().filter(board=locked).order_by("pk"))
    before = locked.dots_per_person
    if dots_per_person == before:
        return locked
    if dots_per_person < before:
        most = (
            IdeaDot.objects.filter(idea__committee=committee)
            .values("person")
            .annotate(n=Sum("count"))
            .order_by("-n")
            .values_list("n", flat=True)
            .first()
        )
        if most is not None and most > dots_per_person:
            raise ValidationError(
                f"Someone has {most} dots placed: the number cannot go below that now."
            )
    locked.dots_per_person = dots_per_person
    locked.save(update_fields=["dots_per_person"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=locked,
        clinic_id=committee.clinic_id,
        changes={"dots_per_person": [before, dots_per_person]},
    )
    return locked


# --- pairwise answers ---------------------------------------------------------------------


@transaction.atomic
def comparison_record(
    *, actor: Any, committee: Committee, shown: Sequence[Idea], choice: str
) -> IdeaComparison:
    """Record the actor's answer for the pair ``shown`` (left, right): ``"first"`` (left),
    ``"second"`` (right) or ``"none"`` (can't decide). Answering the same pair again replaces
    the earlier answer."""
    if choice not in (*CHOICES, UNDECIDED):
        raise ValidationError("Choose one of the two ideas, or “can't decide”.")
    if len(shown) != 2 or shown[0].pk == shown[1].pk:
        raise ValidationError("Compare two different ideas.")
    board = board_of(committee)
    locked = _lock_ideas(*shown)
    left, right = locked[shown[0].pk], locked[shown[1].pk]
    for row in (left, right):
        if row.committee_id != committee.pk:
            raise ValidationError("That idea is on another board.")
        if row.stage not in OPEN_IDEA_STAGES:
            raise ValidationError("One of these ideas has moved on: here is another pair.")
    result = int(CHOICES.get(choice, IdeaComparison.Result.UNDECIDED))
    first, second = (left, right) if left.pk < right.pk else (right, left)
    if first is not left:
        result = -result
    now = timezone.now()
    fields = {"result": result, "side": _side(actor, committee.pk), "created_at": now}
    answer, _created = IdeaComparison.objects.update_or_create(
        person=actor,
        idea_a=first,
        idea_b=second,
        defaults=fields,
        create_defaults={**fields, "board": board},
    )
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=board,
        clinic_id=committee.clinic_id,
        changes={"comparison": "recorded"},
    )
    return answer


__all__ = [
    "STAGE_MOVES",
    "board_of",
    "board_settings_set",
    "comparison_record",
    "dots_add",
    "dots_move",
    "dots_set",
    "dots_used",
    "idea_link_concern",
    "idea_merge",
    "idea_propose",
    "idea_set_stage",
]
