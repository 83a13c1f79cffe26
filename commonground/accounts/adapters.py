from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are provisioned with committee seats, so nobody signs up on their own."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on connects to an existing account by verified email; it never creates one."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False
