"""Sign-in, sign-out and failed sign-in land in the audit trail."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa.signals import authentication_failed as mfa_authentication_failed
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from commonground.accounts.middleware import SESSION_STARTED_KEY
from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record


@receiver(user_logged_in)
def record_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = time.time()
    audit_record(action=AuditEvent.Action.LOGIN, actor=user, obj=user)


@receiver(user_logged_out)
def record_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=AuditEvent.Action.LOGOUT, actor=user, obj=user)


@receiver(user_login_failed)
def record_login_failure(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Only the account id, if the typed login names one: never the typed text, which is
    # sometimes a password entered in the wrong box.
    typed = str(credentials.get("username") or credentials.get("email") or "")
    user_model = get_user_model()
    target = (
        user_model.objects.filter(username__iexact=typed).only("pk").first()
        or user_model.objects.filter(email__iexact=typed).only("pk").first()
        if typed
        else None
    )
    audit_record(
        action=AuditEvent.Action.LOGIN_FAILED,
        object_type="accounts.user" if target else "",
        object_id=str(target.pk) if target else "",
    )


@receiver(mfa_authentication_failed)
def record_second_factor_failure(
    sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any
) -> None:
    # A wrong authenticator code after a right password is a failed sign-in too, and the
    # one that matters most: the password is known. The typed code is never stored.
    audit_record(
        action=AuditEvent.Action.LOGIN_FAILED,
        object_type="accounts.user",
        object_id=str(user.pk),
        changes={"step": "second factor"},
    )
