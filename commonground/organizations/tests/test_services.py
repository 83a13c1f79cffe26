"""Committee and membership writes: the co-chair rule, history, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from commonground.audit.models import AuditEvent
from commonground.organizations import services
from commonground.organizations.models import Committee, Membership, Role, Side
from tests.factories import MembershipFactory, UserFactory


def _open_cochairs(committee):
    return dict(
        Membership.objects.filter(
            committee=committee, role=Role.CO_CHAIR, end_date__isnull=True
        ).values_list("side", "person__username")
    )


def test_adding_a_member_seats_them_and_is_audited(world, diego):
    newcomer = UserFactory(username="lena.ortiz")
    seat = services.membership_add(
        actor=diego, committee=world.ppc_a, person=newcomer, side=Side.CLINICIAN
    )
    assert seat.role == Role.MEMBER
    event = AuditEvent.objects.filter(object_type="organizations.membership").latest("id")
    assert event.action == "create"
    assert event.actor_id == diego.pk
    assert event.clinic_id == world.clinic_a.pk
    assert event.changes["person_id"] == newcomer.pk


def test_a_person_holds_one_open_seat_per_committee(world, diego, carmen):
    with pytest.raises(ValidationError, match="already holds a seat"):
        services.membership_add(actor=diego, committee=world.ppc_a, person=carmen, side="clinician")


def test_a_co_chair_cannot_simply_leave_an_active_committee(world, diego, omar):
    seat = Membership.objects.get(committee=world.ppc_a, person=omar, end_date__isnull=True)
    with pytest.raises(ValidationError, match="Name a new management co-chair first"):
        services.membership_end(actor=diego, membership=seat)
    assert Membership.objects.get(pk=seat.pk).end_date is None


def test_changing_a_co_chair_keeps_the_old_one_as_a_member(world, diego, omar, maria):
    services.cochair_assign(actor=diego, committee=world.ppc_a, person=maria, side="management")
    assert _open_cochairs(world.ppc_a) == {"clinician": "diego.alvarez", "management": "maria.chen"}
    omar_open = Membership.objects.get(committee=world.ppc_a, person=omar, end_date__isnull=True)
    assert omar_open.role == Role.MEMBER
    # History keeps Omar's co-chair seat and Maria's member seat, both ended.
    ended = Membership.objects.filter(committee=world.ppc_a, end_date__isnull=False)
    assert {(m.person.username, m.role) for m in ended} == {
        ("omar.haddad", "co_chair"),
        ("maria.chen", "member"),
    }


def test_a_co_chair_sits_for_their_own_side(world, diego, carmen):
    with pytest.raises(ValidationError, match="co-chair sits for"):
        services.cochair_assign(actor=diego, committee=world.ppc_a, person=carmen, side="neutral")


def test_the_database_refuses_two_open_co_chairs_for_one_side(world, carmen):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(person=carmen, committee=world.ppc_a).update(role=Role.CO_CHAIR)


def test_a_new_committee_activates_only_with_both_co_chairs(world, ada):
    committee = services.committee_create(
        actor=ada,
        kind=Committee.Kind.REGIONAL,
        name="Access working group",
        slug="access-wg",
        region_id=world.region.pk,
    )
    assert committee.is_active is False
    with pytest.raises(ValidationError, match="missing: clinician and management"):
        services.committee_activate(actor=ada, committee=committee)
    farah = world.person("regional_cochair_clinician")
    services.cochair_assign(actor=ada, committee=committee, person=farah, side="clinician")
    with pytest.raises(ValidationError, match="missing: management"):
        services.committee_activate(actor=ada, committee=committee)
    hector = world.person("regional_cochair_manager")
    services.cochair_assign(actor=ada, committee=committee, person=hector, side="management")
    services.committee_activate(actor=ada, committee=committee)
    committee.refresh_from_db()
    assert committee.is_active is True


def test_a_clinic_ppc_needs_a_clinic_and_a_regional_body_has_none(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Committee.objects.create(
            region=world.region, kind=Committee.Kind.CLINIC_PPC, name="No clinic", slug="nc"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Committee.objects.create(
            region=world.region,
            clinic=world.clinic_a,
            kind=Committee.Kind.SUMMIT,
            name="Summit at a clinic",
            slug="sc",
        )


def test_leaving_ends_the_seat_and_keeps_history(world, diego, carmen):
    seat = Membership.objects.get(committee=world.ppc_a, person=carmen, end_date__isnull=True)
    services.membership_end(actor=diego, membership=seat, end_date=dt.date(2026, 11, 30))
    seat.refresh_from_db()
    assert seat.end_date == dt.date(2026, 11, 30)
    assert Membership.objects.filter(pk=seat.pk).exists()


def test_people_can_sit_on_several_committees(world, carmen):
    MembershipFactory(person=carmen, committee=world.summit, side=Side.CLINICIAN)
    assert Membership.objects.current().filter(person=carmen).count() == 2


def test_updating_a_committee_records_only_what_changed(world, omar):
    services.committee_update(
        actor=omar, committee=world.ppc_a, name=world.ppc_a.name, purpose="Prompt care for all."
    )
    event = AuditEvent.objects.filter(object_type="organizations.committee").latest("id")
    assert set(event.changes) == {"purpose"}
