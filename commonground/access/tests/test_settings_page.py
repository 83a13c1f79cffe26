"""The region's access settings page: who may change them, line-numbered checks of the clinic
code map, audited saves, a recompute only when the figures depend on the change, and a save
over someone else's newer one refused."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from commonground.access import aggregates, settings_services
from commonground.access.forms import parse_clinic_codes
from commonground.access.models import AccessSettings, AggregateRun, ImportJob
from commonground.audit.models import AuditEvent
from tests.factories import CommitteeFactory, MembershipFactory, RegionFactory

URL = reverse("access:region-settings")


def form_data(**changes):
    data = {
        "calendar": "federal",
        "parity_rate_points": "10",
        "parity_median_ratio": "1.25",
        "clinic_codes": "",
        "version": "1",
    }
    data.update(changes)
    return data


@pytest.fixture
def queued(monkeypatch):
    """The recompute tasks that would be sent to the worker, by run id."""
    sent: list[int] = []
    monkeypatch.setattr(aggregates, "_enqueue_task", sent.append)
    return sent


def with_extract(world) -> None:
    """The region has imported appointment rows (so there are figures to recompute)."""
    ImportJob.objects.create(
        region=world.region,
        uploaded_by=world.person("data_steward"),
        original_name="extract.csv",
        size=1,
        sha256="0" * 64,
        state=ImportJob.State.DONE,
    )


def settings_updates() -> int:
    return AuditEvent.objects.filter(action="update", object_type="access.accesssettings").count()


# -- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("regional_admin", 200),
        ("data_steward", 200),
        ("regional_cochair_clinician", 403),
        ("manager_a", 403),
        ("clinician_a", 403),
        ("no_seat", 403),
        ("staff", 403),
    ],
)
def test_only_the_regions_admins_and_data_stewards_reach_the_settings(
    world, login, persona, status
):
    client = login(world.person(persona))
    denied = AuditEvent.objects.filter(action="denied").count()
    assert client.get(URL).status_code == status
    assert client.post(URL, form_data(calendar="ca-state")).status_code in (status, 302)
    if status == 403:
        assert AuditEvent.objects.filter(action="denied").count() == denied + 2
        assert AccessSettings.objects.filter(calendar="ca-state").count() == 0


def test_anonymous_people_are_sent_to_sign_in(world, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_another_regions_settings_are_not_found(world, login):
    other = RegionFactory(name="Southern", slug="southern")
    committee = CommitteeFactory(
        clinic=None, region=other, kind="regional", slug="south-regional", name="South"
    )
    admin = world.person("no_seat")
    MembershipFactory(person=admin, committee=committee, side="neutral", role="regional_admin")
    TOTP.activate(admin, generate_totp_secret())
    client = login(admin)
    assert client.get(URL).status_code == 200  # their own region
    assert client.get(URL, {"region": world.region.slug}).status_code == 404
    response = client.post(f"{URL}?region={world.region.slug}", form_data(calendar="ca-state"))
    assert response.status_code == 404
    assert not AccessSettings.objects.filter(calendar="ca-state").exists()


# -- the page --------------------------------------------------------------------------------


def test_the_page_shows_the_current_values_accessibly(world, login):
    AccessSettings.objects.create(
        region=world.region,
        calendar="ca-state",
        parity_rate_points=0.15,
        parity_median_ratio=1.5,
        clinic_codes={"OAK": "oakland"},
    )
    html = login(world.person("regional_admin")).get(URL).content.decode()
    assert "<legend>Holiday calendar for business days" in html
    assert re.search(r'<input type="radio" name="calendar" value="ca-state"[^>]* checked', html)
    assert 'aria-describedby="id_calendar_1_note"' in html
    assert "Cesar Chavez Day" in html and "Juneteenth" in html
    assert 'value="15"' in html and 'value="1.5"' in html
    assert "OAK = oakland" in html
    assert '<label for="id_clinic_codes">' in html


def test_the_clinic_code_checks_name_each_lines_problem():
    text = "\n".join(
        [
            "OAK = oakland",  # 1: fine
            "# a comment",  # 2: skipped
            "RICH = nowhere",  # 3: not a clinic
            "oak = richmond",  # 4: duplicate of line 1 (codes ignore case)
            " = oakland",  # 5: empty code
            "richmond = oakland",  # 6: another clinic's slug
            "just text",  # 7: no "="
            "",
            "oakland = oakland",  # 9: a clinic's own slug is allowed
        ]
    )
    mapping, errors = parse_clinic_codes(text, ["oakland", "richmond"])
    assert mapping == {"OAK": "oakland", "oakland": "oakland"}
    assert [e.split(":")[0] for e in errors] == ["Line 3", "Line 4", "Line 5", "Line 6", "Line 7"]
    assert "already on line 1" in errors[1]
    assert "another clinic's slug" in errors[3]


def test_invalid_values_re_render_with_errors_tied_to_their_fields(world, login):
    client = login(world.person("data_steward"))
    response = client.post(
        URL,
        form_data(parity_rate_points="60", parity_median_ratio="1", clinic_codes="X = nowhere\n"),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Line 1: nowhere is not a clinic of this region." in html
    assert re.search(
        r'<textarea[^>]*aria-describedby="id_clinic_codes_helptext id_clinic_codes_error"', html
    )
    assert 'id="id_clinic_codes_error"' in html
    assert (
        'id="id_parity_rate_points_error"' in html and 'id="id_parity_median_ratio_error"' in html
    )
    assert not AccessSettings.objects.exclude(clinic_codes={}).exists()
    assert settings_updates() == 0


# -- saving ----------------------------------------------------------------------------------


def test_a_save_stores_the_rate_as_a_fraction_and_audits_before_and_after(world, login, queued):
    with_extract(world)
    ada = world.person("regional_admin")
    response = login(ada).post(
        URL, form_data(parity_rate_points="15", parity_median_ratio="1.5"), follow=True
    )
    assert response.status_code == 200 and b"Settings saved." in response.content
    options = AccessSettings.objects.get(region=world.region)
    assert (options.parity_rate_points, options.parity_median_ratio) == (0.15, 1.5)
    assert options.version == 2 and options.updated_by == ada
    event = AuditEvent.objects.get(action="update", object_type="access.accesssettings")
    assert event.actor_id == ada.pk
    assert event.changes["parity_rate_points"] == [0.1, 0.15]
    assert event.changes["parity_median_ratio"] == [1.25, 1.5]
    assert event.changes["version"] == [1, 2]
    assert "calendar" not in event.changes and event.changes["recompute"] is None
    assert queued == []  # thresholds are applied when a page is drawn: nothing to recompute


def test_an_unchanged_save_writes_nothing(world, login, queued):
    with_extract(world)
    client = login(world.person("data_steward"))
    client.get(URL)  # the settings row is made on first look
    events = AuditEvent.objects.count()
    response = client.post(URL, form_data(), follow=True)
    assert b"Nothing changed" in response.content
    assert AccessSettings.objects.get(region=world.region).version == 1
    assert AuditEvent.objects.count() == events
    assert not AggregateRun.objects.exists() and queued == []


def test_a_calendar_change_queues_exactly_one_recompute(
    world, login, queued, django_capture_on_commit_callbacks
):
    with_extract(world)
    client = login(world.person("data_steward"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, form_data(calendar="ca-state"))
    assert response.status_code == 302
    run = AggregateRun.objects.get()
    assert run.state == "queued" and run.source == "extract"
    assert queued == [run.pk]
    event = AuditEvent.objects.get(action="update", object_type="access.accesssettings")
    assert event.changes["calendar"] == ["federal", "ca-state"]
    assert event.changes["recompute"] == run.pk
    page = client.get(response["Location"]).content.decode()
    assert "being recomputed" in page and "Queued" in page
    assert reverse("access:region-dashboard") + f"?region={world.region.slug}" in page


def test_a_clinic_code_change_queues_a_recompute_a_second_save_reuses_it(world, login, queued):
    with_extract(world)
    client = login(world.person("regional_admin"))
    client.post(URL, form_data(clinic_codes="OAK = oakland"))
    client.post(URL, form_data(clinic_codes="OAK = oakland\nRCH = richmond", version="2"))
    assert AccessSettings.objects.get(region=world.region).clinic_codes == {
        "OAK": "oakland",
        "RCH": "richmond",
    }
    assert AggregateRun.objects.count() == 1  # the queued run is not queued twice


def test_a_region_with_weekly_counts_only_is_not_recomputed(world, login, queued):
    login(world.person("data_steward")).post(URL, form_data(calendar="ca-state"))
    assert AccessSettings.objects.get(region=world.region).calendar == "ca-state"
    assert not AggregateRun.objects.exists() and queued == []


def test_a_save_over_someone_elses_newer_one_is_refused(world, login, queued):
    dana = world.person("data_steward")
    client = login(world.person("regional_admin"))
    assert 'name="version" value="1"' in client.get(URL).content.decode()
    settings_services.settings_save(
        actor=dana,
        region=world.region,
        values={"parity_median_ratio": 2.0},
        expected_version=1,
    )
    events = settings_updates()
    response = client.post(URL, form_data(parity_rate_points="20"))
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved these settings" in html and "Saved meanwhile by Dana Lee" in html
    assert 'name="version" value="2"' in html  # saving again is a knowing choice
    assert 'value="20"' in html  # what they typed is kept
    options = AccessSettings.objects.get(region=world.region)
    assert (options.parity_rate_points, options.parity_median_ratio) == (0.1, 2.0)
    assert settings_updates() == events
    again = client.post(
        URL, form_data(parity_rate_points="20", parity_median_ratio="2", version="2")
    )
    assert again.status_code == 302
    assert AccessSettings.objects.get(region=world.region).parity_rate_points == 0.2


# -- links -----------------------------------------------------------------------------------


def test_the_region_dashboard_links_the_settings_for_who_may_change_them(world, login):
    link = URL.encode()
    assert (
        link
        in login(world.person("regional_admin")).get(reverse("access:region-dashboard")).content
    )
    farah = login(world.person("regional_cochair_clinician"))
    page = farah.get(reverse("access:region-dashboard"))
    assert page.status_code == 200 and link not in page.content


def test_the_imports_page_links_the_settings(world, login):
    page = login(world.person("data_steward")).get(reverse("access:import-list"))
    assert f"{URL}?region={world.region.slug}".encode() in page.content
