"""The cross-clinic pattern note on a concern's page, so the concern view needs no change:
``{% concern_pattern_note concern as note %}``."""

from __future__ import annotations

from typing import Any

from django import template

from commonground.concerns.models import Concern
from commonground.concerns.selectors.region import PatternNote, pattern_note

register = template.Library()


@register.simple_tag(takes_context=True, name="concern_pattern_note")
def concern_pattern_note_tag(context: template.Context, concern: Concern) -> PatternNote | None:
    request: Any = context["request"]
    return pattern_note(request.user, concern)
