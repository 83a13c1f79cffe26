"""Search over concerns, decisions and minutes, within the committees the person may see.

PostgreSQL: full-text search (``SearchVector`` / ``websearch`` ``SearchQuery`` / ``SearchRank``,
English configuration), so "waits" finds "waiting". Anywhere else (SQLite in development and
tests): every word must appear somewhere in the item (``icontains``), ranked by how many words
are in its title or statement, then newest first.

Two steps keep the query count flat however many items match: ``search_matches`` returns
light (kind, id, date, rank) rows, one query per kind, capped; the view paginates them; and
``hits_for`` loads only the page's items, one query per kind. Nothing about who raised a
concern is read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from commonground.concerns.models import Concern, Status
from commonground.concerns.similarity import STOP_WORDS
from commonground.meetings.models import Decision, Minutes
from commonground.meetings.selectors import visible_committees

KINDS = {"concern": "Concerns", "decision": "Decisions", "minutes": "Minutes"}
MAX_QUERY_LENGTH = 200
MAX_WORDS = 8
MAX_MATCHES_PER_KIND = 300
SNIPPET_CHARS = 220
PG_CONFIG = "english"

# (kind) -> (title-like fields, other text fields, date field)
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "concern": (("title",), ("description", "patient_impact", "proposed_idea"), "raised_on"),
    "decision": (("statement",), ("rationale",), "decided_on"),
    "minutes": (("meeting__title",), ("text",), "meeting__starts_at"),
}


@dataclass(frozen=True)
class Match:
    kind: str
    pk: Any
    date: dt.date
    rank: float


@dataclass(frozen=True)
class Found:
    matches: list[Match]
    capped: bool  # some kind had more matches than are listed


@dataclass(frozen=True)
class Hit:
    kind: str
    kind_label: str
    title: str
    snippet: list[tuple[str, bool]]  # (text, is a query word)
    url: str
    committee: str
    date: dt.date
    status: str = ""


def query_words(query: str) -> list[str]:
    """The words of a query, lower case, stop words dropped (unless nothing else is left)."""
    words = [w.strip("'-") for w in re.findall(r"[\w'-]+", query.lower())]
    words = [w for w in dict.fromkeys(words) if len(w) >= 2]
    content = [w for w in words if w not in STOP_WORDS]
    return (content or words)[:MAX_WORDS]


def full_text_available() -> bool:
    return connection.vendor == "postgresql"


def _base(kind: str, user: Any) -> QuerySet[Any]:
    committees = visible_committees(user)
    if kind == "concern":
        # As the concerns.view_concern rule: its committee, or the one it was escalated to.
        return Concern.objects.filter(Q(committee__in=committees) | Q(escalated_to__in=committees))
    if kind == "decision":
        return Decision.objects.filter(committee__in=committees)
    return Minutes.objects.filter(meeting__committee__in=committees).exclude(text="")


def _postgres(qs: QuerySet[Any], kind: str, query: str) -> QuerySet[Any]:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    titles, texts, _ = FIELDS[kind]
    vector = SearchVector(*titles, weight="A", config=PG_CONFIG) + SearchVector(
        *texts, weight="B", config=PG_CONFIG
    )
    search_query = SearchQuery(query, search_type="websearch", config=PG_CONFIG)
    return (
        qs.annotate(document=vector)
        .filter(document=search_query)
        .annotate(rank=SearchRank(F("document"), search_query))
    )


def _fallback(qs: QuerySet[Any], kind: str, words: Sequence[str]) -> QuerySet[Any]:
    titles, texts, _ = FIELDS[kind]
    for word in words:
        anywhere = Q()
        for name in (*titles, *texts):
            anywhere |= Q(**{f"{name}__icontains": word})
        qs = qs.filter(anywhere)
    in_title = [
        Case(
            When(Q(**{f"{titles[0]}__icontains": word}), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        for word in words
    ]
    rank: Any = in_title[0]
    for term in in_title[1:]:
        rank = rank + term
    return qs.annotate(rank=rank)


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    return value


def search_matches(user: Any, query: str, *, kind: str = "") -> Found:
    """(kind, id, date, rank) of every visible item matching ``query``, best first.

    One query per kind; at most ``MAX_MATCHES_PER_KIND`` of each kind are kept.
    """
    query = query[:MAX_QUERY_LENGTH]
    words = query_words(query)
    if not words:
        return Found(matches=[], capped=False)
    postgres = full_text_available()
    matches: list[Match] = []
    capped = False
    for name in KINDS:
        if kind and name != kind:
            continue
        date_field = FIELDS[name][2]
        qs = _base(name, user)
        qs = _postgres(qs, name, query) if postgres else _fallback(qs, name, words)
        rows = list(
            qs.order_by("-rank", f"-{date_field}", "pk").values_list("pk", date_field, "rank")[
                : MAX_MATCHES_PER_KIND + 1
            ]
        )
        if len(rows) > MAX_MATCHES_PER_KIND:
            capped = True
            rows = rows[:MAX_MATCHES_PER_KIND]
        matches += [Match(name, pk, _as_date(day), float(rank)) for pk, day, rank in rows]
    matches.sort(key=lambda m: (-m.rank, -m.date.toordinal(), m.kind, str(m.pk)))
    return Found(matches=matches, capped=capped)


_MARKDOWN = re.compile(r"[*_`#>~|]+|\[|\]\([^)]*\)")


def snippet(text: str, words: Sequence[str], width: int = SNIPPET_CHARS) -> list[tuple[str, bool]]:
    """About ``width`` characters of ``text`` around the first query word, as (text, matched)
    pieces for the template to mark up (it escapes them; nothing here is marked safe)."""
    plain = " ".join(_MARKDOWN.sub(" ", text).split())
    # A word's first letters also match its other forms ("waits" marks "waiting").
    stems = [re.escape(w[: max(4, len(w) - 2)]) for w in words if w]
    pattern = re.compile(r"\b(?:" + "|".join(stems) + r")\w*", re.IGNORECASE) if stems else None
    found = pattern.search(plain) if pattern else None
    start = 0
    if found and found.start() > width // 3:
        start = plain.rfind(" ", 0, found.start() - width // 3) + 1
    end = start + width
    if end < len(plain):
        cut = plain.rfind(" ", start, end)
        end = cut if cut > start else end
    excerpt = plain[start:end]
    pieces: list[tuple[str, bool]] = []
    if start > 0:
        pieces.append(("… ", False))
    position = 0
    for hit in pattern.finditer(excerpt) if pattern else ():
        if hit.start() > position:
            pieces.append((excerpt[position : hit.start()], False))
        pieces.append((hit.group(0), True))
        position = hit.end()
    if position < len(excerpt):
        pieces.append((excerpt[position:], False))
    if end < len(plain):
        pieces.append((" …", False))
    return pieces


def hits_for(matches: Sequence[Match], query: str) -> list[Hit]:
    """What the page shows for ``matches``: at most one query per kind."""
    words = query_words(query)
    wanted: dict[str, list[Any]] = {}
    for match in matches:
        wanted.setdefault(match.kind, []).append(match.pk)
    built: dict[tuple[str, Any], Hit] = {}
    statuses = dict(Status.choices)
    if "concern" in wanted:
        concerns = (
            Concern.objects.filter(pk__in=wanted["concern"])
            .select_related("committee")
            .only(
                "id",
                "title",
                "description",
                "status",
                "raised_on",
                "committee__id",
                "committee__name",
            )
        )
        for concern in concerns:
            built["concern", concern.pk] = Hit(
                kind="concern",
                kind_label="Concern",
                title=concern.title,
                snippet=snippet(concern.description, words),
                url=concern.get_absolute_url(),
                committee=concern.committee.name,
                date=concern.raised_on,
                status=str(statuses.get(concern.status, concern.status)),
            )
    if "decision" in wanted:
        decisions = Decision.objects.filter(pk__in=wanted["decision"]).select_related("committee")
        for decision in decisions:
            built["decision", decision.pk] = Hit(
                kind="decision",
                kind_label="Decision",
                title=_shorten(decision.statement),
                snippet=snippet(decision.rationale or decision.statement, words),
                url=decision.get_absolute_url(),
                committee=decision.committee.name,
                date=decision.decided_on,
            )
    if "minutes" in wanted:
        minutes = Minutes.objects.filter(pk__in=wanted["minutes"]).select_related(
            "meeting", "meeting__committee"
        )
        for item in minutes:
            built["minutes", item.pk] = Hit(
                kind="minutes",
                kind_label="Minutes",
                title=f"Minutes: {item.meeting.title}",
                snippet=snippet(item.text, words),
                url=f"{item.meeting.get_absolute_url()}#minutes",
                committee=item.meeting.committee.name,
                date=timezone.localdate(item.meeting.starts_at),
                status=item.state(),
            )
    return [built[m.kind, m.pk] for m in matches if (m.kind, m.pk) in built]


def _shorten(text: str, length: int = 120) -> str:
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    return text[: text.rfind(" ", 0, length) or length] + "…"
