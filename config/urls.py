from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# The admin signs in through allauth, so staff pass the same throttling and MFA.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Common Ground administration"

urlpatterns = [
    path("", include("commonground.core.urls")),
    path("accounts/", include("allauth.urls")),
    path("profile/", include("commonground.accounts.urls")),
    path("", include("commonground.organizations.urls")),
    path("", include("commonground.improvement.urls")),
    path("", include("commonground.concerns.urls")),
    path("", include("commonground.meetings.urls")),
    path("", include("commonground.deliberation.urls")),
    path("summit/", include("commonground.summit.urls")),
    path("audit/", include("commonground.audit.urls")),
    path("notifications/", include("commonground.notifications.urls")),
    path("search/", include("commonground.search.urls")),
    path("access/", include("commonground.access.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "commonground.core.views.permission_denied"
handler404 = "commonground.core.views.page_not_found"
handler500 = "commonground.core.views.server_error"
