"""The discussion thread on the concern page, built by its selector so the concern view
needs no change: ``{% concern_thread concern as thread %}``."""

from __future__ import annotations

from typing import Any

from django import template

from commonground.concerns.models import Concern
from commonground.concerns.selectors.threads import Thread, concern_thread

register = template.Library()


@register.simple_tag(takes_context=True, name="concern_thread")
def concern_thread_tag(context: template.Context, concern: Concern) -> Thread:
    request: Any = context["request"]
    return concern_thread(request.user, concern)
