"""The demo region: realistic, deterministic, consistent with the rules, safe to reload."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from commonground.organizations.access import access_profile
from commonground.organizations.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo_region
from commonground.organizations.models import Clinic, Committee, Membership, Role
from commonground.organizations.services import committee_cochair_problems


def test_demo_region_has_26_clinics_with_committees_of_both_sides(db):
    result = load_demo_region()
    assert result["clinics"] == 26
    assert Clinic.objects.count() == 26
    assert len({clinic.city for clinic in Clinic.objects.all()}) == 26
    assert 380 <= get_user_model().objects.count() <= 420
    for committee in Committee.objects.filter(kind=Committee.Kind.CLINIC_PPC):
        seats = list(Membership.objects.current().filter(committee=committee))
        assert 6 <= len(seats) <= 14, committee.name
        sides = Counter(seat.side for seat in seats)
        assert sides["clinician"] >= 1 and sides["management"] >= 1
    kinds = Counter(Committee.objects.values_list("kind", flat=True))
    assert kinds == {"clinic_ppc": 26, "regional": 1, "summit": 1}
    summit_size = Membership.objects.current().filter(committee__kind="summit").count()
    assert 240 <= summit_size <= 260


def test_every_demo_committee_has_exactly_one_co_chair_per_side(db):
    load_demo_region()
    for committee in Committee.objects.all():
        assert committee.is_active
        assert committee_cochair_problems(committee) == [], committee.name


def test_demo_keeps_some_history_of_people_who_left(db):
    load_demo_region()
    assert Membership.objects.filter(end_date__isnull=False).count() >= 26


def test_each_demo_login_signs_in_with_its_role(db):
    load_demo_region()
    expected_roles = {
        "clinician.oakland": ("ppc-oakland", Role.MEMBER, "clinician"),
        "cochair-clinician.oakland": ("ppc-oakland", Role.CO_CHAIR, "clinician"),
        "manager.oakland": ("ppc-oakland", Role.MEMBER, "management"),
        "cochair-manager.oakland": ("ppc-oakland", Role.CO_CHAIR, "management"),
        "unionrep.oakland": ("ppc-oakland", Role.UNION_REP, "clinician"),
        "datasteward.region": ("regional-committee", Role.DATA_STEWARD, "neutral"),
        "admin.region": ("regional-committee", Role.REGIONAL_ADMIN, "neutral"),
    }
    assert {login.username for login in DEMO_LOGINS} == set(expected_roles)
    for username, (slug, role, side) in expected_roles.items():
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        seat = Membership.objects.get(person=user, committee__slug=slug, end_date__isnull=True)
        assert (seat.role, seat.side) == (role, side), username
    admin = get_user_model().objects.get(username="admin.region")
    assert access_profile(admin).is_regional_admin


def test_the_demo_is_deterministic_and_loads_once(db):
    load_demo_region()
    first = list(get_user_model().objects.order_by("username").values_list("username", flat=True))
    assert load_demo_region() == {"created": 0}
    assert get_user_model().objects.count() == len(first)
    # Same seed, same people: a reload from scratch gives the same usernames.
    Membership.objects.all().delete()
    from allauth.account.models import EmailAddress

    EmailAddress.objects.all().delete()
    get_user_model().objects.all().delete()
    Committee.objects.all().delete()
    Clinic.objects.all().delete()
    from commonground.organizations.models import BusinessCalendar, Region

    Region.objects.all().delete()
    BusinessCalendar.objects.all().delete()
    load_demo_region()
    again = list(get_user_model().objects.order_by("username").values_list("username", flat=True))
    assert again == first


def test_seed_command_prints_the_demo_logins(db, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Demo region loaded: 26 clinics" in out
    for login in DEMO_LOGINS:
        assert login.username in out


def test_demo_has_a_dozen_improvement_projects_with_adopted_and_abandoned_changes(db):
    from commonground.demo import load_demo
    from commonground.improvement.models import PdsaCycle, PhaseBreak, Project

    result = load_demo()
    assert result["projects"] == 12
    assert Project.objects.values("committee").distinct().count() == 12
    acts = set(PdsaCycle.objects.values_list("act", flat=True))
    assert {"adopt", "abandon"} <= acts
    assert PhaseBreak.objects.count() == PdsaCycle.objects.filter(act="adopt").count()
    assert load_demo()["projects"] == 0  # loads once


def test_demo_loads_concerns_and_meetings_once(db):
    # Their history is checked in commonground/concerns/tests/test_demo.py and
    # commonground/meetings/tests/test_demo.py.
    from commonground.demo import load_demo

    result = load_demo()
    assert result["concerns"] >= 2800
    assert result["meetings"] >= 600
    again = load_demo()
    assert again["created"] == 0
    assert again["concerns"] == again["meetings"] == 0
