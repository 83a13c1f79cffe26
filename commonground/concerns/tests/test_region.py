"""The region view: themes across clinics, clock compliance per clinic, clusters of similar
concerns at several clinics, and cross-clinic patterns that link without moving anything."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.concerns.clusters import Document, cluster
from commonground.concerns.models import (
    Concern,
    CrossClinicPattern,
    JointResponse,
    Signoff,
    Status,
)
from commonground.concerns.selectors import region as selectors
from commonground.concerns.services import patterns as services
from commonground.core.permissions import allowed
from commonground.notifications.testing import assert_no_identity, identities_of
from commonground.organizations.models import Committee
from tests.factories import ClinicFactory, CommitteeFactory, RegionFactory

TODAY = dt.date(2026, 11, 16)
RETURN = (
    "Return visits are booked six weeks out",
    "Most follow-ups are offered after 30 business days, so patients wait between sessions.",
)
RETURN_ELSEWHERE = (
    "Follow-up visits booked weeks out",
    "Return appointments come six weeks after the last session; patients wait too long.",
)
PARKING = ("Parking lot lighting is broken", "Walking to the car after an evening group.")


def _concern(committee, title="Intake backlog keeps growing", body="", **extra):
    person = extra.pop("person", None)
    fields = {
        "category": "access",
        "status": Status.RAISED,
        "raised_on": TODAY - dt.timedelta(days=30),
        "acknowledge_by": TODAY - dt.timedelta(days=23),
        "respond_by": TODAY - dt.timedelta(days=2),
        **extra,
    }
    return Concern.objects.create(
        committee=committee,
        title=title,
        description=body or f"{title}. It keeps happening.",
        patient_impact="Patients wait.",
        identity_mode="named" if person else "anonymous",
        raised_by=person,
        raiser_side="clinician" if person else "",
        not_a_grievance=True,
        **fields,
    )


def _sign(world, concern, step, on, version=0):
    """Both co-chairs of the concern's clinic sign ``step`` on ``on``."""
    suffix = "a" if concern.committee_id == world.ppc_a.pk else "b"
    for side, key in (("clinician", "cochair_clinician"), ("management", "cochair_manager")):
        Signoff.objects.create(
            concern=concern,
            step=step,
            side=side,
            person=world.person(f"{key}_{suffix}"),
            signed_on=on,
            response_version=version,
        )


def _clinic_ppc(region, name):
    clinic = ClinicFactory(region=region, name=name, slug=name.lower().replace(" ", "-"))
    return CommitteeFactory(clinic=clinic, region=region, slug=f"ppc-{clinic.slug}", name=name)


def _filters(**extra):
    return selectors.RegionFilters(today=TODAY, **extra)


# --- who ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("regional_admin", 200),
        ("data_steward", 200),
        ("regional_cochair_clinician", 200),
        ("regional_cochair_manager", 200),
        ("clinician_a", 403),
        ("cochair_manager_a", 403),
        ("union_rep_b", 403),
        ("no_seat", 403),
    ],
)
def test_the_region_view_is_for_regional_admins_and_the_regional_committee(
    world, login, person, status
):
    client = login(world.person(person))
    denied = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).count()
    response = client.get(reverse("concerns:region-concerns"))
    assert response.status_code == status
    refused = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).count() - denied
    assert refused == (1 if status == 403 else 0)


def test_merging_is_for_regional_admins_and_the_regional_cochairs(world):
    region = world.region
    for key in ("regional_admin", "regional_cochair_clinician", "regional_cochair_manager"):
        assert allowed(world.person(key), "concerns.merge_patterns", region), key
    for key in ("data_steward", "cochair_clinician_a", "clinician_a", "no_seat"):
        assert not allowed(world.person(key), "concerns.merge_patterns", region), key
    elsewhere = RegionFactory(name="Southern", slug="southern")
    assert not allowed(world.person("regional_admin"), "concerns.view_region", elsewhere)


