"""Writes for common-ground conversations: start, open / close, statements, moderation,
votes, the background recompute, and Pol.is import / export.

Every write is audited. A vote's audit event names the voter and the conversation but never
the statement or the value: votes are private.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import dateformat, timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.phi import find_patient_identifiers
from commonground.core.permissions import allowed
from commonground.deliberation import polis_io, polls
from commonground.deliberation.models import (
    STATEMENT_MAX_CHARS,
    Conversation,
    OpinionSnapshot,
    Participant,
    Poll,
    PollOption,
    PollVote,
    Statement,
    Vote,
)
from commonground.deliberation.opinion import analyse, bridge_statements, build_vote_matrix
from commonground.deliberation.opinion.engine import OpinionResult
from commonground.meetings.models import Decision
from commonground.meetings.services import decision_record
from commonground.organizations.access import access_profile
from commonground.organizations.models import Committee, Side

logger = logging.getLogger(__name__)

MODERATE = "deliberation.moderate"
# The debounce: votes within this many seconds share one recompute.
RECOMPUTE_DELAY_SECONDS = 3
# A marker older than this belongs to a lost task: the next vote queues a new one.
RECOMPUTE_STALE_SECONDS = 300
# Engine side names for the bridge partition.
ENGINE_SIDE: dict[str, str] = {Side.CLINICIAN: "clinician", Side.MANAGEMENT: "manager"}
VOTE_VALUES = {"agree": Vote.Value.AGREE, "disagree": Vote.Value.DISAGREE, "pass": Vote.Value.PASS}
MODERATION_DECISIONS = ("accept", "reject", "meta", "not_meta")
IMPORT_MAX_PARTICIPANTS = 5_000
IMPORT_MAX_STATEMENTS = 2_000


def min_group_size() -> int:
    return int(settings.COMMONGROUND_MIN_GROUP_SIZE)


def _clean_text(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise ValidationError("Write a statement.")
    if len(text) > STATEMENT_MAX_CHARS:
        raise ValidationError(f"Keep a statement to {STATEMENT_MAX_CHARS} characters.")
    findings = find_patient_identifiers(text)
    if findings:
        kinds = ", ".join(sorted({f.kind for f in findings}))
        raise ValidationError(
            f"This looks like patient information ({kinds}). Remove it: statements are about "
            "practice, never about a patient."
        )
    return text


def _lock(conversation: Conversation) -> Conversation:
    """The conversation row, locked until the transaction ends: it serialises a
    conversation's votes, participant numbers and statement numbers."""
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _mark_changed(locked: Conversation, now: dt.datetime) -> list[str]:
    """Bump the revision and, unless one is already queued, queue a recompute after commit.
    Returns the fields to save."""
    locked.revision += 1
    fields = ["revision"]
    requested = locked.recompute_requested_at
    if requested is None or requested < now - dt.timedelta(seconds=RECOMPUTE_STALE_SECONDS):
        locked.recompute_requested_at = now
        fields.append("recompute_requested_at")
        conversation_id = locked.pk
        transaction.on_commit(lambda: _enqueue_recompute(conversation_id), robust=True)
    return fields


def _enqueue_recompute(conversation_id: int) -> None:
    from commonground.deliberation.tasks import recompute_conversation

    task = recompute_conversation
    if task.get_backend().supports_defer:
        run_after = timezone.now() + dt.timedelta(seconds=RECOMPUTE_DELAY_SECONDS)
        task = task.using(run_after=run_after)
    task.enqueue(conversation_id)


# --- conversations -----------------------------------------------------------------------


@transaction.atomic
def conversation_start(
    *,
    actor: Any,
    committee: Committee,
    topic: str,
    description: str = "",
    allow_statements: bool = True,
    auto_accept: bool = False,
    open_to_region: bool = False,
    seed_statements: Sequence[str] = (),
) -> Conversation:
    """Open a conversation; co-chairs may give starting statements (accepted at once)."""
    topic = " ".join(topic.split())
    if not topic:
        raise ValidationError("Write the prompt people respond to.")
    findings = find_patient_identifiers(f"{topic}\n{description}")
    if findings:
        raise ValidationError("The prompt or description looks like patient information.")
    if open_to_region and committee.kind == Committee.Kind.CLINIC_PPC:
        raise ValidationError(
            "Only the regional committee and the summit open a conversation to the whole region."
        )
    now = timezone.now()
    conversation = Conversation(
        committee=committee,
        topic=topic,
        description=description.strip(),
        allow_statements=allow_statements,
        auto_accept=auto_accept,
        open_to_region=open_to_region,
        created_by=actor,
        created_at=now,
        opened_at=now,
    )
    conversation.full_clean()
    conversation.save()
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=actor,
        obj=conversation,
        clinic_id=committee.clinic_id,
        changes={"topic": topic, "open_to_region": open_to_region},
    )
    texts = [_clean_text(t) for t in seed_statements if t.strip()]
    for number, text in enumerate(texts):
        Statement.objects.create(
            conversation=conversation,
            number=number,
            text=text,
            is_seed=True,
            moderation=Statement.Moderation.ACCEPTED,
            created_at=now,
            moderated_at=now,
        )
    if texts:
        audit_record(
            action=AuditEvent.Action.CREATE,
            actor=actor,
            obj=conversation,
            clinic_id=committee.clinic_id,
            changes={"seed_statements": len(texts)},
        )
    return conversation


