"""Concern clocks: the region's lengths in the clinic's business days, the worked examples of
shared/docs/access-and-parity.md §2.1 through a real clinic calendar, extensions and pauses
signed by both co-chairs, and escalation that fires on time around them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.concerns import services
from commonground.concerns.clocks import paused_business_days
from commonground.concerns.models import ClockChange, Status
from commonground.concerns.services import clocks
from commonground.core.business_days import Calendar, preset_holidays
from commonground.organizations.models import Holiday

D = dt.date.fromisoformat
FIELDS = {
    "title": "Intake backlog reached five weeks",
    "description": "New patients wait five weeks for a first visit.",
    "category": "access",
    "patient_impact": "People in distress wait without care.",
    "not_a_grievance": True,
}
# The §2.1 table: request day, N, deadline under the federal and the California calendar.
WORKED = [
    ("2025-01-06", 10, "2025-01-21", "2025-01-21"),
    ("2025-03-24", 10, "2025-04-07", "2025-04-08"),
    ("2025-06-12", 10, "2025-06-27", "2025-06-26"),
    ("2025-10-03", 15, "2025-10-27", "2025-10-24"),
    ("2025-11-20", 10, "2025-12-05", "2025-12-08"),
    ("2025-12-19", 10, "2026-01-06", "2026-01-06"),
    ("2024-12-20", 15, "2025-01-14", "2025-01-14"),
    ("2026-02-06", 10, "2026-02-23", "2026-02-23"),
]


def _raise(world, person, day):
    return services.concern_raise(
        actor=person, committee=world.ppc_a, identity_mode="named", today=day, **FIELDS
    )


def _use_preset(world, preset):
    calendar = world.clinic_a.calendar
    Holiday.objects.filter(calendar=calendar).delete()
    Holiday.objects.bulk_create(
        Holiday(calendar=calendar, date=day, name=name)
        for day, name in preset_holidays(preset, range(2024, 2028)).items()
    )


@pytest.mark.parametrize("preset", ["federal", "ca-state"])
@pytest.mark.parametrize(("raised", "n", "federal", "state"), WORKED)
def test_the_worked_examples_hold_for_concerns_under_each_calendar(
    world, carmen, preset, raised, n, federal, state
):
    # The region sets both clocks to N days, so each is the table's deadline.
    world.region.acknowledge_within_days = n
    world.region.respond_within_days = n
    world.region.save()
    _use_preset(world, preset)
    concern = _raise(world, carmen, D(raised))
    expected = D(federal if preset == "federal" else state)
    assert (concern.acknowledge_by, concern.respond_by) == (expected, expected)


def test_clock_lengths_are_region_settings(world, carmen):
    world.region.acknowledge_within_days = 3
    world.region.respond_within_days = 10
    world.region.save()
    concern = _raise(world, carmen, D("2026-11-02"))  # a Monday, no holidays set
    assert concern.acknowledge_by == D("2026-11-05")
    assert concern.respond_by == D("2026-11-16")


def test_paused_business_days_count_the_working_days_the_pause_took():
    calendar = Calendar(holidays=frozenset({D("2026-11-26"), D("2026-11-27")}))
    assert paused_business_days(D("2026-11-23"), D("2026-11-25"), calendar) == 2  # Mon, Tue
    assert paused_business_days(D("2026-11-21"), D("2026-11-23"), calendar) == 0  # a weekend
    assert paused_business_days(D("2026-11-25"), D("2026-11-30"), calendar) == 1  # Thanksgiving
    assert paused_business_days(D("2026-11-25"), D("2026-11-25"), calendar) == 0


def test_an_extension_takes_both_cochairs_and_moves_both_deadlines(world, carmen, diego, omar):
    Holiday.objects.create(calendar=world.clinic_a.calendar, date=D("2026-11-26"), name="Tg")
    concern = _raise(world, carmen, D("2026-11-16"))
    assert (concern.acknowledge_by, concern.respond_by) == (D("2026-11-23"), D("2026-12-15"))
    change = clocks.clock_change_propose(
        actor=diego,
        concern=concern,
        kind="extend",
        reason="The staffing figures arrive after the holiday.",
        business_days=3,
        today=D("2026-11-18"),
    )
    concern.refresh_from_db()
    assert change.state == ClockChange.State.PROPOSED
    assert concern.acknowledge_by == D("2026-11-23")  # one side alone changes nothing
    with pytest.raises(ValidationError, match="other co-chair signs next"):
        clocks.clock_change_sign(actor=diego, change=change)
    clocks.clock_change_sign(actor=omar, change=change, today=D("2026-11-19"))
    concern.refresh_from_db()
    # Three business days after Mon Nov 23, skipping Thanksgiving: Tue 24, Wed 25, Fri 27.
    assert concern.acknowledge_by == D("2026-11-27")
    assert concern.respond_by == D("2026-12-18")
    change.refresh_from_db()
    assert change.state == ClockChange.State.ENDED
    assert {change.clinician_signed_by, change.management_signed_by} == {diego, omar}
    events = AuditEvent.objects.filter(object_type="concerns.clockchange")
    assert events.count() == 2
    assert events.order_by("pk").last().changes["respond_by"] == ["2026-12-15", "2026-12-18"]


def test_only_the_cochairs_propose_with_a_reason_and_one_proposal_at_a_time(
    world, carmen, diego, omar, maria
):
    concern = _raise(world, carmen, D("2026-11-02"))
    with pytest.raises(ValidationError, match="Only the co-chairs"):
        clocks.clock_change_propose(
            actor=maria, concern=concern, kind="pause", reason="Waiting for the budget."
        )
    with pytest.raises(ValidationError, match="reason"):
        clocks.clock_change_propose(actor=diego, concern=concern, kind="pause", reason="wait")
    with pytest.raises(ValidationError, match="1 to 20"):
        clocks.clock_change_propose(
            actor=diego, concern=concern, kind="extend", reason="Need more time.", business_days=40
        )
    first = clocks.clock_change_propose(
        actor=diego, concern=concern, kind="pause", reason="Waiting for the budget decision."
    )
    with pytest.raises(ValidationError, match="already waiting"):
        clocks.clock_change_propose(
            actor=omar, concern=concern, kind="extend", reason="A week more.", business_days=5
        )
    clocks.clock_change_withdraw(actor=omar, change=first)
    first.refresh_from_db()
    assert first.state == ClockChange.State.WITHDRAWN
    with pytest.raises(ValidationError, match="already been settled"):
        clocks.clock_change_sign(actor=omar, change=first)


def test_a_pause_stops_escalation_and_resuming_restores_the_lost_working_days(
    world, carmen, diego, omar
):
    concern = _raise(world, carmen, D("2026-11-02"))  # acknowledge by Mon Nov 9
    change = clocks.clock_change_propose(
        actor=omar,
        concern=concern,
        kind="pause",
        reason="Both sides wait for the regional staffing review.",
        today=D("2026-11-04"),
    )
    clocks.clock_change_sign(actor=diego, change=change, today=D("2026-11-05"))
    concern.refresh_from_db()
    assert concern.paused_since == D("2026-11-05")
    # Frozen at a day the unpaused clock would have lapsed: nothing escalates.
    assert services.escalate_overdue(today=D("2026-11-12")) == 0
    clocks.clock_resume(actor=diego, change=change, today=D("2026-11-12"))
    concern.refresh_from_db()
    change.refresh_from_db()
    # Paused Thu 5 to Wed 11 inclusive: Thu, Fri, Mon, Tue, Wed = 5 business days.
    assert change.business_days == 5
    assert concern.acknowledge_by == D("2026-11-16")
    assert concern.paused_since is None
    assert services.escalate_overdue(today=D("2026-11-16")) == 0  # due today: not late
    assert services.escalate_overdue(today=D("2026-11-17")) == 1  # the next day, on time
    concern.refresh_from_db()
    assert concern.status == Status.ESCALATED


def test_clocks_stop_once_both_sides_have_answered(world, carmen, diego, omar):
    concern = _raise(world, carmen, D("2026-11-02"))
    for cochair in (diego, omar):
        services.concern_acknowledge(actor=cochair, concern=concern)
    services.response_draft(actor=diego, concern=concern, agreed=True, text="Add intake slots.")
    for cochair in (diego, omar):
        services.response_sign(actor=cochair, concern=concern)
    with pytest.raises(ValidationError, match="clocks have stopped"):
        clocks.clock_change_propose(
            actor=diego, concern=concern, kind="extend", reason="More time please.", business_days=2
        )


def test_the_detail_page_offers_the_cochairs_a_proposal_and_signs_it(
    world, carmen, diego, omar, maria, login
):
    concern = _raise(world, carmen, D("2026-11-02"))
    client = login(maria)
    assert "Propose an extension" not in client.get(concern.get_absolute_url()).content.decode()
    client = login(diego)
    assert "Propose an extension" in client.get(concern.get_absolute_url()).content.decode()
    response = client.post(
        reverse("concerns:clock-propose", args=[concern.pk]),
        {"kind": "extend", "business_days": "2", "reason": "Waiting on the HR figures."},
    )
    assert response.status_code == 302
    change = ClockChange.objects.get(concern=concern)
    page = login(omar).get(concern.get_absolute_url()).content.decode()
    assert "Waiting on the HR figures." in page and "Sign for my side" in page
    response = login(omar).post(
        reverse("concerns:clock-decide", args=[concern.pk, change.pk, "sign"])
    )
    assert response.status_code == 302
    concern.refresh_from_db()
    assert concern.respond_by == D("2026-12-02")  # Nov 30 plus two business days
    assert (
        login(omar)
        .post(reverse("concerns:clock-decide", args=[concern.pk, change.pk, "explode"]))
        .status_code
        == 404
    )
