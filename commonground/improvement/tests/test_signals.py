"""Access signals: special-cause deterioration in a clinic's access figures is offered once to
its committee; a co-chair raises it as a concern with the figures attached, or dismisses it
with a reason. Live measures take the metric's monthly figures, writing nothing twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.improvement import services
from commonground.improvement.models import AccessSignal, Measure
from commonground.notifications.models import Notification

MONTHS = [dt.date(2025 + m // 12, m % 12 + 1, 1) for m in range(20)]
STEADY = [72.0, 74, 71, 73, 75, 72, 70, 74, 73, 71, 72, 74, 73, 72, 71, 74, 73, 72]


def _refresh(world, values):
    return services.access_signal_refresh(
        committee=world.ppc_a,
        metric="follow_up_sb221",
        periods=MONTHS[: len(values)],
        values=values,
    )


def test_a_deterioration_is_offered_once_and_the_cochairs_are_told(world, diego, omar):
    assert _refresh(world, STEADY) is None
    signal = _refresh(world, [*STEADY, 48.0])
    assert signal is not None and signal.state == AccessSignal.State.OPEN
    assert signal.began == MONTHS[18]
    again = _refresh(world, [*STEADY, 48.0, 47.0])  # the same run, a month later
    assert again.pk == signal.pk and AccessSignal.objects.count() == 1
    again.refresh_from_db()
    assert again.latest == MONTHS[19]
    told = Notification.objects.filter(kind="access_signal")
    assert {n.recipient for n in told} == {diego, omar}


def test_a_cochair_raises_it_as_a_concern_with_the_figures_attached(world, diego, login):
    signal = _refresh(world, [*STEADY, 48.0])
    response = login(diego).post(
        reverse("improvement:signal-decide", args=[signal.public_id]), {"decision": "raise"}
    )
    signal.refresh_from_db()
    assert signal.state == AccessSignal.State.RAISED
    concern = signal.concern
    assert response.status_code == 302 and response["Location"] == concern.get_absolute_url()
    assert concern.raised_by == diego and concern.category == "access"
    attachment = concern.attachments.get()
    assert attachment.content_type == "text/csv"
    with pytest.raises(ValidationError, match="already been raised"):
        services.access_signal_dismiss(actor=diego, signal=signal, reason="Seasonal dip only.")


def test_dismissing_needs_a_cochair_and_a_reason(world, maria, omar, login):
    signal = _refresh(world, [*STEADY, 48.0])
    with pytest.raises(ValidationError, match="co-chairs"):
        services.access_signal_dismiss(actor=maria, signal=signal, reason="Not our problem.")
    with pytest.raises(ValidationError, match="in a sentence"):
        services.access_signal_dismiss(actor=omar, signal=signal, reason="no")
    services.access_signal_dismiss(
        actor=omar, signal=signal, reason="Two clinicians were on leave; waits are back to normal."
    )
    signal.refresh_from_db()
    assert (signal.state, signal.decided_by) == (AccessSignal.State.DISMISSED, omar)
    assert AuditEvent.objects.filter(object_type="improvement.accesssignal").count() == 2
    page = login(maria).get(reverse("improvement:signal-detail", args=[signal.public_id]))
    assert b"Two clinicians were on leave" in page.content
    listing = login(maria).get(reverse("improvement:committee-projects", args=["ppc-oakland"]))
    assert b"Access figures that need attention" in listing.content


def test_a_live_measure_takes_the_monthly_figures_and_writes_nothing_twice(world, diego):
    project = services.project_create(
        actor=diego,
        committee=world.ppc_a,
        title="Protected return slots",
        aim_what="Follow-up within 10 business days",
        aim_how_much="from 55% to 70%",
        aim_by_when=dt.date(2027, 6, 30),
        lead_side="clinician",
    )
    measure = Measure.objects.create(
        project=project,
        name="Follow-up within 10 business days",
        kind="outcome",
        operational_definition="SB 221 follow-up compliance, monthly, from the access figures.",
        direction="increase",
        live_metric="follow_up_sb221",
    )
    values = [*STEADY[:11], None]  # a suppressed month stays empty, never zero
    assert (
        services.measure_points_from_access(measure=measure, periods=MONTHS[:12], values=values)
        == 12
    )
    assert (
        services.measure_points_from_access(measure=measure, periods=MONTHS[:12], values=values)
        == 0
    )
    assert list(measure.points.order_by("period").values_list("value", flat=True))[-1] is None
    events = AuditEvent.objects.filter(object_type="improvement.measure", action="update")
    assert events.count() == 1


def test_a_recompute_of_the_access_figures_offers_the_signal_to_the_clinic_committee(world):
    from commonground.access.aggregates import feed_improvement
    from commonground.access.models import AccessAggregate, AggregateRun

    AggregateRun.objects.create(
        region=world.region, source="extract", state="done", calendar="ca-state"
    )
    rates = [*STEADY, 48.0]
    AccessAggregate.objects.bulk_create(
        AccessAggregate(
            region=world.region,
            clinic=world.clinic_a,
            source="extract",
            calendar="ca-state",
            metric="follow_up_sb221",
            period="month",
            period_start=MONTHS[index],
            dimension="total",
            compliant=round(rate * 2),
            noncompliant=200 - round(rate * 2),
            denominator=200,
            rate=round(rate * 2) / 200,
        )
        for index, rate in enumerate(rates)
    )
    feed_improvement(world.region)
    signal = AccessSignal.objects.get(committee=world.ppc_a)
    assert signal.metric == "follow_up_sb221" and signal.began == MONTHS[18]
    assert signal.series[-1] == [MONTHS[18].isoformat(), 48.0]
    feed_improvement(world.region)  # a second recompute offers nothing new
    assert AccessSignal.objects.count() == 1