@transaction.atomic
def conversation_set_state(*, actor: Any, conversation: Conversation, state: str) -> Conversation:
    if state not in Conversation.State.values:
        raise ValidationError("Choose open or closed.")
    locked = _lock(conversation)
    if locked.state == state:
        return locked
    now = timezone.now()
    before = locked.state
    locked.state = state
    fields = ["state"]
    if state == Conversation.State.CLOSED:
        locked.closed_at = now
        fields.append("closed_at")
    else:
        locked.opened_at = now
        locked.closed_at = None
        fields += ["opened_at", "closed_at"]
    locked.save(update_fields=fields)
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=locked,
        clinic_id=conversation.committee.clinic_id,
        changes={"state": [before, state]},
    )
    return locked


# --- participants, statements, votes -----------------------------------------------------


def side_of(actor: Any, conversation: Conversation) -> str:
    """The person's side for this conversation: their seat on its committee, else (region-
    wide conversations) the one side all their seats share, else neutral."""
    profile = access_profile(actor)
    side = profile.side_by_committee.get(conversation.committee_id)
    if side is not None:
        return side
    sides = {s for s in profile.side_by_committee.values() if s != Side.NEUTRAL}
    return sides.pop() if len(sides) == 1 else Side.NEUTRAL


def _participant(actor: Any, locked: Conversation) -> tuple[Participant, list[str]]:
    """The actor's participant row (created on first use, under the conversation lock)."""
    side = side_of(actor, locked)
    participant = Participant.objects.filter(conversation=locked, user=actor).first()
    if participant is None:
        participant = Participant.objects.create(
            conversation=locked, user=actor, number=locked.participant_count, side=side
        )
        locked.participant_count += 1
        return participant, ["participant_count"]
    if participant.side != side:
        participant.side = side
        participant.save(update_fields=["side"])
    return participant, []


@transaction.atomic
def statement_add(*, actor: Any, conversation: Conversation, text: str) -> Statement:
    """A participant's statement: pending until a co-chair accepts it, unless the
    conversation accepts statements automatically. A co-chair's statement is a seed,
    accepted at once."""
    clean = _clean_text(text)
    locked = _lock(conversation)
    if not locked.is_open:
        raise ValidationError("This conversation is closed.")
    is_moderator = allowed(actor, MODERATE, locked)
    if not locked.allow_statements and not is_moderator:
        raise ValidationError("This conversation does not take new statements.")
    if Statement.objects.filter(conversation=locked, text__iexact=clean).exists():
        raise ValidationError("That statement is already in this conversation.")
    now = timezone.now()
    participant, fields = _participant(actor, locked)
    accepted = is_moderator or locked.auto_accept
    last = (
        Statement.objects.filter(conversation=locked)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    statement = Statement.objects.create(
        conversation=locked,
        number=0 if last is None else last + 1,
        text=clean,
        author=participant,
        is_seed=is_moderator,
        moderation=(Statement.Moderation.ACCEPTED if accepted else Statement.Moderation.PENDING),
        created_at=now,
        moderated_at=now if accepted else None,
    )
    if fields:
        locked.save(update_fields=fields)
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=actor,
        obj=statement,
        clinic_id=conversation.committee.clinic_id,
        changes={"conversation": str(locked.public_id), "moderation": statement.moderation},
    )
    return statement


