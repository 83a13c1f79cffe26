"""What the results page shows, from a stored snapshot: the k-rule applied, plain-language
sentences, and the opinion map's Vega-Lite spec. Pure (no Django, no database).

The k-rule (``min_group``, settings.COMMONGROUND_MIN_GROUP_SIZE):

* nothing is shown until ``min_group`` people have voted;
* an opinion group smaller than ``min_group`` is drawn as "Other" and gets no figures, no
  size and no representative statements;
* bridge statements (and any per-side figure) appear only when each side has at least
  ``min_group`` voters; otherwise the page says why they are hidden.

The map's data carries, per point, its position, its (possibly merged) group label and one
flag: whether it is the viewer. No participant number or identity reaches the browser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
# Okabe-Ito colours (distinguishable with colour-blindness) plus a shape per group.
_GROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8A6100")
_GROUP_SHAPES = ("circle", "square", "triangle-up", "diamond", "cross")
# People in a group smaller than k share the style of those not placed yet: a colour of its
# own would let anyone count a small group's members on the map.
OTHER = NOT_PLACED = "Not in a group shown"
_NOT_PLACED_COLOUR = "#9ca3af"
_NUMBER_WORDS = ("No", "One", "Two", "Three", "Four", "Five")
SIDE_LABELS = {"clinician": "Clinicians", "manager": "Managers"}


def group_label(index: int) -> str:
    return f"Group {chr(ord('A') + index)}"


def _number_word(n: int) -> str:
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def _share(agree: int, seen: int) -> str:
    percent = round(100 * agree / seen) if seen else 0
    return f"{agree} of {seen} agree ({percent}%)"


def age_text(computed_at: dt.datetime, now: dt.datetime) -> str:
    seconds = max(0, int((now - computed_at).total_seconds()))
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'} ago"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} minute{'' if minutes == 1 else 's'} ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'' if hours == 1 else 's'} ago"
    return f"{hours // 24} days ago"


@dataclass(frozen=True)
class Line:
    """A statement with its raw counts."""

    number: int
    text: str
    figures: str
    direction: str = "agree"  # agree | disagree


@dataclass(frozen=True)
class PartLine:
    label: str
    figures: str


@dataclass(frozen=True)
class BridgeLine:
    number: int
    text: str
    parts: list[PartLine]


@dataclass
class GroupView:
    label: str
    size: int
    is_yours: bool
    statements: list[Line] = field(default_factory=list)


@dataclass
class Results:
    ready: bool
    reason: str = ""
    n_participants: int = 0
    k: int = 0
    groups: list[GroupView] = field(default_factory=list)
    hidden_groups: int = 0
    your_group: str = ""
    consensus_agree: list[Line] = field(default_factory=list)
    consensus_disagree: list[Line] = field(default_factory=list)
    bridges: list[BridgeLine] = field(default_factory=list)
    bridges_hidden_reason: str = ""
    summary: list[str] = field(default_factory=list)
    map_summary: list[str] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)


def _quote(text: str) -> str:
    return f"“{text}”"


def build_results(
    payload: Mapping[str, Any],
    texts: Mapping[int, str],
    *,
    viewer: int | None,
    min_group: int,
) -> Results:
    """The page's content from a snapshot ``payload``. ``texts``: statement number -> text
    (only statements that may be shown: rejected ones are left out by the caller);
    ``viewer``: the viewer's participant number, if they voted."""
    n = int(payload.get("n_participants", 0))
    if n < min_group:
        return Results(
            ready=False,
            reason=(
                f"Results appear once at least {min_group} people have voted. "
                f"Fewer than {min_group} have so far."
            ),
        )
    k = int(payload.get("k", 0))
    sizes = [int(g["size"]) for g in payload.get("groups", [])]
    shown = [g for g in range(k) if sizes[g] >= min_group] if k >= 2 else []
    label_of = {g: group_label(i) for i, g in enumerate(shown)}
    points = payload.get("points", [])
    viewer_group: int | None = None
    viewer_placed = False
    for number, _x, _y, g in points:
        if viewer is not None and number == viewer:
            viewer_placed = g is not None
            viewer_group = g
    out = Results(ready=True, n_participants=n, k=k)
    out.hidden_groups = (k - len(shown)) if k >= 2 else 0

    for g in shown:
        view = GroupView(label_of[g], sizes[g], is_yours=(viewer_group == g))
        for entry in payload.get("repness", [])[g]:
            number = int(entry["statement"])
            if number not in texts:
                continue
            # Pol.is can report a group's best-agree statement as "disagree" (spec section
            # 7, step 4); it is shown as what it is, an agreement.
            agree = entry["repful_for"] == "agree" or entry.get("best_agree", False)
            figures = (
                f"{entry['n_agree']} agree, {entry['n_disagree']} disagree, of "
                f"{entry['n_trials']} in this group"
            )
            view.statements.append(
                Line(number, texts[number], figures, "agree" if agree else "disagree")
            )
        out.groups.append(view)
    if viewer_group is not None and viewer_group in label_of:
        out.your_group = label_of[viewer_group]

    consensus = payload.get("consensus", {})
    for direction, target in (
        ("agree", out.consensus_agree),
        ("disagree", out.consensus_disagree),
    ):
        for entry in consensus.get(direction, []):
            number = int(entry["statement"])
            if number in texts:
                figures = f"{entry['n_success']} of {entry['n_trials']} {direction}"
                target.append(Line(number, texts[number], figures, direction))

    side_voters = payload.get("side_voters", {})
    short = [
        label.lower()
        for side, label in SIDE_LABELS.items()
        if int(side_voters.get(side, 0)) < min_group
    ]
    if short:
        out.bridges_hidden_reason = (
            f"Bridge statements compare clinicians and managers, so they are shown only when "
            f"each side has at least {min_group} voters. Fewer than {min_group} "
            f"{' and '.join(short)} have voted so far."
        )
    else:
        for bridge in payload.get("bridges", []):
            number = int(bridge["statement"])
            if number not in texts:
                continue
            parts = [
                PartLine(SIDE_LABELS[side], _share(a, s))
                for side, (a, _d, s) in bridge["sides"].items()
                if side in SIDE_LABELS
            ]
            parts += [
                PartLine(label_of[g], _share(a, s))
                for g, (a, _d, s) in enumerate(bridge["groups"])
                if g in label_of
            ]
            out.bridges.append(BridgeLine(number, texts[number], parts))

    out.map_summary = _map_sentences(out, k, shown, sizes, viewer, viewer_placed, min_group)
    out.summary = _summary_sentences(out)
    out.spec = opinion_map_spec(points, label_of, viewer=viewer, description=out.map_summary)
    return out


