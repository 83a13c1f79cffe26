"""Chart evidence for the raise-a-concern form: a suppressed CSV of a chart's numbers, kept in
the cache for an hour under a random token and tied to the person who asked for it.

The access dashboard stores it (``evidence_put``); the concerns raise form reads it
(``evidence_get``) when its URL carries ``?evidence=access:<token>`` and attaches it as an
uploaded file. Only the person who made it can use it; it is deleted once used.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.files.base import ContentFile

PREFIX = "access:"
TTL_SECONDS = 3600
_KEY = "access-evidence:{token}"


@dataclass(frozen=True)
class ChartEvidence:
    reference: str  # "access:<token>", what the raise form carries
    name: str  # the chart's title, shown as "Attached: <name> (CSV of the numbers)"
    filename: str
    content: bytes
    title: str  # suggested concern title
    category: str

    def as_upload(self) -> ContentFile:
        return ContentFile(self.content, name=self.filename)


def evidence_put(
    *, user: Any, name: str, filename: str, content: bytes, title: str, category: str = "access"
) -> str:
    """Keep the CSV for an hour; returns the reference for the raise form's URL."""
    token = secrets.token_urlsafe(18)
    cache.set(
        _KEY.format(token=token),
        {
            "user": user.pk,
            "name": name,
            "filename": filename,
            "content": content,
            "title": title,
            "category": category,
        },
        timeout=TTL_SECONDS,
    )
    return PREFIX + token


def evidence_get(user: Any, reference: str | None) -> ChartEvidence | None:
    """The evidence behind ``reference`` if ``user`` made it and it has not expired."""
    if not reference or not reference.startswith(PREFIX):
        return None
    token = reference[len(PREFIX) :]
    if not token or len(token) > 64 or not token.replace("-", "").replace("_", "").isalnum():
        return None
    found = cache.get(_KEY.format(token=token))
    if not isinstance(found, dict) or found.get("user") != getattr(user, "pk", None):
        return None
    return ChartEvidence(
        reference=reference,
        name=found["name"],
        filename=found["filename"],
        content=found["content"],
        title=found["title"],
        category=found["category"],
    )


def evidence_used(reference: str) -> None:
    if reference.startswith(PREFIX):
        cache.delete(_KEY.format(token=reference[len(PREFIX) :]))