@transaction.atomic
def statement_moderate(*, actor: Any, statement: Statement, decision: str) -> Statement:
    """Accept, reject, or mark as meta (a meta statement is about the conversation itself:
    shown for voting, left out of the maths)."""
    if decision not in MODERATION_DECISIONS:
        raise ValidationError("Choose accept, reject or meta.")
    locked = _lock(statement.conversation)
    row = Statement.objects.select_for_update().get(pk=statement.pk)
    before = {"moderation": row.moderation, "is_meta": row.is_meta}
    if decision == "accept":
        row.moderation = Statement.Moderation.ACCEPTED
    elif decision == "reject":
        row.moderation = Statement.Moderation.REJECTED
    elif decision == "meta":
        row.moderation = Statement.Moderation.ACCEPTED
        row.is_meta = True
    else:
        row.is_meta = False
    after = {"moderation": row.moderation, "is_meta": row.is_meta}
    if after == before:
        return row
    now = timezone.now()
    row.moderated_at = now
    row.save(update_fields=["moderation", "is_meta", "moderated_at"])
    locked.save(update_fields=_mark_changed(locked, now))
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=row,
        clinic_id=locked.committee.clinic_id,
        changes={key: [before[key], after[key]] for key in before if before[key] != after[key]},
    )
    return row


@transaction.atomic
def vote_cast(*, actor: Any, conversation: Conversation, statement_number: int, vote: str) -> Vote:
    """Record the actor's vote; a second vote on the same statement replaces the first.

    Race-safe: the conversation row lock serialises a conversation's votes, and the unique
    (statement, participant) constraint backs it up, so two quick submits leave one row
    holding the later value.
    """
    if vote not in VOTE_VALUES:
        raise ValidationError("Choose agree, disagree or pass.")
    locked = _lock(conversation)
    if not locked.is_open:
        raise ValidationError("This conversation is closed; votes are no longer taken.")
    statement = (
        Statement.objects.filter(
            conversation=locked,
            number=statement_number,
            moderation=Statement.Moderation.ACCEPTED,
        )
        .only("pk")
        .first()
    )
    if statement is None:
        raise ValidationError("That statement is not open for votes.")
    now = timezone.now()
    participant, fields = _participant(actor, locked)
    row, _created = Vote.objects.update_or_create(
        statement=statement,
        participant=participant,
        defaults={"value": VOTE_VALUES[vote], "updated_at": now},
        create_defaults={
            "conversation": locked,
            "value": VOTE_VALUES[vote],
            "created_at": now,
            "updated_at": now,
        },
    )
    locked.save(update_fields=fields + _mark_changed(locked, now))
    # Who took part and when, never what they chose nor on which statement.
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        object_type="deliberation.conversation",
        object_id=str(locked.pk),
        object_repr=str(locked)[:200],
        clinic_id=conversation.committee.clinic_id,
        changes={"vote": "recorded"},
    )
    return row


# --- recompute ---------------------------------------------------------------------------


def _figures(a: int, d: int, s: int) -> list[int]:
    return [int(a), int(d), int(s)]


def snapshot_payload(
    result: OpinionResult,
    sides: Mapping[Hashable, str],
    *,
    min_side_voters: int,
) -> dict[str, Any]:
    """The stored, JSON-ready form of one engine run. Participants appear only by their
    conversation number; statements by their number."""
    bridges = bridge_statements(result, sides, min_side_voters=min_side_voters)
    gv = result.group_votes
    statements = [int(s) for s in result.statements]  # type: ignore[call-overload]
    proj = np.round(result.pca.participant_projections, 4).tolist()
    groups = result.group_of.tolist()
    side_counts: dict[str, int] = {}
    for p in result.participants:
        side = sides.get(p, "neutral")
        side_counts[side] = side_counts.get(side, 0) + 1
    return {
        "k": int(result.k),
        "n_participants": len(result.participants),
        "n_in_conv": int(result.in_conv.sum()),
        "statements": statements,
        "groups": [{"id": g, "size": int(gv.n_members[g])} for g in range(result.k)],
        "points": [
            [int(p), xy[0], xy[1], (int(g) if g >= 0 else None)]  # type: ignore[call-overload]
            for p, xy, g in zip(result.participants, proj, groups, strict=True)
        ],
        "consensus": {
            side: [
                {
                    "statement": int(e.statement),  # type: ignore[call-overload]
                    "n_success": e.n_success,
                    "n_trials": e.n_trials,
                    "p_success": e.p_success,
                }
                for e in entries
            ]
            for side, entries in result.consensus.items()
        },
        "repness": [
            [
                {
                    "statement": int(e.statement),  # type: ignore[call-overload]
                    "repful_for": e.repful_for,
                    "n_success": e.n_success,
                    "n_trials": e.n_trials,
                    "p_success": e.p_success,
                    "n_agree": e.n_agree,
                    "n_disagree": e.n_disagree,
                    "best_agree": e.best_agree,
                }
                for e in entries
            ]
            for entries in result.repness
        ],
        "group_votes": [
            {
                str(s): _figures(a, d, n)
                for s, a, d, n in zip(
                    statements,
                    gv.agree[g].tolist(),
                    gv.disagree[g].tolist(),
                    gv.seen[g].tolist(),
                    strict=True,
                )
            }
            for g in range(result.k)
        ],
        "bridges": [
            {
                "statement": int(b.statement),  # type: ignore[call-overload]
                "score": b.score,
                "sides": {
                    side: _figures(f.agree, f.disagree, f.seen) for side, f in b.sides.items()
                },
                "groups": [_figures(f.agree, f.disagree, f.seen) for f in b.groups.values()],
            }
            for b in bridges
        ],
        "side_voters": side_counts,
        "min_side_voters": min_side_voters,
        "gic": {
            str(s): float(v)
            for s, v in zip(statements, result.group_informed_consensus.tolist(), strict=True)
        },
    }


