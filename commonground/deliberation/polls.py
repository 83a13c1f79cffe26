"""Decision polls: the pure arithmetic (no Django). Ballot rules, tallies for every poll
kind, instant-runoff counting, quorum per side, when a breakdown by side may be shown, the
for / against / abstain split a decision records, and the plain-language summary.

Everything here is a function of its arguments: the same ballots give the same result,
whatever order they arrive in.

Poll kinds and their ballots (``Ballot``):

* ``proposal``: one choice of agree / abstain / disagree / block; disagree and block need a
  reason.
* ``consent``: consent / object; an objection needs a reason.
* ``gradients``: Kaner's eight gradients of agreement ("1" whole-hearted endorsement …
  "8" block); a block needs a reason.
* ``fist_to_five``: "0" (a fist: block, reason needed) to "5" fingers.
* ``score``: every option scored from 0 to the poll's maximum (``values``).
* ``ranked``: options in order of preference, most preferred first (``ranking``); ranking
  only some of them is allowed.
* ``dot``: up to the poll's number of dots spread over the options (``values``).
* ``meeting``: every proposed time answered yes (2), if need be (1) or no (0) (``values``).

Instant runoff (``instant_runoff``). Each round every continuing ballot counts for its most
preferred continuing option. An option with more than half of the continuing ballots wins;
otherwise the option with the fewest votes is eliminated and the count repeats. A ballot
whose ranked options have all been eliminated is *exhausted*: it is counted in every later
round as exhausted, and no longer in the majority's denominator. **Ties for last place** are
broken by the earlier rounds, most recent first: the tied option that had fewer votes in
that round goes out. Options level in every round are separated by ballot order: the option
listed later on the ballot goes out. The rule never eliminates an option that has more votes
in the current round than another continuing option.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PROPOSAL = "proposal"
CONSENT = "consent"
GRADIENTS = "gradients"
FIST_TO_FIVE = "fist_to_five"
SCORE = "score"
RANKED = "ranked"
DOT = "dot"
MEETING = "meeting"

KINDS: tuple[tuple[str, str], ...] = (
    (PROPOSAL, "Proposal (agree, abstain, disagree, block)"),
    (CONSENT, "Consent or objection"),
    (GRADIENTS, "Gradients of agreement (8 points)"),
    (FIST_TO_FIVE, "Fist to five"),
    (SCORE, "Score each option"),
    (RANKED, "Ranked choice (instant runoff)"),
    (DOT, "Dot vote"),
    (MEETING, "Meeting time"),
)
KIND_LABELS = dict(KINDS)

# Kinds with a fixed set of choices, one per voter; the others vote on the poll's options.
CHOICES: dict[str, tuple[tuple[str, str, str], ...]] = {
    PROPOSAL: (
        ("agree", "Agree", "I support this proposal."),
        ("abstain", "Abstain", "I am happy for the group to decide without me."),
        ("disagree", "Disagree", "I think we should do something else."),
        ("block", "Block", "I have a serious objection; this must not go ahead as it is."),
    ),
    CONSENT: (
        ("consent", "Consent", "It is good enough for now and safe enough to try."),
        ("object", "Object", "I have an objection the group needs to hear."),
    ),
    # Sam Kaner, Facilitator's Guide to Participatory Decision-Making: the gradients of
    # agreement scale.
    GRADIENTS: (
        ("1", "Whole-hearted endorsement", "I really like it."),
        ("2", "Agreement with a minor point of contention", "Basically, I like it."),
        ("3", "Support with reservations", "I can live with it."),
        ("4", "Abstain", "I have no opinion."),
        ("5", "More discussion needed", "I don't understand the issue well enough yet."),
        ("6", "Don't like but will support", "I don't want to hold up the group."),
        ("7", "Serious disagreement", "I'm not on board with this; don't count on me."),
        ("8", "Block", "I won't support this (veto)."),
    ),
    FIST_TO_FIVE: (
        ("0", "Fist", "No: I block this."),
        ("1", "One finger", "Serious concerns; this needs more discussion."),
        ("2", "Two fingers", "Some concerns I want to talk through."),
        ("3", "Three fingers", "I can go along with it."),
        ("4", "Four fingers", "A good idea; I support it."),
        ("5", "Five fingers", "Full support; I'll help make it happen."),
    ),
}
REASON_REQUIRED: dict[str, frozenset[str]] = {
    PROPOSAL: frozenset({"disagree", "block"}),
    CONSENT: frozenset({"object"}),
    GRADIENTS: frozenset({"8"}),
    FIST_TO_FIVE: frozenset({"0"}),
}
BLOCKS: dict[str, frozenset[str]] = {
    PROPOSAL: frozenset({"block"}),
    CONSENT: frozenset({"object"}),
    GRADIENTS: frozenset({"8"}),
    FIST_TO_FIVE: frozenset({"0"}),
}
# How a choice counts in the decisions log's for / against / abstain split by side. In
# gradients "don't like but will support" is support; in fist to five two fingers ("some
# concerns") counts as neither for nor against.
DECISION_SPLIT: dict[str, dict[str, str]] = {
    PROPOSAL: {"agree": "for", "abstain": "abstain", "disagree": "against", "block": "against"},
    CONSENT: {"consent": "for", "object": "against"},
    GRADIENTS: {
        "1": "for",
        "2": "for",
        "3": "for",
        "4": "abstain",
        "5": "abstain",
        "6": "for",
        "7": "against",
        "8": "against",
    },
    FIST_TO_FIVE: {
        "0": "against",
        "1": "against",
        "2": "abstain",
        "3": "for",
        "4": "for",
        "5": "for",
    },
}
YES, IF_NEED_BE, NO = 2, 1, 0
MEETING_ANSWERS: tuple[tuple[int, str], ...] = (
    (YES, "Yes"),
    (IF_NEED_BE, "If need be"),
    (NO, "No"),
)

OPTION_KINDS = frozenset({SCORE, RANKED, DOT, MEETING})
MIN_OPTIONS = 2
MAX_OPTIONS = 20
SCORE_MAX_LIMIT = 10
DOTS_LIMIT = 100
SIDES = ("clinician", "management")
NEUTRAL = "neutral"


class BallotError(ValueError):
    """A ballot that breaks the poll's rules; the message is for the voter."""