def _map_sentences(
    out: Results,
    k: int,
    shown: list[int],
    sizes: list[int],
    viewer: int | None,
    viewer_placed: bool,
    min_group: int,
) -> list[str]:
    sentences = []
    if k < 2:
        sentences.append(
            "No separate opinion groups yet: the votes so far do not split people into groups."
        )
    else:
        described = [f"{group_label(i)} ({sizes[g]} people)" for i, g in enumerate(shown)]
        if described:
            joined = (
                described[0]
                if len(described) == 1
                else (", ".join(described[:-1]) + " and " + described[-1])
            )
            sentences.append(f"{_number_word(k)} opinion groups. {joined}.")
        else:
            sentences.append(f"{_number_word(k)} opinion groups, all of them small.")
        if out.hidden_groups:
            many = out.hidden_groups > 1
            sentences.append(
                f"{out.hidden_groups} group{'s' if many else ''} of fewer than {min_group} "
                f"people {'are' if many else 'is'} drawn with those not in a group shown, "
                "without figures."
            )
    sentences.append(
        "Each dot is one person; people who voted alike sit close together. The axes have no units."
    )
    if viewer is not None:
        if out.your_group:
            sentences.append(f"You are the ringed dot, in {out.your_group}.")
        elif viewer_placed:
            sentences.append("You are the ringed dot, in a small group not shown on its own.")
        else:
            sentences.append(
                "You are the ringed dot. Vote on a few more statements to be placed in a group."
            )
    return sentences


