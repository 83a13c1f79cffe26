"""The ideas that answer a concern, shown on the concern's own page."""

from __future__ import annotations

from typing import Any

from django import template

from commonground.core.permissions import allowed
from commonground.deliberation.selectors_ideas import TAKE_PART_IDEAS, ideas_for_concern

register = template.Library()


@register.inclusion_tag("deliberation/ideas/_concern_ideas.html", takes_context=True)
def concern_ideas(context: dict[str, Any], concern: Any) -> dict[str, Any]:
    """The concern's ideas (one query) and, for those with a seat while it is open, a link
    to propose one."""
    user = context["request"].user
    return {
        "concern": concern,
        "ideas": ideas_for_concern(concern),
        "can_propose": concern.is_open and allowed(user, TAKE_PART_IDEAS, concern.committee),
        "request": context["request"],
    }
