"""Search over concerns, decisions and minutes: only what the person may see, never a raiser.

Every test runs on the database at hand: SQLite runs the word-by-word fallback; PostgreSQL
(CI: ``bash .ci/with-postgres``) runs full-text search, and the ``fallback`` fixture runs the
fallback there too.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.concerns.models import Concern
from commonground.meetings.models import Decision, Meeting, Minutes
from commonground.notifications.testing import assert_no_identity, identities_of
from commonground.organizations.access import access_profile
from commonground.search import selectors


@pytest.fixture(params=["native", "fallback"])
def engine(request, monkeypatch):
    """Both search paths on PostgreSQL; on SQLite the native path is the fallback anyway."""
    if request.param == "fallback":
        monkeypatch.setattr(selectors, "full_text_available", lambda: False)
    elif not selectors.full_text_available():
        pytest.skip("full-text search runs on PostgreSQL only")
    return request.param


def _concern(committee, person, title, description, *, mode="named", on=dt.date(2026, 11, 2)):
    return Concern.objects.create(
        committee=committee,
        title=title,
        description=description,
        category="access",
        patient_impact="Patients wait too long.",
        identity_mode=mode,
        raised_by=None if mode == "anonymous" else person,
        raiser_side="" if mode == "anonymous" else "clinician",
        raised_on=on,
        acknowledge_by=on + dt.timedelta(days=7),
        respond_by=on + dt.timedelta(days=28),
        not_a_grievance=True,
    )


def _minutes(committee, text, title="Regular meeting"):
    meeting = Meeting.objects.create(
        committee=committee,
        title=title,
        starts_at=dt.datetime(2026, 10, 7, 0, 0, tzinfo=dt.UTC),
    )
    return Minutes.objects.create(meeting=meeting, text=text)


@pytest.fixture
def content(world):
    diego = world.person("cochair_clinician_a")
    carmen = world.person("clinician_a")
    kenji = world.person("clinician_b")
    return {
        "own_named": _concern(
            world.ppc_a, carmen, "Return visits booked six weeks out", "Follow-ups wait."
        ),
        "own_confidential": _concern(
            world.ppc_a,
            diego,
            "Interpreter bookings fall through",
            "Spanish interpreters are booked for the wrong hour; sessions are cancelled.",
            mode="confidential",
        ),
        "own_anonymous": _concern(
            world.ppc_a, None, "Interpreter phone line drops", "Calls drop.", mode="anonymous"
        ),
        "other": _concern(
            world.ppc_b,
            kenji,
            "Interpreter shortage at Richmond",
            "Richmond has one Spanish interpreter for the whole clinic.",
        ),
        "own_decision": Decision.objects.create(
            committee=world.ppc_a,
            statement="Hold four interpreter slots each morning",
            rationale="Cancelled sessions fell when slots were held.",
            decided_on=dt.date(2026, 10, 6),
            recorded_by=diego,
        ),
        "other_decision": Decision.objects.create(
            committee=world.ppc_b,
            statement="Hire a second interpreter",
            rationale="One interpreter cannot cover the clinic.",
            decided_on=dt.date(2026, 10, 7),
            recorded_by=world.person("cochair_clinician_b"),
        ),
        "own_minutes": _minutes(world.ppc_a, "Agreed to review interpreter bookings monthly."),
        "regional_minutes": _minutes(
            world.regional, "Interpreter contracts across the region were compared."
        ),
    }


def _search(client, q, **params):
    return client.get(reverse("search:search"), {"q": q, **params})


def _main(response) -> str:
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


def test_a_clinic_member_finds_only_what_they_may_see(world, content, login, engine):
    client = login(world.person("clinician_a"))
    response = _search(client, "interpreter")
    assert response.status_code == 200
    html = _main(response)
    for key in ("own_confidential", "own_anonymous"):
        assert content[key].get_absolute_url() in html
    assert content["own_decision"].get_absolute_url() in html
    assert content["own_minutes"].meeting.get_absolute_url() in html
    assert content["regional_minutes"].meeting.get_absolute_url() in html, "regional is shared"
    assert "Richmond" not in html
    assert str(content["other"].pk) not in html
    assert str(content["other_decision"].public_id) not in html
    assert "Return visits" not in html


def test_another_clinics_concern_never_appears_for_a_clinic_member(world, content, login, engine):
    for person in ("clinician_a", "cochair_clinician_a", "cochair_manager_a", "union_rep_a"):
        client = login(world.person(person))
        for q in ("Richmond", "shortage", "interpreter shortage", "second interpreter"):
            html = _main(_search(client, q))
            assert "Interpreter shortage" not in html and "Hire a second" not in html, (person, q)


def test_regional_admins_see_their_whole_region(world, content, login, engine):
    html = _main(_search(login(world.person("regional_admin")), "interpreter"))
    for key in ("own_confidential", "other"):
        assert content[key].get_absolute_url() in html
    assert content["other_decision"].get_absolute_url() in html
    assert content["regional_minutes"].meeting.get_absolute_url() in html


def test_the_raiser_of_a_confidential_concern_never_appears_for_anyone(
    world, content, login, engine
):
    diego = world.person("cochair_clinician_a")
    identities = identities_of(diego)
    for person in ("clinician_a", "manager_a", "cochair_clinician_a", "union_rep_a"):
        client = login(world.person(person))
        html = _main(_search(client, "interpreter bookings"))
        assert content["own_confidential"].get_absolute_url() in html
        assert_no_identity(html, identities)
        # Searching for the raiser's name finds nothing of theirs.
        for name in identities:
            assert content["own_confidential"].get_absolute_url() not in _main(
                _search(client, name)
            )
    html = _main(_search(login(world.person("regional_admin")), "interpreter"))
    assert_no_identity(html, identities)


def test_nobody_without_a_seat_finds_anything(world, content, login, engine):
    html = _main(_search(login(world.person("no_seat")), "interpreter"))
    assert "Nothing matches" in html
    assert not re.search(r'href="/(concerns|decisions|meetings)/', html)


def test_every_word_must_match_and_types_filter(world, content, login, engine):
    client = login(world.person("clinician_a"))
    html = _main(_search(client, "interpreter phone"))
    assert content["own_anonymous"].get_absolute_url() in html
    assert content["own_confidential"].get_absolute_url() not in html
    only_decisions = _main(_search(client, "interpreter", type="decision"))
    assert content["own_decision"].get_absolute_url() in only_decisions
    assert content["own_confidential"].get_absolute_url() not in only_decisions
    assert "Nothing matches" in _main(_search(client, "zzyzx"))
    assert "Results" not in _main(_search(client, "   "))


def test_postgres_full_text_matches_word_forms(world, content, login):
    if not selectors.full_text_available():
        pytest.skip("full-text search runs on PostgreSQL only")
    html = _main(_search(login(world.person("clinician_a")), "cancelling interpreters"))
    assert content["own_confidential"].get_absolute_url() in html
    assert content["own_decision"].get_absolute_url() in html


def test_snippets_mark_the_words_and_escape_the_text(world, login, engine):
    _concern(
        world.ppc_a,
        world.person("clinician_a"),
        "Fax machine broken",
        "The <script>alert(1)</script> fax **machine** jams; referrals are lost.",
    )
    html = _main(_search(login(world.person("clinician_a")), "fax referrals"))
    assert "<script>alert" not in html
    assert "&lt;script" in html
    assert "<mark>referrals</mark>" in html
    assert "**" not in html


def test_results_are_paginated_and_the_query_count_is_flat(world, login, engine):
    carmen = world.person("clinician_a")

    def add(count: int) -> None:
        for index in range(count):
            _concern(
                world.ppc_a,
                carmen,
                f"Parking permit delays {index}",
                "Permits take weeks.",
                on=dt.date(2026, 1, 1) + dt.timedelta(days=index),
            )

    def queries_for(q: str) -> int:
        access_profile(carmen)
        with CaptureQueriesContext(connection) as captured:
            matches = selectors.search_matches(carmen, q)
            selectors.hits_for(matches.matches[:20], q)
        return len(captured)

    add(3)
    few = queries_for("parking permit")
    add(40)
    assert queries_for("parking permit") == few <= 6
    client = login(carmen)
    first = _main(_search(client, "parking permit"))
    assert first.count("<article") == 20
    assert "43 found" in first and "page 1 of 3" in first
    assert "Parking permit delays 39" in first, "newest first among equals"
    last = _main(_search(client, "parking permit", page=3))
    assert last.count("<article") == 3
    assert 'href="?q=parking+permit&amp;page=2"' in last


def test_the_query_is_not_written_to_the_audit_trail(world, content, login):
    from commonground.audit.models import AuditEvent

    client = login(world.person("clinician_a"))
    before = AuditEvent.objects.count()
    _search(client, "interpreter")
    assert not AuditEvent.objects.filter(changes__icontains="interpreter").exists()
    assert AuditEvent.objects.count() == before


def test_search_needs_a_signed_in_person(client, world):
    response = client.get(reverse("search:search"), {"q": "interpreter"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "interpreter" not in response["Location"].split("?", 1)[0]
