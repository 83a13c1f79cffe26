"""Committee and roster pages: content, htmx partials, exports and query budgets."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.organizations.models import Membership, Side
from tests.factories import MembershipFactory, UserFactory


def _committee_url(slug="ppc-oakland"):
    return reverse("organizations:committee-detail", args=[slug])


def test_committee_page_shows_purpose_co_chairs_and_roster_by_side(world, carmen, login):
    response = login(carmen).get(_committee_url())
    html = response.content.decode()
    assert "Raise concerns and improve care together." in html
    assert "Clinician co-chair" in html and "Diego Alvarez" in html
    assert "Management co-chair" in html and "Omar Haddad" in html
    assert "Clinician side" in html and "Management side" in html
    # Carmen is not a co-chair: no management forms reach her.
    assert "Add a member" not in html
    assert "roster.csv" not in html


def test_co_chairs_see_the_management_forms(world, diego, login):
    html = login(diego).get(_committee_url()).content.decode()
    assert "Add a member" in html and "Change a co-chair" in html


def test_htmx_add_member_returns_only_the_roster(world, diego, login):
    newcomer = UserFactory(username="lena.ortiz", first_name="Lena", last_name="Ortiz")
    response = login(diego).post(
        reverse("organizations:membership-add", args=["ppc-oakland"]),
        {"email": newcomer.email, "side": "clinician", "role": "member"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="roster"')
    assert "Lena Ortiz" in html
    assert "<html" not in html


def test_adding_an_unknown_email_explains_the_problem(world, diego, login):
    response = login(diego).post(
        reverse("organizations:membership-add", args=["ppc-oakland"]),
        {"email": "nobody@example.org", "side": "clinician", "role": "member"},
    )
    assert response.status_code == 422
    assert "No active account uses that email address." in response.content.decode()


def test_ending_a_co_chair_seat_says_why_not(world, diego, omar, login):
    seat = Membership.objects.get(committee=world.ppc_a, person=omar, end_date__isnull=True)
    response = login(diego).post(
        reverse("organizations:membership-end", args=["ppc-oakland", seat.pk]), follow=True
    )
    assert "Name a new management co-chair first" in response.content.decode()


def test_a_seat_of_another_committee_is_not_found(world, diego, login):
    kenji_seat = Membership.objects.get(committee=world.ppc_b, person=world.person("clinician_b"))
    response = login(diego).post(
        reverse("organizations:membership-end", args=["ppc-oakland", kenji_seat.pk])
    )
    assert response.status_code == 404
    kenji_seat.refresh_from_db()
    assert kenji_seat.end_date is None


def test_roster_export_is_audited_and_safe_for_spreadsheets(world, diego, carmen, login):
    carmen.display_name = '=HYPERLINK("http://evil")'
    carmen.save()
    response = login(diego).get(reverse("organizations:roster-export", args=["ppc-oakland"]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["name", "email", "side", "role", "since"]
    assert any(row[0].startswith("'=HYPERLINK") for row in rows[1:])
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.actor_id == diego.pk and event.clinic_id == world.clinic_a.pk


def test_clinic_directory_links_only_where_you_may_look(world, carmen, login):
    html = login(carmen).get(reverse("organizations:clinic-list")).content.decode()
    assert 'href="/clinics/oakland/"' in html
    assert "Richmond Behavioral Health" in html
    assert 'href="/clinics/richmond/"' not in html


def _grow_committee(committee, extra):
    for index in range(extra):
        MembershipFactory(
            person=UserFactory(username=f"grow{committee.pk}-{index}"),
            committee=committee,
            side=Side.CLINICIAN if index % 2 else Side.MANAGEMENT,
        )


def _count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_committee_page_queries_do_not_grow_with_members(world, diego, login):
    client = login(diego)
    client.get(_committee_url())  # warm the session
    small = _count_queries(client, _committee_url())
    _grow_committee(world.ppc_a, 30)
    large = _count_queries(client, _committee_url())
    assert small == large
    assert large <= 12, f"committee page budget is 12 queries, used {large}"


def test_roster_partial_queries_do_not_grow_with_members(world, diego, login):
    client = login(diego)
    url = reverse("organizations:committee-detail", args=["ppc-oakland"])

    def hx_count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    hx_count()
    small = hx_count()
    _grow_committee(world.ppc_a, 30)
    assert hx_count() == small


def test_home_and_directory_queries_do_not_grow(world, carmen, login):
    client = login(carmen)
    client.get("/")
    home_small = _count_queries(client, reverse("core:home"))
    dir_small = _count_queries(client, reverse("organizations:clinic-list"))
    from tests.factories import ClinicFactory, CommitteeFactory

    for index in range(10):
        clinic = ClinicFactory(region=world.region, slug=f"extra-{index}")
        CommitteeFactory(clinic=clinic, region=world.region, slug=f"ppc-extra-{index}")
        MembershipFactory(
            person=carmen,
            committee=CommitteeFactory(
                clinic=None, region=world.region, kind="regional", slug=f"wg-{index}"
            ),
        )
    assert _count_queries(client, reverse("core:home")) == home_small
    assert _count_queries(client, reverse("organizations:clinic-list")) == dir_small
