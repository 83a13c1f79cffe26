from __future__ import annotations

from typing import Any

from django.db import transaction

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record, diff_fields


@transaction.atomic
def user_profile_update(*, actor: Any, user: Any, display_name: str, job_title: str) -> Any:
    before = {"display_name": user.display_name, "job_title": user.job_title}
    after = {"display_name": display_name.strip(), "job_title": job_title.strip()}
    changes = diff_fields(before, after)
    if changes:
        user.display_name = after["display_name"]
        user.job_title = after["job_title"]
        user.full_clean(exclude=["password"])
        user.save(update_fields=["display_name", "job_title"])
        audit_record(action=AuditEvent.Action.UPDATE, actor=actor, obj=user, changes=changes)
    return user
