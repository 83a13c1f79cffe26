"""Reads for the ideas board. The board page makes the same number of queries for any
number of ideas, dots and comparisons; the ranking is computed from one query of the
board's comparisons.

Totals by side follow the k rule the same way co-signatures of concerns do: an idea's dots
are shown by side only when every side with someone dotting it has at least k people, so no
small count can be read directly or by subtracting from the total.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from commonground.concerns.models import Concern
from commonground.core.permissions import allowed, authorise
from commonground.deliberation import pairwise
from commonground.deliberation.models import (
    IDEA_DOTS_DEFAULT,
    IDEA_QUESTION,
    OPEN_IDEA_STAGES,
    Idea,
    IdeaBoard,
    IdeaComparison,
    IdeaDot,
)
from commonground.deliberation.services_ideas import STAGE_MOVES
from commonground.organizations.models import Committee, Side

VIEW_IDEAS = "deliberation.view_ideas"
TAKE_PART_IDEAS = "deliberation.take_part_ideas"
MANAGE_IDEAS = "deliberation.manage_ideas"

SORTS = (("dots", "Most dots"), ("score", "Pairwise ranking"), ("new", "Newest"))
# The stage filters of the board, in the order of the funnel.
STAGE_FILTERS: tuple[tuple[str, str], ...] = (
    ("open", "Open"),
    *((s.value, s.label) for s in Idea.Stage if s != Idea.Stage.MERGED),
    ("all", "All"),
)
LINKABLE_CONCERNS = 100


def min_group_size() -> int:
    return int(settings.COMMONGROUND_MIN_GROUP_SIZE)


def get_idea_for_user(user: Any, idea_id: uuid.UUID, perm: str = VIEW_IDEAS) -> Idea:
    """The idea if ``user`` may use it with ``perm``: 404 when its committee is out of sight,
    403 when seen but ``perm`` is missing."""
    idea = (
        Idea.objects.select_related("committee", "committee__clinic", "author", "merged_into")
        .filter(public_id=idea_id)
        .first()
    )
    if idea is None:
        raise Http404
    authorise(user, idea, view_perm=VIEW_IDEAS, perm=perm, clinic_id=idea.committee.clinic_id)
    return idea


def board_settings(committee: Committee) -> IdeaBoard:
    """The board row, or an unsaved one with the defaults before its first write."""
    board = IdeaBoard.objects.filter(committee=committee).first()
    return board or IdeaBoard(committee=committee, dots_per_person=IDEA_DOTS_DEFAULT)


@dataclass(frozen=True)
class DotTotals:
    dots: int
    people: int
    by_side: list[tuple[str, int]] | None  # (side label, dots); None below k


def _side_totals(rows: list[tuple[str, int, int]], k: int) -> DotTotals:
    """``rows``: (side, dots, people) of one idea."""
    dots = sum(d for _, d, _ in rows)
    people = sum(p for _, _, p in rows)
    if not rows or any(0 < p < k for _, _, p in rows):
        return DotTotals(dots, people, None)
    shown = [(str(Side(side).label), d) for side, d, _ in sorted(rows)]
    return DotTotals(dots, people, shown)


def _dot_totals(idea_ids: list[int]) -> dict[int, DotTotals]:
    k = min_group_size()
    per_idea: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    rows = (
        IdeaDot.objects.filter(idea_id__in=idea_ids)
        .values("idea_id", "side")
        .annotate(dots=Sum("count"), people=Count("id"))
        .order_by()
    )
    for row in rows:
        per_idea[row["idea_id"]].append((row["side"], int(row["dots"]), int(row["people"])))
    return {pk: _side_totals(per_idea.get(pk, []), k) for pk in idea_ids}


@dataclass
class Pairwise:
    """The board's ranking, and who answered (counts only)."""

    ranking: pairwise.Ranking
    people: int
    undecided: int

    def sentence(self, labels: Mapping[Any, str]) -> str:
        return self.ranking.sentence(labels, people=self.people)


def board_ranking(board: IdeaBoard, ideas: list[Idea]) -> Pairwise:
    """Bradley-Terry scores of ``ideas`` (by pk) from every answer on the board."""
    ids = [i.pk for i in ideas]
    rows = (
        list(
            IdeaComparison.objects.filter(board=board).values_list(
                "person_id", "idea_a_id", "idea_b_id", "result"
            )
        )
        if board.pk
        else []
    )
    outcomes = [(a, b) if r > 0 else (b, a) for _, a, b, r in rows if r != 0]
    return Pairwise(
        ranking=pairwise.fit(ids, outcomes),
        people=len({p for p, _, _, _ in rows}),
        undecided=sum(1 for *_, r in rows if r == 0),
    )


@dataclass
class IdeaRow:
    idea: Idea
    totals: DotTotals
    my_dots: int
    rated: pairwise.Rated | None
    concerns: int


