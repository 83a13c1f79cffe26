"""The notifications rows of the access matrix, run as ``tests/test_permission_matrix.py`` does.

Once the rows are merged into ``tests.access_matrix.MATRIX`` the shared test covers them
too; this keeps them checked before that.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from commonground.audit.models import AuditEvent
from tests.access_matrix import ANONYMOUS, METHODS, ROLES, persona_key
from tests.access_matrix_notifications import ENTRIES

CASES = [
    (name, method, role, scope)
    for name, entry in ENTRIES.items()
    for method in METHODS
    for role in ROLES
    for scope in entry.scopes
]


def test_every_notifications_url_has_an_entry():
    from commonground.notifications.urls import urlpatterns

    assert {f"notifications:{p.name}" for p in urlpatterns} == set(ENTRIES)


@pytest.mark.parametrize(("name", "method", "role", "scope"), CASES)
def test_access_matrix(world, name, method, role, scope):
    entry = ENTRIES[name]
    client = Client()
    if role != ANONYMOUS:
        client.force_login(world.person(persona_key(role)))
    url = reverse(name, kwargs=entry.kwargs(world, scope) if entry.kwargs else {})
    denied_before = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).count()
    response = client.generic(method, url)
    expected = entry.expected(role, scope, method)
    assert response.status_code == expected, (
        f"{method} {url} as {role} ({scope}): got {response.status_code}, expected {expected}"
    )
    if expected == 302 and role == ANONYMOUS:
        assert response["Location"].startswith(reverse("account_login"))
    if entry.object_scoped and expected in (403, 404) and role != ANONYMOUS:
        denied = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).count()
        assert denied == denied_before + 1, "a refused request must leave one audit event"