# --- themes -------------------------------------------------------------------------------


def test_themes_say_where_a_problem_is_open_tried_and_resolved(world):
    third = _clinic_ppc(world.region, "Hayward")
    CommitteeFactory(
        clinic=ClinicFactory(region=world.region, name="Forming", slug="forming"),
        region=world.region,
        slug="ppc-forming",
        is_active=False,
    )
    _concern(world.ppc_a)  # open at Oakland
    tried = _concern(world.ppc_b, status=Status.ACTION)
    JointResponse.objects.create(concern=tried, agreed=True, text="Wednesday intake block.")
    _concern(world.ppc_b)  # and open at Richmond
    resolved = _concern(third, status=Status.RESOLVED)
    JointResponse.objects.create(concern=resolved, agreed=True, text="Added a block.")
    closed = _concern(third, status=Status.CLOSED, category="safety")
    JointResponse.objects.create(
        concern=closed, agreed=False, text="No.", clinician_reasons="a", management_reasons="b"
    )
    _concern(world.ppc_a, raised_on=TODAY - dt.timedelta(days=400))  # before the period
    _concern(world.regional, category="caseload")  # the regional committee's own: not a clinic

    clinics = selectors.active_clinics(world.region)
    assert [c.name for c in clinics] == [
        "Hayward",
        "Oakland Mental Health",
        "Richmond Behavioral Health",
    ]
    themes = {t.category: t for t in selectors.concerns_by_theme(world.region, clinics, _filters())}
    assert set(themes) == {"access", "safety"}
    assert themes["access"].sentence == "Open at 2 of 3 clinics; 2 tried an action; 1 resolved"
    assert themes["access"].open_concerns == 3
    assert themes["safety"].sentence == "Open at 0 of 3 clinics; 0 tried an action; 0 resolved"
    only = selectors.concerns_by_theme(world.region, clinics, _filters(category="safety"))
    assert [t.category for t in only] == ["safety"]


def test_the_period_reaches_back_whole_months():
    assert selectors.months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert selectors.months_before(dt.date(2026, 11, 16), 12) == dt.date(2025, 11, 16)
    assert selectors.months_before(dt.date(2026, 1, 15), 3) == dt.date(2025, 10, 15)


# --- clock compliance ---------------------------------------------------------------------


def test_clock_compliance_counts_on_time_steps_overdue_and_escalated_per_clinic(world):
    a, b = world.ppc_a, world.ppc_b
    on_time = _concern(a, status=Status.JOINT_RESPONSE)
    _sign(world, on_time, Signoff.Step.ACKNOWLEDGE, on_time.acknowledge_by)
    _sign(world, on_time, Signoff.Step.RESPONSE, on_time.respond_by, version=2)
    late = _concern(a, status=Status.IN_DISCUSSION)
    _sign(world, late, Signoff.Step.ACKNOWLEDGE, late.acknowledge_by + dt.timedelta(days=1))
    half = _concern(a, status=Status.RAISED)  # one side only: not acknowledged, and overdue
    Signoff.objects.create(
        concern=half,
        step="acknowledge",
        side="clinician",
        person=world.person("cochair_clinician_a"),
        signed_on=half.acknowledge_by,
    )
    _concern(
        a,
        status=Status.ESCALATED,
        escalated_to=world.regional,
        raised_on=TODAY - dt.timedelta(days=500),  # before the period, still overdue now
    )
    _concern(a, status=Status.RAISED, paused_since=TODAY - dt.timedelta(days=25))  # paused
    # Not yet due anywhere: raised yesterday.
    _concern(
        b,
        raised_on=TODAY - dt.timedelta(days=1),
        acknowledge_by=TODAY + dt.timedelta(days=4),
        respond_by=TODAY + dt.timedelta(days=20),
    )
    clinics = selectors.active_clinics(world.region)
    rows = {r.clinic.slug: r for r in selectors.clock_compliance(world.region, clinics, _filters())}
    oakland, richmond = rows["oakland"], rows["richmond"]
    assert oakland.concerns == 4
    assert (oakland.ack_on_time, oakland.ack_due, oakland.ack_rate) == (1, 4, 25)
    # Every Oakland concern is past its respond-by date; one was answered in time.
    assert (oakland.respond_on_time, oakland.respond_due, oakland.respond_rate) == (1, 4, 25)
    assert oakland.overdue_now == 3  # late (respond-by), half, the escalated one; not paused
    assert oakland.escalated == 0  # the escalated one predates the period
    assert (richmond.concerns, richmond.ack_due, richmond.ack_rate) == (1, 0, None)
    assert richmond.overdue_now == 0

    by_overdue = selectors.clock_compliance(
        world.region, clinics, _filters(), sort="overdue", descending=True
    )
    assert [r.clinic.slug for r in by_overdue] == ["oakland", "richmond"]
    two_years = selectors.clock_compliance(world.region, clinics, _filters(period="24"))
    assert {r.clinic.slug: r.escalated for r in two_years}["oakland"] == 1


