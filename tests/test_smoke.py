from __future__ import annotations

from django.urls import reverse


def test_home_lists_carmens_committee(world, carmen, login):
    client = login(carmen)
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    assert b"Oakland PPC" in response.content


def test_maria_sees_her_committee_with_mfa_enrolled(world, maria, login):
    response = login(maria).get(reverse("organizations:committee-detail", args=["ppc-oakland"]))
    assert response.status_code == 200
    assert b"Carmen Reyes" in response.content