def conversation_recompute(*, conversation_id: int) -> OpinionSnapshot | None:
    """Recompute a conversation's opinion groups and store the snapshot.

    1. Clear the "recompute queued" marker first, so any vote from now on queues another run.
    2. Skip when the stored snapshot already has the current revision (safe to run twice).
    3. Read the revision, then the votes (which include at least every vote of that
       revision), run the engine outside any lock, and store the result unless a newer
       snapshot was written meanwhile.
    """
    Conversation.objects.filter(pk=conversation_id).update(recompute_requested_at=None)
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    existing = OpinionSnapshot.objects.filter(conversation=conversation).first()
    if existing is not None and existing.revision == conversation.revision:
        return existing
    revision = conversation.revision
    votes = list(
        Vote.objects.filter(conversation=conversation)
        .order_by("created_at", "id")
        .values_list("participant__number", "statement__number", "value")
    )
    moderation = list(
        Statement.objects.filter(conversation=conversation).values_list(
            "number", "moderation", "is_meta"
        )
    )
    sides: dict[Hashable, str] = {
        number: ENGINE_SIDE.get(side, "neutral")
        for number, side in Participant.objects.filter(conversation=conversation).values_list(
            "number", "side"
        )
    }
    rejected = {n for n, mod, _ in moderation if mod == Statement.Moderation.REJECTED}
    meta = {n for n, _, is_meta in moderation if is_meta}
    matrix = build_vote_matrix(votes)
    result = analyse(matrix, rejected=rejected, meta=meta)
    payload = snapshot_payload(result, sides, min_side_voters=min_group_size())
    priorities = {
        str(s): float(p) for s, p in zip(result.statements, result.priority.tolist(), strict=True)
    }
    with transaction.atomic():
        _lock(conversation)  # one writer at a time
        current = OpinionSnapshot.objects.filter(conversation=conversation).first()
        if current is not None and current.revision > revision:
            return current
        snapshot, _ = OpinionSnapshot.objects.update_or_create(
            conversation=conversation,
            defaults={
                "computed_at": timezone.now(),
                "revision": revision,
                "vote_count": len(votes),
                "participant_count": len(matrix.participants),
                "priorities": priorities,
                "result": payload,
            },
        )
    return snapshot


# --- Pol.is export and import ------------------------------------------------------------


def conversation_matrix(conversation: Conversation) -> tuple[Any, list[Statement]]:
    """The vote matrix (participants by number, in first-vote order) and every statement."""
    votes = (
        Vote.objects.filter(conversation=conversation)
        .order_by("created_at", "id")
        .values_list("participant__number", "statement__number", "value")
    )
    statements = list(Statement.objects.filter(conversation=conversation).order_by("number"))
    return build_vote_matrix(votes), statements