def _summary_sentences(out: Results) -> list[str]:
    sentences = [f"{out.n_participants} people have voted."]
    if out.bridges:
        sentences.append(f"Both sides agree most with: {_quote(out.bridges[0].text)}")
    elif out.consensus_agree:
        sentences.append(f"Most people agree with: {_quote(out.consensus_agree[0].text)}")
    else:
        sentences.append("No statement has clear majority agreement yet.")
    if out.consensus_disagree:
        sentences.append(f"Most people disagree with: {_quote(out.consensus_disagree[0].text)}")
    return sentences


def opinion_map_spec(
    points: list[list[Any]],
    label_of: Mapping[int, str],
    *,
    viewer: int | None,
    description: list[str],
) -> dict[str, Any]:
    """Vega-Lite scatter of the participants' projections, coloured by group, the viewer's
    own point ringed. Values: x, y, group label and ``you`` only."""
    rows = []
    for number, x, y, g in points:
        label = NOT_PLACED if g is None else label_of.get(g, OTHER)
        rows.append(
            {"x": x, "y": y, "group": label, "you": viewer is not None and number == viewer}
        )
    present = {row["group"] for row in rows}
    domain = [label for label in label_of.values() if label in present]
    colours = [_GROUP_COLOURS[i % len(_GROUP_COLOURS)] for i in range(len(domain))]
    shapes = [_GROUP_SHAPES[i % len(_GROUP_SHAPES)] for i in range(len(domain))]
    if NOT_PLACED in present:
        domain.append(NOT_PLACED)
        colours.append(_NOT_PLACED_COLOUR)
        shapes.append("circle")
    axis_off = {"type": "quantitative", "axis": None, "scale": {"zero": False, "nice": False}}
    you = [{"filter": {"field": "you", "equal": True}}]
    return {
        "$schema": _VEGA_LITE_SCHEMA,
        "description": " ".join(description),
        "width": "container",
        "height": 320,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "point", "filled": True, "opacity": 0.85, "size": 70},
                "encoding": {
                    "x": {"field": "x", **axis_off},
                    "y": {"field": "y", **axis_off},
                    "color": {
                        "field": "group",
                        "type": "nominal",
                        "scale": {"domain": domain, "range": colours},
                        "legend": {"title": "Opinion group", "orient": "bottom"},
                    },
                    # Same field and title as colour: one merged legend, shape and colour.
                    "shape": {
                        "field": "group",
                        "type": "nominal",
                        "scale": {"domain": domain, "range": shapes},
                        "legend": {"title": "Opinion group", "orient": "bottom"},
                    },
                },
            },
            {
                "transform": you,
                "mark": {
                    "type": "point",
                    "filled": False,
                    "size": 420,
                    "strokeWidth": 2.5,
                    "color": "#111827",
                },
                "encoding": {"x": {"field": "x", **axis_off}, "y": {"field": "y", **axis_off}},
            },
            {
                "transform": you,
                "mark": {"type": "text", "dy": -18, "fontWeight": "bold", "color": "#111827"},
                "encoding": {
                    "x": {"field": "x", **axis_off},
                    "y": {"field": "y", **axis_off},
                    "text": {"value": "You"},
                },
            },
        ],
        "config": {
            "font": 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
            "view": {"stroke": "#e5e7eb"},
            "legend": {"labelColor": "#1f2933", "titleColor": "#1f2933", "labelFontSize": 12},
        },
    }
