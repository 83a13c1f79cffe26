"""Who must have a second factor: regional admins, data stewards, managers and staff."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator

from commonground.organizations.access import access_profile


def mfa_required_for(user: Any) -> bool:
    if not user.is_authenticated:
        return False
    profile = access_profile(user)
    return bool(
        user.is_staff or profile.is_regional_admin or profile.is_data_steward or profile.is_manager
    )


def has_second_factor(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