def test_the_compliance_table_sorts_by_its_headers_and_marks_the_order(world, login):
    _concern(world.ppc_b)
    client = login(world.person("regional_admin"))
    response = client.get(reverse("concerns:region-concerns"), {"sort": "overdue", "dir": "desc"})
    html = response.content.decode()
    assert 'aria-sort="descending"' in html
    assert html.index('<th scope="row">Richmond') < html.index('<th scope="row">Oakland')
    assert "sort=overdue&amp;dir=asc" in html  # the current column's link flips the order


def test_the_compliance_export_is_counts_only_and_audited(world, login):
    _concern(world.ppc_a, person=world.person("clinician_a"))
    client = login(world.person("data_steward"))
    response = client.get(reverse("concerns:region-compliance-csv"), {"period": "6"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "clinic" and len(rows) == 3
    assert_no_identity(response.content.decode(), identities_of(world.person("clinician_a")))
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor_id == world.person("data_steward").pk
    assert event.changes["export"] == "clock-compliance.csv" and event.changes["period"] == "6"


# --- the page -----------------------------------------------------------------------------


def test_the_region_page_never_shows_who_raised_a_concern(world, login):
    carmen, kenji = world.person("clinician_a"), world.person("clinician_b")
    _concern(world.ppc_a, *RETURN, person=carmen)
    _concern(world.ppc_b, *RETURN_ELSEWHERE, person=kenji)
    for viewer in ("regional_admin", "regional_cochair_manager", "data_steward"):
        html = login(world.person(viewer)).get(reverse("concerns:region-concerns")).content
        page = html.decode()
        assert RETURN[0] in page and RETURN_ELSEWHERE[0] in page
        assert_no_identity(page, [*identities_of(carmen), *identities_of(kenji)])
        assert "raised by" not in page.lower()


def test_only_those_who_may_open_a_concern_get_a_link_to_it(world, login):
    own = _concern(world.ppc_a, *RETURN)
    other = _concern(world.ppc_b, *RETURN_ELSEWHERE)
    admin_page = login(world.person("regional_admin")).get(reverse("concerns:region-concerns"))
    assert own.get_absolute_url() in admin_page.content.decode()
    assert other.get_absolute_url() in admin_page.content.decode()
    # Farah sits on the regional committee, not on a clinic PPC: titles without links.
    page = login(world.person("regional_cochair_clinician")).get(
        reverse("concerns:region-concerns")
    )
    html = page.content.decode()
    assert RETURN[0] in html
    assert own.get_absolute_url() not in html and other.get_absolute_url() not in html


def test_the_page_is_accessible_and_fits_a_phone(world, login):
    _concern(world.ppc_a, *RETURN)
    _concern(world.ppc_b, *RETURN_ELSEWHERE)
    html = login(world.person("regional_admin")).get(reverse("concerns:region-concerns"))
    page = html.content.decode()
    assert page.count("<table>") == page.count("<caption") == page.count('class="table-wrap"')
    assert page.count("<table>") >= 3  # themes, compliance, a cluster
    assert 'scope="col"' in page and 'scope="row"' in page
    assert '<label for="period-filter">' in page and '<label for="category-filter">' in page
    assert "Merge into a pattern" in page


# --- clusters -----------------------------------------------------------------------------


def test_clusters_are_similar_open_concerns_at_two_or_more_clinics(world):
    # The first raised leads the group and suggests its title.
    a1 = _concern(world.ppc_a, *RETURN, raised_on=TODAY - dt.timedelta(days=40))
    b1 = _concern(world.ppc_b, *RETURN_ELSEWHERE)
    _concern(world.ppc_b, *RETURN_ELSEWHERE, status=Status.CLOSED)  # closed: left out
    _concern(world.ppc_a, *PARKING)  # alike at one clinic only: no cluster
    _concern(world.ppc_a, "Parking lot lights are broken", PARKING[1])
    found = selectors.region_clusters(world.region)
    assert [{c.pk for c in group.concerns} for group in found.groups] == [{a1.pk, b1.pk}]
    group = found.groups[0]
    assert group.clinics == 2 and group.title == RETURN[0] and group.category == "access"
    assert selectors.region_clusters(world.region, "safety").groups == []


def test_grouping_is_deterministic_and_keeps_groups_spanning_clinics():
    docs = [
        Document(1, "a", *RETURN),
        Document(2, "b", *RETURN_ELSEWHERE),
        Document(3, "a", *PARKING),
        Document(4, "a", "Parking lot lights are broken", PARKING[1]),
        Document(5, "c", "Return visits six weeks out", RETURN[1]),
    ]
    assert cluster(docs) == [[1, 2, 5]]
    assert cluster(docs, min_groups=1) == [[1, 2, 5], [3, 4]]
    assert cluster(list(reversed(docs))) == [[5, 2, 1]]


def test_grouping_three_thousand_concerns_stays_fast():
    import random

    rng = random.Random(7)
    themes = [RETURN, RETURN_ELSEWHERE, PARKING, ("Intake backlog keeps growing", "Weeks.")]
    vocabulary = [f"w{n}x" for n in range(4000)]
    docs = []
    for key in range(3000):
        if key % 3 == 0:
            title, body = themes[key % len(themes)]
        else:
            title = " ".join(rng.sample(vocabulary, 6))
            body = " ".join(rng.choices(vocabulary, k=60)) + " patients wait staff clinic"
        docs.append(Document(key, key % 26, title, body))
    started = time.perf_counter()
    groups = cluster(docs)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"grouping took {elapsed:.2f}s"
    assert len(groups) >= 3 and all(len(g) > 100 for g in groups[:3])


def test_the_region_clusters_of_three_thousand_concerns_are_computed_once_then_cached(world):
    clinics = [world.ppc_a, world.ppc_b] + [
        _clinic_ppc(world.region, f"Clinic {n}") for n in range(4)
    ]
    themes = [RETURN, RETURN_ELSEWHERE, PARKING, ("Intake backlog keeps growing", "Weeks.")]
    rows = []
    for n in range(3000):
        title, body = themes[(n // 2) % 4] if n % 2 else (f"Topic {n} on item{n}", f"detail{n}")
        rows.append(
            Concern(
                committee=clinics[n % len(clinics)],
                title=title,
                description=body,
                category="access",
                patient_impact="-",
                identity_mode="anonymous",
                raised_on=TODAY - dt.timedelta(days=n % 300),
                acknowledge_by=TODAY,
                respond_by=TODAY,
                status=Status.RAISED if n % 3 else Status.CLOSED,
                not_a_grievance=True,
            )
        )
    Concern.objects.bulk_create(rows)
    cache.clear()
    started = time.perf_counter()
    first = selectors.region_clusters(world.region)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"clusters took {elapsed:.2f}s"
    assert len(first.groups) >= 3
    with CaptureQueriesContext(connection) as cached:
        again = selectors.region_clusters(world.region)
    # Which members are still open, and the rows shown; the grouping itself is cached.
    assert len(cached.captured_queries) == 2
    assert [g.rest for g in again.groups] == [g.rest for g in first.groups]
    biggest = first.groups[0]
    assert len(biggest.concerns) == selectors.ROWS_PER_CLUSTER
    assert biggest.total == len(biggest.concerns) + biggest.hidden
    # One row per clinic first: every clinic of the group is in the sample.
    assert len({c.committee.clinic_id for c in biggest.concerns}) == biggest.clinics


def test_merging_a_large_group_takes_its_unlisted_concerns_only_when_asked(world, login):
    concerns = [
        _concern(committee, *RETURN, raised_on=TODAY - dt.timedelta(days=n))
        for n in range(8)
        for committee in (world.ppc_a, world.ppc_b)
    ]
    group = selectors.region_clusters(world.region).groups[0]
    assert group.total == 16 and group.hidden == 16 - selectors.ROWS_PER_CLUSTER
    client = login(world.person("regional_admin"))
    data = {
        "title": "Return visits",
        "category": "access",
        "concerns": [str(c.pk) for c in group.concerns],
        "rest": group.rest,
    }
    client.post(reverse("concerns:pattern-create"), data)
    assert Concern.objects.filter(pattern__isnull=False).count() == selectors.ROWS_PER_CLUSTER
    Concern.objects.update(pattern=None)
    CrossClinicPattern.objects.all().delete()
    client.post(reverse("concerns:pattern-create"), {**data, "include_rest": "on"})
    assert Concern.objects.filter(pattern__isnull=False).count() == len(concerns)


# --- patterns -----------------------------------------------------------------------------


@pytest.fixture
def alike(world):
    return [_concern(world.ppc_a, *RETURN), _concern(world.ppc_b, *RETURN_ELSEWHERE)]


def test_merging_a_cluster_links_each_clinics_concern_and_audits_every_link(world, login, alike):
    farah = world.person("regional_cochair_clinician")
    client = login(farah)
    comments_before = {c.pk: (c.committee_id, c.status, c.version) for c in alike}
    response = client.post(
        reverse("concerns:pattern-create"),
        {
            "region": world.region.slug,
            "title": "Return visits six weeks out",
            "category": "access",
            "concerns": [str(c.pk) for c in alike],
        },
    )
    pattern = CrossClinicPattern.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("concerns:pattern-detail", args=[pattern.pk])
    assert pattern.created_by == farah and pattern.region == world.region
    for concern in alike:
        concern.refresh_from_db()
        assert concern.pattern == pattern
        # Linked, not moved: the committee, status and version are untouched.
        assert (concern.committee_id, concern.status, concern.version) == comments_before[
            concern.pk
        ]
    links = AuditEvent.objects.filter(object_type="concerns.concern", action="update")
    assert {e.object_id for e in links} == {str(c.pk) for c in alike}
    assert all(e.actor_id == farah.pk and e.changes["pattern"][1] == str(pattern.pk) for e in links)
    assert AuditEvent.objects.filter(object_type="concerns.crossclinicpattern").count() == 1
    # The cluster is gone from the region view now that it is a pattern.
    assert selectors.region_clusters(world.region).groups == []


def test_a_pattern_needs_two_clinics_a_title_and_concerns_of_the_region(world, alike):
    ada = world.person("regional_admin")
    with pytest.raises(ValidationError, match="two clinics"):
        services.pattern_create(
            actor=ada, region=world.region, title="X", category="access", concern_ids=[alike[0].pk]
        )
    south = RegionFactory(name="Southern", slug="southern")
    stranger = _concern(_clinic_ppc(south, "San Diego"), *RETURN)
    with pytest.raises(ValidationError, match="region's clinics"):
        services.pattern_create(
            actor=ada,
            region=world.region,
            title="X",
            category="access",
            concern_ids=[alike[0].pk, stranger.pk],
        )
    regional = _concern(world.regional, *RETURN)
    with pytest.raises(ValidationError, match="region's clinics"):
        services.pattern_create(
            actor=ada,
            region=world.region,
            title="X",
            category="access",
            concern_ids=[alike[0].pk, alike[1].pk, regional.pk],
        )
    assert not CrossClinicPattern.objects.exists()
    assert Concern.objects.filter(pattern__isnull=False).count() == 0


def test_a_refused_merge_shows_why(world, login, alike):
    client = login(world.person("regional_admin"))
    response = client.post(
        reverse("concerns:pattern-create"),
        {"title": "Only one", "category": "access", "concerns": [str(alike[0].pk)]},
    )
    assert response.status_code == 422
    assert "at least two clinics" in response.content.decode()


def _pattern(world, concerns):
    return services.pattern_create(
        actor=world.person("regional_admin"),
        region=world.region,
        title="Return visits six weeks out",
        category="access",
        concern_ids=[c.pk for c in concerns],
        today=TODAY,
    )


def test_the_pattern_page_adds_and_removes_concerns_each_audited(world, login, alike):
    pattern = _pattern(world, alike)
    third = _concern(
        _clinic_ppc(world.region, "Hayward"), "Return visits six weeks away", RETURN[1]
    )
    client = login(world.person("regional_cochair_manager"))
    url = reverse("concerns:pattern-detail", args=[pattern.pk])
    page = client.get(url).content.decode()
    assert "Return visits six weeks away" in page  # offered as similar
    before = AuditEvent.objects.count()
    action = reverse("concerns:pattern-concerns", args=[pattern.pk])
    assert client.post(action, {"action": "add", "concerns": [str(third.pk)]}).status_code == 302
    third.refresh_from_db()
    assert third.pattern == pattern
    response = client.post(action, {"action": "remove", "concerns": [str(alike[0].pk)]})
    assert response.status_code == 302
    alike[0].refresh_from_db()
    assert alike[0].pattern is None
    events = AuditEvent.objects.order_by("id")[before:]
    assert [(e.object_id, e.changes["pattern"]) for e in events] == [
        (str(third.pk), [None, str(pattern.pk)]),
        (str(alike[0].pk), [str(pattern.pk), None]),
    ]
    # Removing a concern that is not linked is refused and changes nothing.
    response = client.post(action, {"action": "remove", "concerns": [str(alike[0].pk)]})
    assert response.status_code == 422
    assert "Only concerns linked to this pattern" in response.content.decode()


def test_the_pattern_page_is_for_region_people_and_changes_for_mergers(world, login, alike):
    pattern = _pattern(world, alike)
    url = reverse("concerns:pattern-detail", args=[pattern.pk])
    action = reverse("concerns:pattern-concerns", args=[pattern.pk])
    assert login(world.person("data_steward")).get(url).status_code == 200
    assert "Remove the checked" not in login(world.person("data_steward")).get(url).content.decode()
    assert login(world.person("data_steward")).post(action, {}).status_code == 403
    for key in ("clinician_a", "cochair_clinician_a", "no_seat"):
        assert login(world.person(key)).get(url).status_code == 404
        assert login(world.person(key)).post(action, {}).status_code == 404
    # A regional admin of another region sees nothing of this one.
    from tests.factories import MembershipFactory, UserFactory

    south = RegionFactory(name="Southern", slug="southern")
    other_admin = UserFactory(username="south.admin")
    TOTP.activate(other_admin, generate_totp_secret())  # regional admins sign in with MFA
    MembershipFactory(
        person=other_admin,
        committee=CommitteeFactory(
            clinic=None, region=south, kind=Committee.Kind.REGIONAL, slug="regional-south"
        ),
        side="neutral",
        role="regional_admin",
    )
    assert login(other_admin).get(url).status_code == 404


def test_the_concern_page_names_its_pattern_and_links_only_region_people(world, login, alike):
    pattern = _pattern(world, alike)
    link = reverse("concerns:pattern-detail", args=[pattern.pk])
    note = "Part of a cross-clinic pattern:"
    page = login(world.person("regional_admin")).get(alike[0].get_absolute_url()).content.decode()
    assert note in page and link in page and "(2 clinics)" in page
    page = login(world.person("clinician_a")).get(alike[0].get_absolute_url()).content.decode()
    assert note in page and pattern.title in page and "(2 clinics)" in page
    assert link not in page
    unlinked = _concern(world.ppc_a, *PARKING)
    page = login(world.person("clinician_a")).get(unlinked.get_absolute_url()).content.decode()
    assert note not in page


# --- query counts -------------------------------------------------------------------------


def _count(client, url):
    cache.clear()  # the cluster grouping is recomputed on every measured request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def _fill(world, committees, per_clinic):
    for committee in committees:
        for n in range(per_clinic):
            concern = _concern(
                committee,
                *(RETURN if n % 2 else RETURN_ELSEWHERE),
                status=[Status.RAISED, Status.IN_DISCUSSION, Status.ACTION, Status.RESOLVED][n % 4],
                category=["access", "caseload", "safety"][n % 3],
            )
            if committee.slug in ("ppc-oakland", "ppc-richmond") and n % 4 == 2:
                _sign(world, concern, Signoff.Step.ACKNOWLEDGE, TODAY - dt.timedelta(days=25))
                JointResponse.objects.create(concern=concern, agreed=True, text="Do it.")


def test_region_view_and_pattern_page_queries_do_not_grow_with_clinics_or_concerns(world, login):
    client = login(world.person("regional_admin"))
    _fill(world, [world.ppc_a, world.ppc_b], 2)
    pattern = _pattern(
        world,
        [
            Concern.objects.filter(committee=world.ppc_a).first(),
            Concern.objects.filter(committee=world.ppc_b).first(),
        ],
    )
    urls = [
        reverse("concerns:region-concerns"),
        reverse("concerns:region-concerns") + "?sort=ack&dir=desc&period=24",
        reverse("concerns:pattern-detail", args=[pattern.pk]),
        reverse("concerns:region-compliance-csv"),
    ]
    for url in urls:
        client.get(url)
    small = [_count(client, url) for url in urls]
    more = [_clinic_ppc(world.region, f"Clinic {n}") for n in range(4)]
    _fill(world, [world.ppc_a, world.ppc_b, *more], 12)
    services.pattern_add(
        actor=world.person("regional_admin"),
        pattern=pattern,
        concern_ids=Concern.objects.filter(pattern__isnull=True, status=Status.RAISED).values_list(
            "pk", flat=True
        )[:10],
    )
    _pattern(
        world,
        [
            Concern.objects.filter(committee=more[0], pattern__isnull=True).first(),
            Concern.objects.filter(committee=more[1], pattern__isnull=True).first(),
        ],
    )
    large = [_count(client, url) for url in urls]
    assert large == small
    page = client.get(urls[0]).content.decode()
    assert "Clinic 3" in page and "Open at" in page


def test_the_home_page_links_regional_committee_seats_to_the_region_view(world, login):
    link = reverse("concerns:region-concerns")
    for key in ("regional_admin", "regional_cochair_clinician", "data_steward"):
        assert link in login(world.person(key)).get(reverse("core:home")).content.decode(), key
    assert link not in login(world.person("clinician_a")).get(reverse("core:home")).content.decode()