@dataclass(frozen=True)
class Ballot:
    """One person's vote. ``side`` is their side on the committee when they voted."""

    side: str = NEUTRAL
    choice: str = ""
    values: Mapping[int, int] = field(default_factory=dict)
    ranking: tuple[int, ...] = ()


def uses_options(kind: str) -> bool:
    return kind in OPTION_KINDS


def clean_ballot(
    kind: str,
    *,
    n_options: int,
    choice: str = "",
    reason: str = "",
    values: Mapping[int, int] | None = None,
    ranking: Sequence[int] | None = None,
    score_max: int = 5,
    dots: int = 8,
) -> Ballot:
    """The ballot in normal form, or ``BallotError`` saying what is wrong."""
    if kind in CHOICES:
        keys = [key for key, _, _ in CHOICES[kind]]
        if choice not in keys:
            raise BallotError("Choose one of the answers.")
        if choice in REASON_REQUIRED[kind] and not reason.strip():
            raise BallotError("Give a reason: the group needs to hear it.")
        return Ballot(choice=choice)
    values = dict(values or {})
    if any(not isinstance(v, int) or isinstance(v, bool) for v in values.values()):
        raise BallotError("Give whole numbers.")
    if any(k not in range(n_options) for k in values):
        raise BallotError("That option is not in this poll.")
    if kind == SCORE:
        if len(values) != n_options:
            raise BallotError("Score every option.")
        if any(not 0 <= v <= score_max for v in values.values()):
            raise BallotError(f"Scores go from 0 to {score_max}.")
        return Ballot(values=dict(sorted(values.items())))
    if kind == DOT:
        if any(v < 0 for v in values.values()):
            raise BallotError("Dots cannot be negative.")
        spent = sum(values.values())
        if spent == 0:
            raise BallotError("Place at least one dot.")
        if spent > dots:
            raise BallotError(f"You have {dots} dots; you placed {spent}.")
        return Ballot(values={k: v for k, v in sorted(values.items()) if v})
    if kind == MEETING:
        if len(values) != n_options:
            raise BallotError("Answer for every time.")
        if any(v not in (YES, IF_NEED_BE, NO) for v in values.values()):
            raise BallotError("Answer yes, if need be, or no.")
        return Ballot(values=dict(sorted(values.items())))
    if kind == RANKED:
        order = list(ranking or [])
        if not order:
            raise BallotError("Rank at least your first choice.")
        if len(set(order)) != len(order):
            raise BallotError("Rank each option once.")
        if any(not isinstance(o, int) or o not in range(n_options) for o in order):
            raise BallotError("That option is not in this poll.")
        return Ballot(ranking=tuple(order))
    raise BallotError("Unknown poll kind.")


