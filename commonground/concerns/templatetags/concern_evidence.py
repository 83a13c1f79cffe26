"""The evidence files on the concern page, built by their selector so the concern view
needs no change: ``{% concern_evidence concern as evidence %}``."""

from __future__ import annotations

from typing import Any

from django import template

from commonground.concerns.models import Concern
from commonground.concerns.selectors.attachments import EvidencePanel, evidence_panel

register = template.Library()


@register.simple_tag(takes_context=True, name="concern_evidence")
def concern_evidence_tag(context: template.Context, concern: Concern) -> EvidencePanel:
    request: Any = context["request"]
    return evidence_panel(request.user, concern)
