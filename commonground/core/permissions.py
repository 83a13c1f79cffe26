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


def authorise(
    user: Any,
    obj: Any,
    *,
    view_perm: str,
    perm: str | None = None,
    checked: Any = None,
    clinic_id: int | None = None,
) -> None:
    """The one fetch-and-authorise decision: 404 when ``user`` may not see ``obj`` (the same
    answer as "does not exist"), 403 when they may see it but lack ``perm``. Each refusal
    of an existing object is written to the audit trail.

    ``checked`` is what the rules are asked about when it differs from the object itself
    (a commitment is judged by its committee, for example).
    """
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from commonground.audit.models import AuditEvent
    from commonground.audit.services import audit_record

    subject = obj if checked is None else checked
    for needed in dict.fromkeys([view_perm, perm or view_perm]):
        if allowed(user, needed, subject):
            continue
        audit_record(
            action=AuditEvent.Action.DENIED,
            actor=user,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            clinic_id=clinic_id,
            changes={"permission": needed},
        )
        if needed == view_perm:
            raise Http404
        raise PermissionDenied
