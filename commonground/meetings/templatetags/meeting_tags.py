"""What meetings and improvement projects did with a concern, shown on its own page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from commonground.core.permissions import allowed
from commonground.meetings.models import ActionItem, AgendaItem, Meeting

register = template.Library()


@register.inclusion_tag("meetings/_concern_followup.html", takes_context=True)
def concern_followup(context: dict[str, Any], concern: Any) -> dict[str, Any]:
    """The agenda items and action items that carry ``concern``, and, for those who run the
    committee's meetings, a form to put it on an upcoming agenda. Four queries at most."""
    user = context["request"].user
    agenda = list(
        AgendaItem.objects.filter(concern=concern)
        .select_related("meeting")
        .order_by("-meeting__starts_at")
    )
    actions = list(ActionItem.objects.filter(concern=concern).order_by("due_on", "title"))
    projects = list(concern.improvement_projects.order_by("title"))
    upcoming: list[Meeting] = []
    if concern.is_open and allowed(user, "meetings.manage", concern.committee):
        upcoming = list(
            Meeting.objects.filter(
                committee=concern.committee, starts_at__gte=timezone.now()
            ).order_by("starts_at")[:6]
        )
    on_agenda = {item.meeting_id for item in agenda}
    return {
        "concern": concern,
        "agenda": agenda,
        "actions": actions,
        "projects": projects,
        "upcoming": [m for m in upcoming if m.pk not in on_agenda],
        "csrf_token": context.get("csrf_token"),
    }