def conversation_export(*, actor: Any, conversation: Conversation) -> bytes:
    """A zip in Pol.is export format: ``participants-votes.csv``, ``comments.csv`` and
    ``summary.csv``. Participants are their pseudonymous conversation numbers. Authors are
    left out (``author-id`` empty, ``n-comments`` 0): moderators could otherwise tie a
    statement they know the author of to that person's row of votes."""
    matrix, statements = conversation_matrix(conversation)
    snapshot = OpinionSnapshot.objects.filter(conversation=conversation).first()
    group_of: dict[int, int] = {}
    gic: dict[str, float] = {}
    if snapshot is not None:
        group_of = {p[0]: p[3] for p in snapshot.result.get("points", []) if p[3] is not None}
        gic = snapshot.result.get("gic", {})
    col = {s: j for j, s in enumerate(matrix.statements)}
    all_numbers = [s.number for s in statements]
    values = np.zeros((len(matrix.participants), len(all_numbers)), dtype=np.int8)
    voted = np.zeros(values.shape, dtype=bool)
    for j, number in enumerate(all_numbers):
        if number in col:
            values[:, j] = matrix.values[:, col[number]]
            voted[:, j] = matrix.voted[:, col[number]]
    pv = polis_io.format_participants_votes(
        matrix.participants,
        all_numbers,
        values,
        voted,
        group_ids=[group_of.get(int(str(p))) for p in matrix.participants],
    )
    comments = []
    for j, s in enumerate(statements):
        comments.append(
            polis_io.ExportComment(
                statement=s.number,
                body=s.text,
                moderated=s.polis_moderated,
                is_meta=s.is_meta,
                is_seed=s.is_seed,
                agrees=int(((values[:, j] == 1) & voted[:, j]).sum()),
                disagrees=int(((values[:, j] == -1) & voted[:, j]).sum()),
                timestamp_ms=int(s.created_at.timestamp() * 1000),
                group_informed_consensus=gic.get(str(s.number)),
            )
        )
    summary = io.StringIO()
    for key, value in (
        ("topic", conversation.topic),
        ("voters", len(matrix.participants)),
        ("comments", len(statements)),
        ("groups", snapshot.result.get("k", "") if snapshot else ""),
        ("conversation-description", conversation.description),
    ):
        summary.write(polis_io.format_summary_row(str(key), str(value)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("participants-votes.csv", pv)
        archive.writestr("comments.csv", polis_io.format_comments(comments))
        archive.writestr("summary.csv", summary.getvalue())
    audit_record(
        action=AuditEvent.Action.EXPORT,
        actor=actor,
        obj=conversation,
        clinic_id=conversation.committee.clinic_id,
        changes={"format": "polis", "voters": len(matrix.participants)},
    )
    return buffer.getvalue()


def _polis_moderation(moderated: int, has_votes: bool) -> str:
    if moderated < 0:
        return Statement.Moderation.REJECTED
    if moderated > 0 or has_votes:
        # A statement people voted on was shown to them in the source conversation.
        return Statement.Moderation.ACCEPTED
    return Statement.Moderation.PENDING


@transaction.atomic
def conversation_import(
    *,
    actor: Any,
    committee: Committee,
    topic: str,
    description: str = "",
    participants_votes: bytes,
    comments: bytes,
) -> Conversation:
    """A closed conversation built from a Pol.is export. Imported participants are
    pseudonymous rows tied to no account (side neutral), numbered in file order; statements
    keep their Pol.is ids. Rejected or meta flags come from ``comments.csv``; an unmoderated
    statement that has votes is accepted (it was shown), one without votes waits."""
    try:
        pv = polis_io.parse_participants_votes(participants_votes)
        info = polis_io.parse_comments(comments)
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise ValidationError(f"Those files are not a Pol.is export: {exc}") from exc
    if len(pv.participants) > IMPORT_MAX_PARTICIPANTS or len(info.comments) > IMPORT_MAX_STATEMENTS:
        raise ValidationError("That export is larger than a conversation here can hold.")
    by_id = {c.statement: c for c in info.comments}
    ids = list(dict.fromkeys([*by_id, *pv.statements]))
    if any(not isinstance(s, int) or s < 0 for s in ids):
        raise ValidationError("Statement ids in a Pol.is export are whole numbers.")
    texts: dict[int, str] = {}
    problems: list[str] = []
    for sid in ids:
        body = " ".join((by_id[sid].body if sid in by_id else "").split())
        body = body or f"Statement {sid} (no text in the export)"
        if len(body) > STATEMENT_MAX_CHARS:
            problems.append(f"statement {sid} is longer than {STATEMENT_MAX_CHARS} characters")
        elif find_patient_identifiers(body):
            problems.append(f"statement {sid} looks like patient information")
        texts[sid] = body  # type: ignore[index]
    if problems:
        raise ValidationError("Fix the export first: " + "; ".join(problems[:10]) + ".")
    conversation = conversation_start(
        actor=actor, committee=committee, topic=topic, description=description
    )
    now = timezone.now()
    col = {s: j for j, s in enumerate(pv.statements)}
    has_votes = np.asarray(pv.voted.any(axis=0), dtype=bool)
    statements: dict[int, Statement] = {}
    for sid in sorted(texts):
        c = by_id.get(sid)
        voted_on = sid in col and bool(has_votes[col[sid]])
        moderation = _polis_moderation(c.moderated if c else 0, voted_on)
        statements[sid] = Statement(
            conversation=conversation,
            number=sid,
            text=texts[sid],
            is_seed=bool(c and c.is_seed),
            is_meta=bool(c and c.is_meta),
            moderation=moderation,
            created_at=now,
            moderated_at=now if moderation != Statement.Moderation.PENDING else None,
        )
    Statement.objects.bulk_create(statements.values())
    participants = Participant.objects.bulk_create(
        Participant(conversation=conversation, number=i, side=Side.NEUTRAL, created_at=now)
        for i in range(len(pv.participants))
        if pv.voted[i].any()
    )
    rows = [i for i in range(len(pv.participants)) if pv.voted[i].any()]
    # Participant-major, in file order: the recompute reads votes by (created_at, id), so
    # the engine sees the file's row order.
    votes = [
        Vote(
            conversation=conversation,
            statement=statements[pv.statements[j]],  # type: ignore[index]
            participant=participant,
            value=int(pv.values[i, j]),
            created_at=now,
            updated_at=now,
        )
        for participant, i in zip(participants, rows, strict=True)
        for j in np.flatnonzero(pv.voted[i]).tolist()
    ]
    Vote.objects.bulk_create(votes, batch_size=2000)
    locked = _lock(conversation)
    locked.participant_count = len(participants)
    locked.imported = True
    locked.state = Conversation.State.CLOSED
    locked.closed_at = now
    fields = ["participant_count", "imported", "state", "closed_at"]
    locked.save(update_fields=fields + _mark_changed(locked, now))
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=actor,
        obj=locked,
        clinic_id=committee.clinic_id,
        changes={
            "import": "polis",
            "participants": len(participants),
            "statements": len(statements),
            "votes": len(votes),
        },
    )
    return locked


def read_archive(data: bytes) -> tuple[bytes, bytes]:
    """``participants-votes.csv`` and ``comments.csv`` from a zip (any folder inside)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found: dict[str, bytes] = {}
            for info in archive.infolist():
                name = info.filename.rsplit("/", 1)[-1]
                if name in ("participants-votes.csv", "comments.csv") and name not in found:
                    if info.file_size > 50 * 1024 * 1024:
                        raise ValidationError("A file in that archive is too large.")
                    found[name] = archive.read(info)
    except zipfile.BadZipFile as exc:
        raise ValidationError("That is not a zip archive.") from exc
    missing = {"participants-votes.csv", "comments.csv"} - set(found)
    if missing:
        raise ValidationError("The archive needs " + " and ".join(sorted(missing)) + ".")
    return found["participants-votes.csv"], found["comments.csv"]


# --- decision polls --------------------------------------------------------------------------
#
# Race safety: every vote and every close takes the poll row's lock (select_for_update)
# and reads the clock and the state under it, and (poll, voter) is unique. Two quick submits
# therefore leave one row holding the later ballot, and a vote that reaches the lock after
# a close, or after ``closing_at``, is refused. Audit events of votes never hold the choice.

POLL_REASON_MAX_CHARS = 2000
POLL_MIN_DURATION = dt.timedelta(minutes=5)


def _lock_poll(poll: Poll) -> Poll:
    return Poll.objects.select_for_update().select_related("committee").get(pk=poll.pk)


def _no_patient_information(*texts: str) -> None:
    if find_patient_identifiers("\n".join(texts)):
        raise ValidationError(
            "This looks like patient information. Remove it: polls are about practice, never "
            "about a patient."
        )


def _enqueue_poll_close(poll_id: int, closing_at: dt.datetime) -> None:
    from commonground.deliberation.tasks import close_poll

    task = close_poll
    if task.get_backend().supports_defer:
        task = task.using(run_after=closing_at)
    task.enqueue(poll_id)


@transaction.atomic
def poll_create(
    *,
    actor: Any,
    committee: Committee,
    kind: str,
    title: str,
    closing_at: dt.datetime,
    details: str = "",
    options: Sequence[str] = (),
    times: Sequence[dt.datetime] = (),
    anonymous: bool = False,
    hide_results: bool = False,
    score_max: int = 5,
    dots_per_voter: int = 8,
    quorum_clinicians: int = 0,
    quorum_management: int = 0,
    now: dt.datetime | None = None,
) -> Poll:
    """Open a poll. Score, ranked-choice and dot polls take ``options`` (labels); a
    meeting-time poll takes ``times``; the other kinds have fixed answers."""
    now = now or timezone.now()
    title = " ".join(title.split())
    if not title:
        raise ValidationError("Write the question people vote on.")
    if kind not in Poll.Kind.values:
        raise ValidationError("Choose a kind of poll.")
    if closing_at < now + POLL_MIN_DURATION:
        raise ValidationError("Give a closing time at least five minutes from now.")
    labels: list[str] = []
    starts: list[dt.datetime | None] = []
    if kind == Poll.Kind.MEETING:
        if any(t <= now for t in times):
            raise ValidationError("Propose meeting times in the future.")
        ordered = sorted(dict.fromkeys(times))
        labels = [dateformat.format(timezone.localtime(t), "D M j, Y, H:i") for t in ordered]
        starts = list(ordered)
    elif polls.uses_options(kind):
        labels = list(dict.fromkeys(" ".join(o.split()) for o in options if o.strip()))
        starts = [None] * len(labels)
    if polls.uses_options(kind) and not (polls.MIN_OPTIONS <= len(labels) <= polls.MAX_OPTIONS):
        raise ValidationError(
            f"Give between {polls.MIN_OPTIONS} and {polls.MAX_OPTIONS} different options."
        )
    if any(len(label) > 200 for label in labels):
        raise ValidationError("Keep each option to 200 characters.")
    _no_patient_information(title, details, *labels)
    poll = Poll(
        committee=committee,
        kind=kind,
        title=title,
        details=details.strip(),
        anonymous=anonymous,
        # Live totals of an anonymous poll give each vote away to anyone who watches them
        # change as people vote: its results wait for the close.
        hide_results=hide_results or anonymous,
        closing_at=closing_at,
        score_max=score_max,
        dots_per_voter=dots_per_voter,
        quorum_clinicians=quorum_clinicians,
        quorum_management=quorum_management,
        created_by=actor,
        created_at=now,
    )
    poll.full_clean(exclude=["decision"])
    poll.save()
    PollOption.objects.bulk_create(
        PollOption(poll=poll, position=i, label=label, starts_at=start)
        for i, (label, start) in enumerate(zip(labels, starts, strict=True))
    )
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=actor,
        obj=poll,
        clinic_id=committee.clinic_id,
        changes={
            "kind": kind,
            "title": title,
            "options": len(labels),
            "anonymous": anonymous,
            "hide_results": hide_results,
            "closing_at": closing_at.isoformat(),
            "quorum": [quorum_clinicians, quorum_management],
        },
    )
    poll_id = poll.pk
    transaction.on_commit(lambda: _enqueue_poll_close(poll_id, closing_at), robust=True)
    return poll


def poll_ballot(kind: str, side: str, choice: str, ballot: Any) -> polls.Ballot:
    """A stored vote as the tally's ``Ballot``."""
    if kind == Poll.Kind.RANKED:
        return polls.Ballot(side=side, ranking=tuple(int(x) for x in ballot or []))
    if polls.uses_options(kind):
        return polls.Ballot(side=side, values={int(k): int(v) for k, v in (ballot or {}).items()})
    return polls.Ballot(side=side, choice=choice)


def poll_ballots(poll: Poll) -> list[polls.Ballot]:
    rows = PollVote.objects.filter(poll=poll).values_list("side", "choice", "ballot")
    return [poll_ballot(poll.kind, side, choice, ballot) for side, choice, ballot in rows]


@transaction.atomic
def poll_vote(
    *,
    actor: Any,
    poll: Poll,
    choice: str = "",
    reason: str = "",
    values: Mapping[int, int] | None = None,
    ranking: Sequence[int] | None = None,
) -> PollVote:
    """Record the actor's vote; voting again replaces it while the poll is open."""
    locked = _lock_poll(poll)
    now = timezone.now()  # read under the lock: a close that got there first has committed
    if not locked.is_open_at(now):
        raise ValidationError("This poll is closed; votes are no longer taken.")
    reason = reason.strip()
    if len(reason) > POLL_REASON_MAX_CHARS:
        raise ValidationError(f"Keep your reason to {POLL_REASON_MAX_CHARS} characters.")
    if reason:
        _no_patient_information(reason)
    n_options = PollOption.objects.filter(poll=locked).count()
    try:
        ballot = polls.clean_ballot(
            locked.kind,
            n_options=n_options,
            choice=choice,
            reason=reason,
            values=values,
            ranking=ranking,
            score_max=locked.score_max,
            dots=locked.dots_per_voter,
        )
    except polls.BallotError as exc:
        raise ValidationError(str(exc)) from exc
    stored: Any
    if locked.kind == Poll.Kind.RANKED:
        stored = list(ballot.ranking)
    elif polls.uses_options(locked.kind):
        stored = {str(k): v for k, v in ballot.values.items()}
    else:
        stored = {}
    side = access_profile(actor).side_by_committee.get(locked.committee_id, Side.NEUTRAL)
    fields = {
        "side": side,
        "choice": ballot.choice,
        "ballot": stored,
        "reason": reason,
        "updated_at": now,
    }
    row, _created = PollVote.objects.update_or_create(
        poll=locked,
        voter=actor,
        defaults=fields,
        create_defaults={**fields, "created_at": now},
    )
    # Who voted and when, never what.
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=locked,
        clinic_id=locked.committee.clinic_id,
        changes={"vote": "recorded"},
    )
    return row


