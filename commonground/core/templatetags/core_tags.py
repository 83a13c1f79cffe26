from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.filter(name="markdown")
def markdown_filter(text: str) -> Any:
    from commonground.core.markdown import render_markdown

    return render_markdown(text)
