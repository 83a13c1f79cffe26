from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from commonground.accounts.mfa import has_second_factor, mfa_required_for

SESSION_STARTED_KEY = "commonground_auth_started_at"
_MFA_CHECKED_KEY = "commonground_mfa_enrolled"


class AbsoluteSessionTimeoutMiddleware:
    """End a session 12 hours after sign-in, however active it has been (ASVS 7.3.2)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            if started is None:
                request.session[SESSION_STARTED_KEY] = time.time()
            elif time.time() - float(started) > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, "Your session ended after 12 hours. Please sign in again.")
                return redirect(settings.LOGIN_URL)
        return self.get_response(request)


class RequireMfaMiddleware:
    """Send privileged people to set up a second factor before anything else.

    Only allauth's own pages (including sign-out and MFA set-up) and static files stay
    reachable until they do.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.COMMONGROUND_ENFORCE_MFA
            and request.user.is_authenticated
            and not request.session.get(_MFA_CHECKED_KEY)
            and not self._exempt(request.path)
            and mfa_required_for(request.user)
        ):
            if not has_second_factor(request.user):
                messages.warning(
                    request,
                    "Your role needs two-step sign-in. Set up an authenticator app to continue.",
                )
                return redirect("mfa_activate_totp")
            request.session[_MFA_CHECKED_KEY] = True
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        return path.startswith((reverse("account_login")[: -len("login/")], settings.STATIC_URL))