@dataclass
class BoardPage:
    committee: Committee
    board: IdeaBoard
    rows: list[IdeaRow]
    stage: str
    sort: str
    stage_counts: dict[str, int]
    can_take_part: bool
    can_manage: bool
    dots_used: int
    ranking: Pairwise
    sentence: str
    question: str = IDEA_QUESTION
    min_group: int = 5
    stage_filters: tuple[tuple[str, str], ...] = STAGE_FILTERS
    sorts: tuple[tuple[str, str], ...] = SORTS

    @property
    def dots_left(self) -> int:
        return max(0, self.board.dots_per_person - self.dots_used)

    @property
    def open_count(self) -> int:
        return self.stage_counts.get("open", 0)


def _stage_matches(idea: Idea, stage: str) -> bool:
    if stage == "all":
        return True
    if stage == "open":
        return idea.stage in OPEN_IDEA_STAGES
    return idea.stage == stage


def board_page(
    user: Any, committee: Committee, *, stage: str = "open", sort: str = "dots"
) -> BoardPage:
    stage = stage if stage in dict(STAGE_FILTERS) else "open"
    sort = sort if sort in dict(SORTS) else "dots"
    board = board_settings(committee)
    ideas = list(
        Idea.objects.filter(committee=committee)
        .exclude(stage=Idea.Stage.MERGED)
        .select_related("author")
        .order_by("-created_at", "public_id")
    )
    ids = [i.pk for i in ideas]
    totals = _dot_totals(ids)
    can_take_part = allowed(user, TAKE_PART_IDEAS, committee)
    mine: dict[int, int] = {}
    if can_take_part:
        mine = dict(
            IdeaDot.objects.filter(idea__committee=committee, person=user).values_list(
                "idea_id", "count"
            )
        )
    concern_counts = {
        row["idea_id"]: row["n"]
        for row in Idea.concerns.through.objects.filter(idea_id__in=ids, concern__announced=True)
        .values("idea_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    ranked = board_ranking(board, ideas)
    rows = [
        IdeaRow(
            idea=idea,
            totals=totals[idea.pk],
            my_dots=mine.get(idea.pk, 0),
            rated=ranked.ranking[idea.pk],
            concerns=concern_counts.get(idea.pk, 0),
        )
        for idea in ideas
    ]
    counts: dict[str, int] = {key: 0 for key, _ in STAGE_FILTERS}
    for idea in ideas:
        counts[idea.stage] += 1
        counts["all"] += 1
        if idea.stage in OPEN_IDEA_STAGES:
            counts["open"] += 1
    shown = [row for row in rows if _stage_matches(row.idea, stage)]
    if sort == "dots":
        shown.sort(key=lambda r: (-r.totals.dots, -r.totals.people))
    elif sort == "score":
        shown.sort(key=lambda r: r.rated.rank if r.rated else 0)
    labels = {i.pk: i.title for i in ideas if i.stage in OPEN_IDEA_STAGES}
    open_ranking = board_ranking_subset(ranked, [i.pk for i in ideas if i.pk in labels])
    return BoardPage(
        committee=committee,
        board=board,
        rows=shown,
        stage=stage,
        sort=sort,
        stage_counts=counts,
        can_take_part=can_take_part,
        can_manage=allowed(user, MANAGE_IDEAS, committee),
        dots_used=sum(mine.values()),
        ranking=ranked,
        sentence=open_ranking.sentence(labels, people=ranked.people),
        min_group=min_group_size(),
    )


def board_ranking_subset(ranked: Pairwise, ids: list[int]) -> pairwise.Ranking:
    """The ranking restricted to ``ids`` (the open ideas), keeping the fit of the whole
    board: the plain-language sentence speaks of the ideas still in play."""
    full = ranked.ranking
    wanted = set(ids)
    keep = [r for r in full.rated if r.item in wanted]
    rated = [
        pairwise.Rated(r.item, r.score, r.se, r.wins, r.losses, rank=n + 1)
        for n, r in enumerate(keep)
    ]
    return pairwise.Ranking(
        rated=rated,
        n_comparisons=full.n_comparisons,
        cov=full.cov,
        index=full.index,
        prior_sd=full.prior_sd,
    )


# --- one idea -------------------------------------------------------------------------------


@dataclass
class IdeaPage:
    idea: Idea
    totals: DotTotals
    my_dots: int
    dots_left: int
    allowance: int
    rated: pairwise.Rated | None
    ranked_among: int
    concerns: list[Concern]
    projects: list[Any]
    merged_here: list[Idea]
    can_take_part: bool
    can_manage: bool
    can_start_project: bool
    stage_moves: list[tuple[str, str]] = field(default_factory=list)
    merge_targets: list[Idea] = field(default_factory=list)
    linkable_concerns: list[Concern] = field(default_factory=list)
    min_group: int = 5


def idea_page(user: Any, idea: Idea) -> IdeaPage:
    committee = idea.committee
    board = board_settings(committee)
    can_take_part = allowed(user, TAKE_PART_IDEAS, idea)
    can_manage = allowed(user, MANAGE_IDEAS, idea)
    totals = _dot_totals([idea.pk])[idea.pk]
    mine: dict[int, int] = {}
    if can_take_part:
        mine = dict(
            IdeaDot.objects.filter(idea__committee=committee, person=user).values_list(
                "idea_id", "count"
            )
        )
    ideas = list(
        Idea.objects.filter(committee=committee)
        .exclude(stage=Idea.Stage.MERGED)
        .order_by("title", "public_id")
    )
    rated = None
    ranked_among = 0
    if idea.stage != Idea.Stage.MERGED:
        ranked = board_ranking(board, ideas)
        rated = ranked.ranking[idea.pk]
        ranked_among = len(ideas)
    concerns = list(idea.concerns.order_by("-raised_on", "id"))
    page = IdeaPage(
        idea=idea,
        totals=totals,
        my_dots=mine.get(idea.pk, 0),
        dots_left=max(0, board.dots_per_person - sum(mine.values())),
        allowance=board.dots_per_person,
        rated=rated,
        ranked_among=ranked_among,
        concerns=concerns,
        projects=list(idea.improvement_projects.order_by("title")),
        merged_here=list(Idea.objects.filter(merged_into=idea).order_by("title")),
        can_take_part=can_take_part,
        can_manage=can_manage,
        can_start_project=(
            idea.stage == Idea.Stage.PROJECT
            and allowed(user, "improvement.start_project", committee)
        ),
        min_group=min_group_size(),
    )
    if can_manage and idea.stage != Idea.Stage.MERGED:
        page.stage_moves = [(s, Idea.Stage(s).label) for s in STAGE_MOVES[idea.stage]]
        page.merge_targets = [i for i in ideas if i.pk != idea.pk]
        page.linkable_concerns = list(
            Concern.objects.filter(committee=committee)
            .exclude(pk__in=[c.pk for c in concerns])
            .order_by("-raised_on", "id")[:LINKABLE_CONCERNS]
        )
    return page


def linkable_concerns(committee: Committee) -> list[Concern]:
    """Concerns an idea of the committee may answer: open ones first, newest first."""
    return list(
        Concern.objects.filter(committee=committee)
        .order_by("-raised_on", "id")
        .only("id", "title", "raised_on", "status")[:LINKABLE_CONCERNS]
    )


# --- pairwise -------------------------------------------------------------------------------


@dataclass
class ComparePage:
    committee: Committee
    pair: tuple[Idea, Idea] | None
    answered: int
    open_ideas: int
    can_take_part: bool
    question: str = IDEA_QUESTION


def compare_page(user: Any, committee: Committee) -> ComparePage:
    """The next pair for ``user``: informative (few comparisons, close scores) and, among
    equally good pairs, drawn with a seed of the board, the person and how many pairs they
    have answered, so a reload shows the same pair and the next answer moves on."""
    board = board_settings(committee)
    can_take_part = allowed(user, TAKE_PART_IDEAS, committee)
    ideas = list(
        Idea.objects.filter(committee=committee)
        .exclude(stage=Idea.Stage.MERGED)
        .order_by("created_at", "public_id")
    )
    open_ideas = [i for i in ideas if i.stage in OPEN_IDEA_STAGES]
    seen: list[frozenset[int]] = []
    if can_take_part and board.pk:
        seen = [
            frozenset(pair)
            for pair in IdeaComparison.objects.filter(board=board, person=user).values_list(
                "idea_a_id", "idea_b_id"
            )
        ]
    pair: tuple[Idea, Idea] | None = None
    if can_take_part and len(open_ideas) >= 2:
        ranked = board_ranking(board, ideas)
        chosen = pairwise.next_pair(
            ranked.ranking,
            [i.pk for i in open_ideas],
            seen=seen,
            seed=f"{committee.pk}:{user.pk}:{len(seen)}",
        )
        if chosen is not None:
            by_pk = {i.pk: i for i in open_ideas}
            pair = (by_pk[int(chosen[0])], by_pk[int(chosen[1])])  # type: ignore[call-overload]
    return ComparePage(
        committee=committee,
        pair=pair,
        answered=len(seen),
        open_ideas=len(open_ideas),
        can_take_part=can_take_part,
    )


# --- on a concern's page --------------------------------------------------------------------


def ideas_for_concern(concern: Concern) -> list[Idea]:
    """The ideas that answer ``concern`` (merged duplicates left out), with their dots."""
    return list(
        Idea.objects.filter(concerns=concern)
        .exclude(stage=Idea.Stage.MERGED)
        .annotate(n_dots=Coalesce(Sum("dots__count"), 0))
        .order_by("-n_dots", "title")
    )


__all__ = [
    "MANAGE_IDEAS",
    "TAKE_PART_IDEAS",
    "VIEW_IDEAS",
    "board_page",
    "board_settings",
    "compare_page",
    "get_idea_for_user",
    "idea_page",
    "ideas_for_concern",
    "linkable_concerns",
]
