from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from commonground.core.permissions import allowed
from commonground.organizations.access import access_profile


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "site_name": "Common Ground",
        "access": access_profile(user) if user is not None else None,
        "can_view_audit": allowed(user, "audit.view_trail"),
    }
