"""Duplicate detection while typing: the ranking itself, and what the raise form may show."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.concerns import selectors
from commonground.concerns.models import Concern, CoSign, Status
from commonground.concerns.similarity import DEFAULT_THRESHOLD, Index, similar, terms
from commonground.notifications.testing import assert_no_identity, identities_of
from commonground.organizations.access import access_profile

RETURN_VISITS = (
    "return",
    "Return visits are booked six weeks out",
    "Most follow-ups are offered after 30 business days, so patients wait weeks between "
    "sessions and some drop out of care.",
)
INTAKE = (
    "intake",
    "Intake backlog keeps growing",
    "New patients wait over a month for a first intake assessment; the intake queue is at "
    "120 people and referrals keep arriving.",
)
CASELOAD = (
    "caseload",
    "Caseloads are too high to give good care",
    "Each clinician carries 110 open cases, with no protected time for documentation or "
    "supervision.",
)
PARKING = (
    "parking",
    "Parking lot lighting is broken",
    "Walking to the car after an evening group feels unsafe.",
)
CORPUS = [RETURN_VISITS, INTAKE, CASELOAD, PARKING]


# --- the pure module ----------------------------------------------------------------------


def test_normalisation_drops_stop_words_markdown_and_word_forms():
    assert terms("**Follow-ups** are BOOKED for the weeks") == ["return", "book", "week"]
    assert terms("Staffing; caseloads; access; processes") == [
        "staff",
        "caseload",
        "access",
        "process",
    ]


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "Follow-up appointments are weeks away",
            "Patients can't get a return visit for a month after their first session.",
            "return",
        ),
        (
            "Waitlist for new patients",
            "New referrals wait six weeks for their intake assessment.",
            "intake",
        ),
        (
            "Too many cases per clinician",
            "My caseload is so high I cannot see patients often enough.",
            "caseload",
        ),
    ],
)
def test_the_closest_concern_ranks_first(title, body, expected):
    found = similar(title, body, CORPUS)
    assert found, "a real duplicate must clear the threshold"
    assert found[0].key == expected
    others = [m for m in Index(CORPUS).query(title, body, threshold=0) if m.key != expected]
    assert all(m.score < found[0].score for m in others)


def test_unrelated_and_too_short_drafts_find_nothing():
    assert similar("Broken printer on floor two", "The printer jams every morning.", CORPUS) == []
    assert similar("Intake", "", CORPUS) == [], "one word is not enough to compare"
    assert similar("", "", CORPUS) == []
    assert similar("the and of", "", CORPUS) == []


def test_the_threshold_and_limit_hold_and_the_order_is_deterministic():
    index = Index(CORPUS)
    everything = index.query("patients wait weeks for care", threshold=0, limit=10)
    assert [m.score for m in everything] == sorted((m.score for m in everything), reverse=True)
    above = index.query("patients wait weeks for care", threshold=DEFAULT_THRESHOLD, limit=10)
    assert all(m.score >= DEFAULT_THRESHOLD for m in above)
    assert len(index.query("patients wait weeks for care", threshold=0, limit=1)) == 1
    twins = Index([("b", "Return visits delayed", ""), ("a", "Return visits delayed", "")])
    assert [m.key for m in twins.query("return visits delayed")] == ["a", "b"]
    assert Index([]).query("anything at all") == []


def test_an_index_of_thousands_answers_quickly():
    import time

    docs = [
        (i, f"{RETURN_VISITS[1]} {i}" if i % 7 else INTAKE[1], CASELOAD[2] if i % 3 else PARKING[2])
        for i in range(3000)
    ]
    started = time.perf_counter()
    index = Index(docs)
    found = index.query(INTAKE[1], INTAKE[2])
    assert time.perf_counter() - started < 3.0
    assert found and all(key % 7 == 0 for key in (m.key for m in found))


# --- the selector and the endpoint --------------------------------------------------------


def _concern(committee, person, title, description, *, mode="named", status=Status.RAISED):
    return Concern.objects.create(
        committee=committee,
        title=title,
        description=description,
        category="access",
        patient_impact="Long gaps between sessions.",
        identity_mode=mode,
        raised_by=None if mode == "anonymous" else person,
        raiser_side="" if mode == "anonymous" else "clinician",
        raised_on=dt.date(2026, 11, 2),
        acknowledge_by=dt.date(2026, 11, 9),
        respond_by=dt.date(2026, 12, 1),
        status=status,
        not_a_grievance=True,
    )


@pytest.fixture
def concerns(world):
    diego = world.person("cochair_clinician_a")
    kenji = world.person("clinician_b")
    return {
        "own": _concern(world.ppc_a, diego, *RETURN_VISITS[1:], mode="confidential"),
        "own_intake": _concern(world.ppc_a, diego, *INTAKE[1:]),
        "own_closed": _concern(
            world.ppc_a,
            diego,
            "Return visits were booked far out",
            RETURN_VISITS[2],
            status=Status.CLOSED,
        ),
        "other": _concern(
            world.ppc_b, kenji, "Follow-up visits booked weeks out", RETURN_VISITS[2]
        ),
        "other_anonymous": _concern(
            world.ppc_b,
            None,
            "Return appointments six weeks away",
            RETURN_VISITS[2],
            mode="anonymous",
        ),
    }


DRAFT = {
    "title": "Return visits too far out",
    "description": "Follow-up sessions are booked six weeks after the last one.",
}


def _similar(client, committee, data=DRAFT):
    return client.post(
        reverse("concerns:concern-similar", args=[committee.slug]), data, HTTP_HX_REQUEST="true"
    )


def test_same_clinic_matches_link_and_offer_a_cosign_other_clinics_show_no_link(
    world, concerns, login
):
    response = _similar(login(world.person("clinician_a")), world.ppc_a)
    assert response.status_code == 200
    html = response.content.decode()
    own = concerns["own"]
    assert f'href="{own.get_absolute_url()}"' in html
    assert "co-sign instead" in html
    assert "Raised at other clinics" in html
    assert "Follow-up visits booked weeks out" in html
    assert "Richmond Behavioral Health" in html
    assert "Access and wait times" in html
    for key in ("other", "other_anonymous"):
        assert str(concerns[key].pk) not in html, "no way into another clinic's concern"
    linked = set(re.findall(r'href="([^"]+)"', html))
    assert linked == {own.get_absolute_url()}, linked
    assert "Return visits were booked far out" not in html, "closed concerns are not offered"
    assert "Intake backlog" not in html


def test_no_raiser_information_reaches_anyone(world, concerns, login):
    raisers = [world.person("cochair_clinician_a"), world.person("clinician_b")]
    identities = [value for person in raisers for value in identities_of(person)]
    for viewer in ("clinician_a", "union_rep_a", "cochair_manager_a", "cochair_clinician_b"):
        committee = world.ppc_a if viewer.endswith("_a") else world.ppc_b
        client = login(world.person(viewer))
        html = _similar(client, committee).content.decode()
        assert "Return" in html or "Follow-up" in html
        assert_no_identity(html, identities)
        for word in ("raised by", "a clinician", "anonymous", "confidential"):
            assert word not in html.lower()


def test_a_cosigned_concern_says_so_instead_of_offering_a_cosign(world, concerns, login):
    carmen = world.person("clinician_a")
    CoSign.objects.create(
        concern=concerns["own"], person=carmen, side="clinician", signed_on=dt.date(2026, 11, 3)
    )
    html = _similar(login(carmen), world.ppc_a).content.decode()
    assert "You have co-signed it." in html
    assert "co-sign instead" not in html
    assert "co-signed by 1" in html


def test_short_drafts_ask_for_nothing_and_misses_say_so(world, concerns, login):
    client = login(world.person("clinician_a"))
    assert "No similar" not in _similar(client, world.ppc_a, {"title": "Return"}).content.decode()
    miss = _similar(client, world.ppc_a, {"title": "Printer jams", "description": "Every day."})
    assert "No similar open concerns found." in miss.content.decode()


def test_the_endpoint_is_for_seated_members_only(world, concerns, client, login):
    url = reverse("concerns:concern-similar", args=[world.ppc_a.slug])
    anonymous = client.post(url, DRAFT)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert _similar(login(world.person("clinician_b")), world.ppc_a).status_code == 404
    assert _similar(login(world.person("regional_admin")), world.ppc_a).status_code == 403
    member = login(world.person("union_rep_a"))
    assert _similar(member, world.ppc_a).status_code == 200
    assert member.get(url).status_code == 405, "the draft never travels in a URL"


def test_the_raise_form_asks_as_the_person_types(world, login):
    client = login(world.person("clinician_a"))
    html = client.get(reverse("concerns:concern-raise", args=[world.ppc_a.slug])).content.decode()
    url = reverse("concerns:concern-similar", args=[world.ppc_a.slug])
    assert html.count(f'hx-post="{url}"') == 2
    assert 'hx-trigger="input changed delay:500ms"' in html
    assert 'id="similar-concerns"' in html and 'aria-live="polite"' in html
    assert "<script" not in html.split("<main", 1)[1]
    assert " style=" not in html


def test_a_refused_raise_shows_similar_concerns_with_the_form(world, concerns, login):
    client = login(world.person("clinician_a"))
    response = client.post(reverse("concerns:concern-raise", args=[world.ppc_a.slug]), DRAFT)
    assert response.status_code == 422
    assert concerns["own"].get_absolute_url() in response.content.decode()


def test_the_selector_query_count_is_flat_as_concerns_grow(world, concerns):
    carmen = world.person("clinician_a")
    access_profile(carmen)  # built once per request, before any of this

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            found = selectors.similar_open_concerns(
                carmen, world.ppc_a, f"{DRAFT['title']} {DRAFT['description']}"
            )
        assert found.here and found.elsewhere
        return len(queries)

    before = count()
    for index in range(30):
        committee = world.ppc_a if index % 2 else world.ppc_b
        _concern(
            committee,
            world.person("cochair_clinician_a" if index % 2 else "clinician_b"),
            f"{RETURN_VISITS[1]} ({index})",
            RETURN_VISITS[2],
        )
    assert count() == before == 3
    found = selectors.similar_open_concerns(carmen, world.ppc_a, DRAFT["title"], limit=3)
    assert len(found.here) <= 3 and len(found.elsewhere) <= 3
