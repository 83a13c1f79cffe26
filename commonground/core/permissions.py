"""One way to ask a named permission, for views, selectors and templates alike.

It asks django-rules directly rather than ``user.has_perm``: Django lets a superuser pass
every ``has_perm`` check, but in Common Ground a superuser is an operator of the Django
admin, not a member of every clinic. Tenancy holds for everyone.
"""

from __future__ import annotations

from typing import Any

import rules


def allowed(user: Any, perm: str, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_active", False):
        return False
    return bool(rules.has_perm(perm, user, obj))