# --- instant runoff ------------------------------------------------------------------------


@dataclass(frozen=True)
class IrvRound:
    number: int
    counts: dict[int, int]  # continuing option -> ballots counting for it
    exhausted: int
    eliminated: int | None = None
    # "" (no tie), "earlier rounds" or "ballot order": how a tie for last place was broken.
    tie_break: str = ""

    @property
    def continuing(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class IrvResult:
    ballots: int
    rounds: tuple[IrvRound, ...]
    winner: int | None

    @property
    def decided_by_tie_break(self) -> bool:
        """The last elimination, which left the winner alone, was a tie for last place."""
        if self.winner is None or len(self.rounds) < 2:
            return False
        last = self.rounds[-2]
        return bool(last.tie_break) and len(last.counts) == 2


def _break_tie(tied: list[int], history: list[dict[int, int]], order: list[int]) -> tuple[int, str]:
    """The option to eliminate among ``tied`` (all level in the current round)."""
    pool = list(tied)
    for counts in reversed(history[:-1]):
        low = min(counts.get(c, 0) for c in pool)
        pool = [c for c in pool if counts.get(c, 0) == low]
        if len(pool) == 1:
            return pool[0], "earlier rounds"
    position = {c: i for i, c in enumerate(order)}
    return max(pool, key=lambda c: position[c]), "ballot order"


def instant_runoff(ballots: Sequence[Sequence[int]], candidates: Sequence[int]) -> IrvResult:
    """Count ranked ballots by instant runoff (rules in the module docstring). Unknown or
    repeated options on a ballot are skipped."""
    order = list(dict.fromkeys(candidates))
    known = set(order)
    clean = [tuple(dict.fromkeys(c for c in b if c in known)) for b in ballots]
    total = len(clean)
    continuing = list(order)
    rounds: list[IrvRound] = []
    history: list[dict[int, int]] = []
    while True:
        counts = dict.fromkeys(continuing, 0)
        exhausted = 0
        for ballot in clean:
            top = next((c for c in ballot if c in counts), None)
            if top is None:
                exhausted += 1
            else:
                counts[top] += 1
        history.append(counts)
        active = total - exhausted
        number = len(rounds) + 1
        if not continuing or active == 0:
            rounds.append(IrvRound(number, counts, exhausted))
            return IrvResult(total, tuple(rounds), None)
        best = max(continuing, key=lambda c: (counts[c], -order.index(c)))
        if len(continuing) == 1 or 2 * counts[best] > active:
            rounds.append(IrvRound(number, counts, exhausted))
            return IrvResult(total, tuple(rounds), best)
        low = min(counts.values())
        tied = [c for c in continuing if counts[c] == low]
        if len(tied) == 1:
            loser, how = tied[0], ""
        else:
            loser, how = _break_tie(tied, history, order)
        rounds.append(IrvRound(number, counts, exhausted, eliminated=loser, tie_break=how))
        continuing.remove(loser)


# --- tallies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One bar of the results: an answer or an option."""

    key: str
    label: str
    value: int
    share: float  # 0..1, the bar's length
    detail: str = ""
    leading: bool = False

    @property
    def percent(self) -> int:
        return round(self.share * 100)


@dataclass(frozen=True)
class Tally:
    kind: str
    voters: int
    rows: tuple[Row, ...]
    headline: str
    lines: tuple[str, ...] = ()
    leader: str | None = None  # key of the leading row; None when nobody voted or level
    blocks: int = 0
    irv: IrvResult | None = None
    irv_labels: dict[int, str] = field(default_factory=dict)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _choice_tally(kind: str, ballots: Sequence[Ballot]) -> Tally:
    counts = Counter(b.choice for b in ballots)
    n = len(ballots)
    rows = tuple(
        Row(key, label, counts[key], counts[key] / n if n else 0.0, detail=hint)
        for key, label, hint in CHOICES[kind]
    )
    blocks = sum(counts[key] for key in BLOCKS[kind])
    lines: list[str] = []
    if kind == PROPOSAL:
        headline = (
            f"{counts['agree']} agree, {counts['abstain']} abstain, "
            f"{counts['disagree']} disagree, {_plural(counts['block'], 'block')}."
        )
        if blocks:
            lines.append(f"{_plural(blocks, 'person', 'people')} blocked the proposal.")
    elif kind == CONSENT:
        headline = f"{counts['consent']} consent, {_plural(counts['object'], 'objection')}."
        lines.append("No objections." if not blocks else "Objections need to be resolved.")
    elif kind == GRADIENTS:
        support = sum(counts[k] for k in ("1", "2", "3"))
        headline = (
            f"{support} of {n} support it (points 1 to 3), "
            f"{counts['6']} don't like it but will support it, "
            f"{counts['4'] + counts['5']} abstain or want more discussion, "
            f"{counts['7']} seriously disagree, {_plural(counts['8'], 'block')}."
        )
    else:  # fist to five
        total = sum(int(b.choice) for b in ballots)
        mean = total / n if n else 0.0
        low = counts["0"] + counts["1"]
        headline = (
            f"Average {mean:.1f} of 5 fingers; "
            f"{_plural(low, 'person', 'people')} showed a fist or one finger."
        )
    leader = _leader(rows)
    if n == 0:
        headline = "No votes yet."
    return Tally(kind, n, _mark(rows, leader), headline, tuple(lines), leader, blocks)


def _leader(rows: Sequence[Row]) -> str | None:
    if not rows:
        return None
    top = max(r.value for r in rows)
    leaders = [r.key for r in rows if r.value == top]
    return leaders[0] if top > 0 and len(leaders) == 1 else None


def _mark(rows: Sequence[Row], leader: str | None) -> tuple[Row, ...]:
    return tuple(
        Row(r.key, r.label, r.value, r.share, r.detail, leading=r.key == leader) for r in rows
    )


def _option_tally(
    kind: str,
    ballots: Sequence[Ballot],
    options: Sequence[str],
    *,
    score_max: int,
) -> Tally:
    n = len(ballots)
    m = len(options)
    lines: list[str] = []
    irv: IrvResult | None = None
    if kind == SCORE:
        totals = [sum(b.values.get(i, 0) for b in ballots) for i in range(m)]
        ceiling = max(n * score_max, 1)
        rows = [
            Row(
                str(i),
                options[i],
                totals[i],
                totals[i] / ceiling,
                detail=f"average {totals[i] / n:.1f} of {score_max}" if n else "",
            )
            for i in range(m)
        ]
    elif kind == DOT:
        totals = [sum(b.values.get(i, 0) for b in ballots) for i in range(m)]
        spent = sum(totals)
        rows = [
            Row(str(i), options[i], totals[i], totals[i] / spent if spent else 0.0)
            for i in range(m)
        ]
        lines.append(f"{_plural(spent, 'dot')} placed.")
    elif kind == MEETING:
        yes = [sum(1 for b in ballots if b.values.get(i) == YES) for i in range(m)]
        maybe = [sum(1 for b in ballots if b.values.get(i) == IF_NEED_BE) for i in range(m)]
        rows = [
            Row(
                str(i),
                options[i],
                yes[i],
                yes[i] / n if n else 0.0,
                detail=f"{yes[i]} yes, {maybe[i]} if need be, {n - yes[i] - maybe[i]} no",
            )
            for i in range(m)
        ]
        # The best time: most yes, then most "yes or if need be", then the earliest listed.
        best = max(range(m), key=lambda i: (yes[i], yes[i] + maybe[i], -i)) if m else None
        leader = str(best) if n and best is not None else None
        headline = (
            f"Best time: {options[best]} ({yes[best]} yes, {maybe[best]} if need be)."
            if leader is not None and best is not None
            else "No answers yet."
        )
        return Tally(kind, n, _mark(rows, leader), headline, (), leader)
    else:  # ranked
        irv = instant_runoff([b.ranking for b in ballots], range(m))
        first = irv.rounds[0].counts if irv.rounds else {}
        rows = [
            Row(
                str(i),
                options[i],
                first.get(i, 0),
                first.get(i, 0) / n if n else 0.0,
                detail="first preferences",
            )
            for i in range(m)
        ]
        if irv.winner is not None:
            leader = str(irv.winner)
            last = irv.rounds[-1]
            headline = (
                f"{options[irv.winner]} wins in round {last.number} with "
                f"{last.counts[irv.winner]} of {last.continuing} continuing ballots."
            )
            if irv.decided_by_tie_break:
                lines.append(
                    "The last two options were level; the tie was broken by "
                    f"{irv.rounds[-2].tie_break}."
                )
            exhausted = irv.rounds[-1].exhausted
            if exhausted:
                lines.append(f"{_plural(exhausted, 'ballot')} ran out of ranked options.")
        else:
            leader = None
            headline = "No ballots yet."
        return Tally(
            kind,
            n,
            _mark(rows, leader),
            headline,
            tuple(lines),
            leader,
            irv=irv,
            irv_labels=dict(enumerate(options)),
        )
    leader = _leader(rows)
    if n == 0:
        headline = "No votes yet."
    elif leader is None:
        top = max(r.value for r in rows)
        level = [r.label for r in rows if r.value == top]
        headline = "Level at the top: " + ", ".join(level) + "."
    else:
        row = rows[int(leader)]
        unit = "points" if kind == SCORE else "dots"
        headline = f"{row.label} leads with {row.value} {unit}."
    return Tally(kind, n, _mark(rows, leader), headline, tuple(lines), leader)


def tally(
    kind: str,
    ballots: Sequence[Ballot],
    options: Sequence[str] = (),
    *,
    score_max: int = 5,
) -> Tally:
    """The results of one poll (or of one side's ballots)."""
    if kind in CHOICES:
        return _choice_tally(kind, ballots)
    if kind in OPTION_KINDS:
        return _option_tally(kind, ballots, options, score_max=score_max)
    raise ValueError(f"unknown poll kind {kind!r}")


# --- sides, quorum, decisions --------------------------------------------------------------


def side_counts(ballots: Sequence[Ballot]) -> dict[str, int]:
    counts = dict.fromkeys((*SIDES, NEUTRAL), 0)
    for b in ballots:
        key = b.side if b.side in SIDES else NEUTRAL
        counts[key] += 1
    return counts


def breakdown_visible(counts: Mapping[str, int], k: int) -> bool:
    """May results be shown by side? Only when clinicians and managers each number at
    least ``k``, and any other voters (neutral seats) are none or at least ``k`` too: the
    total is always shown, so showing both sides would reveal a small remainder by
    subtraction, and showing one side would reveal the other."""
    if any(counts.get(side, 0) < k for side in SIDES):
        return False
    rest = sum(v for s, v in counts.items() if s not in SIDES)
    return rest == 0 or rest >= k


@dataclass(frozen=True)
class Quorum:
    clinicians_needed: int
    management_needed: int
    clinician_met: bool
    management_met: bool

    @property
    def required(self) -> bool:
        return bool(self.clinicians_needed or self.management_needed)

    @property
    def met(self) -> bool:
        return self.clinician_met and self.management_met

    @property
    def short_sides(self) -> tuple[str, ...]:
        short = []
        if not self.clinician_met:
            short.append("clinician")
        if not self.management_met:
            short.append("management")
        return tuple(short)


def quorum(counts: Mapping[str, int], clinicians: int, management: int) -> Quorum:
    return Quorum(
        clinicians,
        management,
        counts.get("clinician", 0) >= clinicians,
        counts.get("management", 0) >= management,
    )


def decision_split(kind: str, ballots: Sequence[Ballot]) -> dict[str, int] | None:
    """``clinician_for`` … ``management_abstain`` for the decisions log, or None for kinds
    that choose among options rather than accept or reject one proposal."""
    mapping = DECISION_SPLIT.get(kind)
    if mapping is None:
        return None
    split = {f"{side}_{col}": 0 for side in SIDES for col in ("for", "against", "abstain")}
    for b in ballots:
        if b.side in SIDES:
            split[f"{b.side}_{mapping[b.choice]}"] += 1
    return split


def draft_outcome(title: str, result: Tally, q: Quorum) -> str:
    """A starting point for the outcome statement, built from the tally."""
    parts = [f"Poll “{title}” closed with {_plural(result.voters, 'voter')}."]
    if q.required and not q.met:
        parts.append("Quorum not met (" + " and ".join(q.short_sides) + " side).")
    parts.append(result.headline)
    parts.extend(result.lines)
    return " ".join(parts)
