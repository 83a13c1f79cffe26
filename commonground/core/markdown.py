"""Markdown from people, rendered safely: raw HTML is not parsed, and the output is cleaned
by nh3 (Ammonia) against an allow-list before it reaches a template."""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "h3", "h4",
    "a", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip


def render_markdown(text: str) -> SafeString:
    html = _PARSER.render(text or "")
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"https", "http", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    # The one place that marks text safe: it has just been sanitised.
    return mark_safe(cleaned)  # noqa: S308
