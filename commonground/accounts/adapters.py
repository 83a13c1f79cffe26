from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from commonground.accounts.mfa import mfa_required_for


def account_id_for_login(typed: str) -> int | None:
    """The id of the account a typed username or email address names, if any.

    Case-insensitive on purpose: it decides whose failed attempts a typed login counts
    against, and "Carmen.Reyes" is a guess at the same account as "carmen.reyes".
    """
    typed = typed.strip()
    if not typed:
        return None
    user_model = get_user_model()
    pk = user_model.objects.filter(username__iexact=typed).values_list("pk", flat=True).first()
    if pk is None and "@" in typed:
        pk = (
            user_model.objects.filter(email__iexact=typed).values_list("pk", flat=True).first()
            or EmailAddress.objects.filter(email__iexact=typed)
            .values_list("user_id", flat=True)
            .first()
        )
    return pk


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are provisioned with committee seats, so nobody signs up on their own."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth counts failed sign-ins per *typed* login (and per Host header), so the
        # username, the email address and their other spellings each had their own five
        # attempts. Count them per account instead (AU2); a login that names no account
        # keeps allauth's key. Also used to clear the count after a password reset.
        typed = credentials.get("email") or credentials.get("username") or ""
        account_id = account_id_for_login(str(typed))
        if account_id is None:
            return super()._get_login_attempts_cache_key(request, **credentials)
        return f"account:{account_id}"


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on connects to an existing account by verified email; it never creates one."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False


class MFAAdapter(DefaultMFAAdapter):
    """Someone whose role requires two-step sign-in cannot switch off their last authenticator.

    Otherwise a manager could drop back to password-only; and whoever next signed in with
    that password alone would be asked to enrol an authenticator app of their own.
    """

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        if authenticator.type != Authenticator.Type.TOTP:
            return True
        user = authenticator.user
        if not settings.COMMONGROUND_ENFORCE_MFA or not mfa_required_for(user):
            return True
        return (
            Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP)
            .exclude(pk=authenticator.pk)
            .exists()
        )