def _close_locked(locked: Poll, now: dt.datetime, actor: Any) -> bool:
    """Mark a locked poll closed (at its closing time if that has passed). False when it
    already was."""
    if locked.state == Poll.State.CLOSED:
        return False
    locked.state = Poll.State.CLOSED
    locked.closed_at = min(now, locked.closing_at)
    locked.save(update_fields=["state", "closed_at"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=locked,
        clinic_id=locked.committee.clinic_id,
        changes={"state": [Poll.State.OPEN, Poll.State.CLOSED]},
    )
    return True


def poll_results(poll: Poll) -> tuple[polls.Tally, polls.Quorum, dict[str, int]]:
    """The tally over everyone, the quorum and the voters by side."""
    ballots = poll_ballots(poll)
    labels = list(
        PollOption.objects.filter(poll=poll).order_by("position").values_list("label", flat=True)
    )
    result = polls.tally(poll.kind, ballots, labels, score_max=poll.score_max)
    counts = polls.side_counts(ballots)
    return result, polls.quorum(counts, poll.quorum_clinicians, poll.quorum_management), counts


def poll_outcome_draft(poll: Poll) -> str:
    result, q, _ = poll_results(poll)
    return polls.draft_outcome(poll.title, result, q)


@transaction.atomic
def poll_close(
    *,
    actor: Any,
    poll: Poll,
    statement: str = "",
    review_on: dt.date | None = None,
) -> Poll:
    """Close the poll (if still open) and record its outcome as a decision in the
    committee's decisions log. An empty statement records the draft built from the tally.
    The outcome is recorded once."""
    locked = _lock_poll(poll)
    if locked.decision_id is not None:
        raise ValidationError("The outcome of this poll is already recorded.")
    now = timezone.now()
    _close_locked(locked, now, actor)
    ballots = poll_ballots(locked)
    labels = list(
        PollOption.objects.filter(poll=locked).order_by("position").values_list("label", flat=True)
    )
    result = polls.tally(locked.kind, ballots, labels, score_max=locked.score_max)
    counts = polls.side_counts(ballots)
    q = polls.quorum(counts, locked.quorum_clinicians, locked.quorum_management)
    draft = polls.draft_outcome(locked.title, result, q)
    statement = statement.strip() or draft
    _no_patient_information(statement)
    rationale = [f"Outcome of the poll “{locked.title}” ({locked.get_kind_display().lower()})."]
    if q.required and not q.met:
        rationale.append("Quorum not met (" + " and ".join(q.short_sides) + " side).")
    rationale += [result.headline, *result.lines, f"Poll: {locked.get_absolute_url()}"]
    split = polls.decision_split(locked.kind, ballots)
    # The split by side is kept for an anonymous poll only when each side is big enough
    # for its figures to hide individual votes.
    if (
        split is not None
        and locked.anonymous
        and not polls.breakdown_visible(counts, min_group_size())
    ):
        split = None
    decision: Decision = decision_record(
        actor=actor,
        committee=locked.committee,
        statement=statement,
        rationale=" ".join(rationale),
        decided_on=timezone.localdate(locked.closed_at or now),
        review_on=review_on,
        **(split or {}),  # type: ignore[arg-type]
    )
    locked.decision = decision
    locked.save(update_fields=["decision"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=locked,
        clinic_id=locked.committee.clinic_id,
        changes={"outcome": str(decision.public_id), "quorum_met": q.met},
    )
    return locked


def poll_close_if_due(*, poll_id: int, now: dt.datetime | None = None) -> bool:
    """Close an open poll whose closing time has passed (the background task; safe to run
    twice, early or late). The outcome is left to a co-chair."""
    with transaction.atomic():
        locked = Poll.objects.select_for_update().select_related("committee").filter(pk=poll_id)
        poll = locked.first()
        if poll is None:
            return False
        now = now or timezone.now()
        if poll.state != Poll.State.OPEN or now < poll.closing_at:
            return False
        return _close_locked(poll, now, None)


def poll_close_due(*, now: dt.datetime | None = None) -> list[int]:
    """Close every open poll past its closing time; the ids of those closed."""
    now = now or timezone.now()
    due = Poll.objects.filter(state=Poll.State.OPEN, closing_at__lte=now).values_list(
        "pk", flat=True
    )
    return [pk for pk in list(due) if poll_close_if_due(poll_id=pk, now=now)]


__all__ = [
    "conversation_export",
    "conversation_import",
    "conversation_recompute",
    "conversation_set_state",
    "conversation_start",
    "poll_ballot",
    "poll_ballots",
    "poll_close",
    "poll_close_due",
    "poll_close_if_due",
    "poll_create",
    "poll_outcome_draft",
    "poll_results",
    "poll_vote",
    "read_archive",
    "side_of",
    "statement_add",
    "statement_moderate",
    "vote_cast",
]
