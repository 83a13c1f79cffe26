from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from commonground.accounts.forms import ProfileForm
from commonground.accounts.mfa import has_second_factor, mfa_required_for
from commonground.accounts.services import user_profile_update
from commonground.organizations.selectors import memberships_for_home


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            user_profile_update(actor=user, user=user, **form.cleaned_data)
            messages.success(request, "Profile saved.")
            return redirect("accounts:profile")
    else:
        form = ProfileForm(
            initial={"display_name": user.display_name, "job_title": user.job_title}  # type: ignore[union-attr]
        )
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "seats": memberships_for_home(user),
            "mfa_required": mfa_required_for(user),
            "mfa_enabled": has_second_factor(user),
        },
    )
