"""Writes for improvement projects and the accountability ledger. Each is atomic and audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record, diff_fields
from commonground.improvement.models import (
    AccessSignal,
    Commitment,
    CommitteeChartSettings,
    Measure,
    MeasurePoint,
    PdsaCycle,
    PhaseBreak,
    Project,
    ProjectMember,
    Recommendation,
)
from commonground.organizations.models import Committee, Side

MAX_UPLOAD_BYTES = 1_000_000
MAX_UPLOAD_ROWS = 5_000


def _audit(
    actor: Any, action: str, obj: Any, committee: Committee, changes: dict[str, Any]
) -> None:
    audit_record(
        action=action, actor=actor, obj=obj, clinic_id=committee.clinic_id, changes=changes
    )


@transaction.atomic
def chart_settings_set(*, actor: Any, committee: Committee, profile: str) -> CommitteeChartSettings:
    settings_row, _ = CommitteeChartSettings.objects.get_or_create(committee=committee)
    before = settings_row.profile
    settings_row.profile = profile
    settings_row.full_clean()
    settings_row.save(update_fields=["profile"])
    if before != profile:
        _audit(
            actor, AuditEvent.Action.UPDATE, settings_row, committee, {"profile": [before, profile]}
        )
    return settings_row


@transaction.atomic
def project_create(
    *,
    actor: Any,
    committee: Committee,
    title: str,
    aim_what: str,
    aim_how_much: str,
    aim_by_when: dt.date,
    lead_side: str,
    idea: Any = None,
) -> Project:
    """Start a project; whoever starts it leads it for their side. Started from an idea of
    the committee's board, the project is linked to it."""
    project = Project(
        committee=committee,
        title=title,
        aim_what=aim_what,
        aim_how_much=aim_how_much,
        aim_by_when=aim_by_when,
    )
    project.full_clean()
    project.save()
    _audit(actor, AuditEvent.Action.CREATE, project, committee, project.audit_fields())
    ProjectMember.objects.create(project=project, person=actor, side=lead_side, is_lead=True)
    if idea is not None:
        project_link(actor=actor, project=project, kind="idea", target=idea)
    return project


@transaction.atomic
def project_update(*, actor: Any, project: Project, **fields: Any) -> Project:
    before = project.audit_fields()
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    changes = diff_fields(before, project.audit_fields())
    if changes:
        project.save(update_fields=[*fields, "updated_at"])
        _audit(actor, AuditEvent.Action.UPDATE, project, project.committee, changes)
    return project


@transaction.atomic
def project_member_add(
    *, actor: Any, project: Project, person: Any, side: str, is_lead: bool = False
) -> ProjectMember:
    if project.team.filter(person=person).exists():
        raise ValidationError(f"{person.get_display_name()} is already on the team.")
    if is_lead:
        project.team.filter(side=side, is_lead=True).update(is_lead=False)
    member = ProjectMember(project=project, person=person, side=side, is_lead=is_lead)
    member.full_clean()
    member.save()
    _audit(
        actor,
        AuditEvent.Action.CREATE,
        member,
        project.committee,
        {"person_id": person.pk, "side": side, "is_lead": is_lead},
    )
    return member


@transaction.atomic
def project_member_remove(*, actor: Any, member: ProjectMember) -> None:
    project = member.project
    if project.team.count() == 1:
        raise ValidationError("A project keeps at least one person on its team.")
    _audit(
        actor,
        AuditEvent.Action.DELETE,
        member,
        project.committee,
        {"person_id": member.person_id, "side": member.side},
    )
    member.delete()


def team_sides_missing(project: Project) -> list[str]:
    """Sides with nobody on the team: joint work needs both."""
    sides = {member.side for member in project.team.all()}
    return [str(side.label) for side in (Side.CLINICIAN, Side.MANAGEMENT) if side not in sides]


@transaction.atomic
def measure_create(*, actor: Any, project: Project, **fields: Any) -> Measure:
    measure = Measure(project=project, **fields)
    measure.full_clean()
    measure.save()
    _audit(
        actor,
        AuditEvent.Action.CREATE,
        measure,
        project.committee,
        {"name": measure.name, "kind": measure.kind, "chart": measure.chart},
    )
    return measure


def _check_point(measure: Measure, value: float | None, denominator: float | None) -> list[str]:
    problems = []
    if value is not None and (math.isnan(value) or math.isinf(value)):
        problems.append("value must be a finite number")
    if measure.needs_denominator and value is not None and denominator is None:
        problems.append("this chart needs a denominator for every value")
    if denominator is not None and denominator <= 0:
        problems.append("denominator must be more than 0")
    if (
        measure.chart in {"p", "pp"}
        and value is not None
        and denominator is not None
        and value > denominator
    ):
        problems.append("a proportion's count cannot exceed its denominator")
    return problems


@transaction.atomic
def measure_point_set(
    *,
    actor: Any,
    measure: Measure,
    period: dt.date,
    value: float | None,
    denominator: float | None = None,
    excluded: bool = False,
    note: str = "",
) -> MeasurePoint:
    """Record (or correct) the value of one period."""
    problems = _check_point(measure, value, denominator)
    if problems:
        raise ValidationError(problems)
    point, created = MeasurePoint.objects.update_or_create(
        measure=measure,
        period=period,
        defaults={"value": value, "denominator": denominator, "excluded": excluded, "note": note},
    )
    _audit(
        actor,
        AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        point,
        measure.project.committee,
        {"period": period.isoformat(), "value": value, "denominator": denominator},
    )
    return point


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column} ({self.value!r}): {self.reason}"


class UploadRejected(Exception):
    """The whole file was refused; nothing was stored."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


@dataclass(frozen=True)
class UploadResult:
    rows: int
    created: int
    updated: int
    unchanged: int


def _parse_number(text: str) -> float | None:
    cleaned = text.strip()
    if cleaned == "" or cleaned.upper() in {"NA", "N/A"}:
        return None
    return float(cleaned)


def parse_points_csv(
    measure: Measure, raw: bytes
) -> list[tuple[dt.date, float | None, float | None, str]]:
    """Read and check a whole file before anything is stored; every bad cell is reported."""
    errors: list[RowError] = []
    if len(raw) > MAX_UPLOAD_BYTES:
        raise UploadRejected([RowError(0, "", "", f"the file is over {MAX_UPLOAD_BYTES:,} bytes")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRejected(
            [RowError(0, "", "", "the file is not UTF-8 text (save it as CSV UTF-8)")]
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = headers
    errors.extend(
        RowError(1, required, "", "missing column (needed: period, value)")
        for required in ("period", "value")
        if required not in headers
    )
    if measure.needs_denominator and "denominator" not in headers:
        errors.append(
            RowError(1, "denominator", "", "missing column: this chart needs denominators")
        )
    if errors:
        raise UploadRejected(errors)
    rows: list[tuple[dt.date, float | None, float | None, str]] = []
    seen: dict[dt.date, int] = {}
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_UPLOAD_ROWS:
            errors.append(RowError(line, "", "", f"more than {MAX_UPLOAD_ROWS:,} rows"))
            break
        if not any((cell or "").strip() for cell in row.values() if isinstance(cell, str)):
            continue
        period_text = (row.get("period") or "").strip()
        try:
            period = dt.date.fromisoformat(period_text)
        except ValueError:
            errors.append(RowError(line, "period", period_text, "not a date (use YYYY-MM-DD)"))
            continue
        if period in seen:
            errors.append(RowError(line, "period", period_text, f"repeats line {seen[period]}"))
            continue
        seen[period] = line
        numbers: dict[str, float | None] = {}
        for column in ("value", "denominator"):
            cell = row.get(column) or ""
            try:
                numbers[column] = _parse_number(cell)
            except ValueError:
                errors.append(RowError(line, column, cell, "not a number"))
        if len(numbers) < 2:
            continue
        errors.extend(
            RowError(line, "value", row.get("value") or "", reason)
            for reason in _check_point(measure, numbers["value"], numbers["denominator"])
        )
        rows.append(
            (
                period,
                numbers["value"],
                numbers["denominator"],
                (row.get("note") or "").strip()[:200],
            )
        )
    if errors:
        raise UploadRejected(errors)
    if not rows:
        raise UploadRejected([RowError(2, "", "", "the file has no data rows")])
    return rows


@transaction.atomic
def measure_points_import(
    *, actor: Any, measure: Measure, raw: bytes, filename: str
) -> UploadResult:
    """All or nothing; importing the same file again changes nothing."""
    rows = parse_points_csv(measure, raw)
    existing = {p.period: p for p in measure.points.select_for_update()}
    created = updated = unchanged = 0
    to_create: list[MeasurePoint] = []
    to_update: list[MeasurePoint] = []
    for period, value, denominator, note in rows:
        point = existing.get(period)
        if point is None:
            to_create.append(
                MeasurePoint(
                    measure=measure, period=period, value=value, denominator=denominator, note=note
                )
            )
            created += 1
        elif (point.value, point.denominator, point.note) == (value, denominator, note):
            unchanged += 1
        else:
            point.value, point.denominator, point.note = value, denominator, note
            to_update.append(point)
            updated += 1
    MeasurePoint.objects.bulk_create(to_create)
    MeasurePoint.objects.bulk_update(to_update, ["value", "denominator", "note"])
    result = UploadResult(rows=len(rows), created=created, updated=updated, unchanged=unchanged)
    _audit(
        actor,
        AuditEvent.Action.CREATE,
        measure,
        measure.project.committee,
        {"import": filename[:100], "rows": result.rows, "created": created, "updated": updated},
    )
    return result


@transaction.atomic
def pdsa_create(
    *,
    actor: Any,
    project: Project,
    change_idea: str,
    plan: str,
    prediction: str,
    started_on: dt.date,
    measure: Measure | None = None,
) -> PdsaCycle:
    if measure is not None and measure.project_id != project.pk:
        raise ValidationError("Choose a measure of this project.")
    last = (
        Project.objects.select_for_update().filter(pk=project.pk).aggregate(n=Max("cycles__number"))
    )
    cycle = PdsaCycle(
        project=project,
        number=(last["n"] or 0) + 1,
        change_idea=change_idea,
        plan=plan,
        prediction=prediction,
        started_on=started_on,
        measure=measure,
    )
    cycle.full_clean()
    cycle.save()
    if project.status == Project.Status.PLANNING:
        project_update(actor=actor, project=project, status=Project.Status.TESTING)
    _audit(
        actor,
        AuditEvent.Action.CREATE,
        cycle,
        project.committee,
        {"number": cycle.number, "change_idea": change_idea},
    )
    return cycle


@transaction.atomic
def pdsa_record(
    *,
    actor: Any,
    cycle: PdsaCycle,
    do_notes: str,
    study: str,
    act: str,
    act_reason: str,
    ended_on: dt.date | None,
) -> PdsaCycle:
    """Record what happened and the decision. Adopting a change starts a new phase on the
    cycle's measure from the day the cycle ended, so the chart judges the new process."""
    if act and not study.strip():
        raise ValidationError("Study the result against the prediction before deciding.")
    if act and ended_on is None:
        raise ValidationError("Give the date the cycle ended.")
    before = {"act": cycle.act, "ended_on": cycle.ended_on.isoformat() if cycle.ended_on else None}
    cycle.do_notes, cycle.study, cycle.act = do_notes, study, act
    cycle.act_reason, cycle.ended_on = act_reason, ended_on
    cycle.full_clean()
    cycle.save(update_fields=["do_notes", "study", "act", "act_reason", "ended_on"])
    after = {"act": cycle.act, "ended_on": cycle.ended_on.isoformat() if cycle.ended_on else None}
    _audit(
        actor, AuditEvent.Action.UPDATE, cycle, cycle.project.committee, diff_fields(before, after)
    )
    if act == PdsaCycle.Act.ADOPT and cycle.measure_id and ended_on:
        PhaseBreak.objects.get_or_create(
            measure_id=cycle.measure_id,
            starts_on=ended_on,
            defaults={
                "reason": f"PDSA {cycle.number} adopted: {cycle.change_idea}"[:200],
                "cycle": cycle,
            },
        )
    return cycle


@transaction.atomic
def recommendation_create(
    *,
    actor: Any,
    committee: Committee,
    title: str,
    description: str,
    made_on: dt.date,
    project: Project | None = None,
) -> Recommendation:
    if project is not None and project.committee_id != committee.pk:
        raise ValidationError("Link a project of this committee.")
    rec = Recommendation(
        committee=committee, title=title, description=description, made_on=made_on, project=project
    )
    rec.full_clean()
    rec.save()
    _audit(actor, AuditEvent.Action.CREATE, rec, committee, {"title": title})
    return rec


COMMITMENT_FIELDS = (
    "what",
    "clinician_owner",
    "management_owner",
    "resources",
    "money",
    "fte",
    "due_on",
    "status",
    "progress",
    "delivered_on",
    "evidence",
)


def _commitment_snapshot(commitment: Commitment) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for name in COMMITMENT_FIELDS:
        value = getattr(commitment, f"{name}_id" if name.endswith("_owner") else name)
        snapshot[name] = (
            value.isoformat()
            if isinstance(value, dt.date)
            else (str(value) if value is not None and not isinstance(value, (int, str)) else value)
        )
    return snapshot


def _check_owners(commitment: Commitment) -> None:
    if commitment.clinician_owner_id is None and commitment.management_owner_id is None:
        raise ValidationError("Name an owner for at least one side.")


@transaction.atomic
def commitment_create(*, actor: Any, recommendation: Recommendation, **fields: Any) -> Commitment:
    commitment = Commitment(recommendation=recommendation, **fields)
    _check_owners(commitment)
    commitment.full_clean()
    commitment.save()
    _audit(
        actor,
        AuditEvent.Action.CREATE,
        commitment,
        recommendation.committee,
        _commitment_snapshot(commitment),
    )
    return commitment


@transaction.atomic
def commitment_update(*, actor: Any, commitment: Commitment, **fields: Any) -> Commitment:
    before = _commitment_snapshot(commitment)
    for name, value in fields.items():
        setattr(commitment, name, value)
    if commitment.status == Commitment.Status.DELIVERED and commitment.delivered_on is None:
        raise ValidationError("Give the date it was delivered.")
    _check_owners(commitment)
    commitment.full_clean()
    changes = diff_fields(before, _commitment_snapshot(commitment))
    if changes:
        commitment.save(update_fields=list(fields))
        _audit(
            actor,
            AuditEvent.Action.UPDATE,
            commitment,
            commitment.recommendation.committee,
            changes,
        )
    return commitment


@transaction.atomic
def project_link(
    *, actor: Any, project: Project, kind: str, target: Any, unlink: bool = False
) -> None:
    """Link (or unlink) a concern, a decision or an idea the project follows through. Only
    the committee's own concerns, decisions and ideas, and concerns escalated to it, may be
    linked."""
    committee = project.committee
    links: Any
    if kind == "concern":
        if committee.pk not in (target.committee_id, target.escalated_to_id):
            raise ValidationError("Link a concern of this committee.")
        links = project.concerns
    elif kind == "decision":
        if target.committee_id != committee.pk:
            raise ValidationError("Link a decision of this committee.")
        links = project.decisions
    elif kind == "idea":
        if target.committee_id != committee.pk:
            raise ValidationError("Link an idea of this committee.")
        links = project.ideas
    else:
        raise ValidationError("Link a concern, a decision or an idea.")
    if unlink:
        links.remove(target)
    else:
        links.add(target)
    _audit(
        actor,
        AuditEvent.Action.UPDATE,
        project,
        committee,
        {f"{kind}s": {"removed" if unlink else "added": str(target.pk)}},
    )


# --- access signals and live measures -------------------------------------------------------


def _cochairs(committee: Committee) -> list[Any]:
    from commonground.organizations.models import Membership, Role

    seats = Membership.objects.current().filter(committee=committee, role=Role.CO_CHAIR)
    return [seat.person for seat in seats.select_related("person")]


@transaction.atomic
def access_signal_refresh(
    *,
    committee: Committee,
    metric: str,
    periods: list[dt.date],
    values: list[float | None],
) -> AccessSignal | None:
    """Offer the committee a concern when the metric's latest month is special-cause
    deterioration. Safe to run after every recompute: a run of concern points is offered once."""
    from commonground.improvement.models import ACCESS_METRICS
    from commonground.improvement.watch import deterioration
    from commonground.notifications.services import notify

    label = dict(ACCESS_METRICS)[metric].split(",")[0]
    found = deterioration(periods, values, direction="increase", label=label)
    if found is None:
        return None
    signal, created = AccessSignal.objects.get_or_create(
        committee=committee,
        metric=metric,
        began=found.began,
        defaults={
            "latest": found.latest,
            "summary": found.summary,
            "series": [[p.isoformat(), v] for p, v in zip(periods, values, strict=True)],
        },
    )
    if not created:
        if signal.latest != found.latest and signal.state == AccessSignal.State.OPEN:
            signal.latest, signal.summary = found.latest, found.summary
            signal.series = [[p.isoformat(), v] for p, v in zip(periods, values, strict=True)]
            signal.save(update_fields=["latest", "summary", "series"])
        return signal
    _audit(None, AuditEvent.Action.CREATE, signal, committee, {"metric": metric})
    notify(
        recipients=_cochairs(committee),
        kind="access_signal",
        subject=f"Access figures need attention: {label}",
        body=found.summary,
        link=reverse("improvement:signal-detail", kwargs={"signal_id": signal.public_id}),
        dedup_key=f"access-signal:{signal.public_id}",
        clinic_id=committee.clinic_id,
    )
    return signal


def _signal_cochair(actor: Any, signal: AccessSignal) -> None:
    from commonground.organizations.access import access_profile

    if signal.committee_id not in access_profile(actor).cochair_committee_ids:
        raise ValidationError("Only the committee's co-chairs raise or dismiss a signal.")
    if signal.state != AccessSignal.State.OPEN:
        raise ValidationError("This signal has already been raised or dismissed.")


@transaction.atomic
def access_signal_dismiss(*, actor: Any, signal: AccessSignal, reason: str) -> AccessSignal:
    signal = AccessSignal.objects.select_for_update().get(pk=signal.pk)
    _signal_cochair(actor, signal)
    if len(reason.strip()) < 10:
        raise ValidationError("Say in a sentence why it needs no concern: the region sees it.")
    signal.state, signal.reason, signal.decided_by = AccessSignal.State.DISMISSED, reason, actor
    signal.save(update_fields=["state", "reason", "decided_by"])
    _audit(actor, AuditEvent.Action.UPDATE, signal, signal.committee, {"state": "dismissed"})
    return signal


def signal_evidence_csv(signal: AccessSignal) -> bytes:
    rows = ["month,value"] + [
        f"{period},{'' if value is None else round(value, 1)}" for period, value in signal.series
    ]
    return ("\n".join(rows) + "\n").encode()


@transaction.atomic
def access_signal_raise(*, actor: Any, signal: AccessSignal) -> Any:
    """Raise the signal as a named concern of the co-chair, with the monthly figures attached."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from commonground.concerns.services import concern_raise
    from commonground.improvement.models import ACCESS_METRICS

    signal = AccessSignal.objects.select_for_update().select_related("committee").get(pk=signal.pk)
    _signal_cochair(actor, signal)
    label = dict(ACCESS_METRICS)[signal.metric].split(",")[0]
    figures = SimpleUploadedFile(
        f"{signal.metric}-{signal.latest:%Y-%m}.csv", signal_evidence_csv(signal), "text/csv"
    )
    concern = concern_raise(
        actor=actor,
        committee=signal.committee,
        identity_mode="named",
        title=f"{label}: worse since {signal.began:%B %Y}"[:200],
        description=(
            f"{signal.summary}\n\nRead from the clinic's access figures with the Making Data "
            "Count rules; the monthly figures are attached."
        ),
        category="access",
        patient_impact="Patients wait longer than the standard for the care they need.",
        not_a_grievance=True,
        evidence=[figures],
    )
    if isinstance(concern, str):  # a named concern never returns an anonymous receipt
        raise ValidationError("Signals are raised as named concerns.")
    signal.state, signal.decided_by, signal.concern = AccessSignal.State.RAISED, actor, concern
    signal.save(update_fields=["state", "decided_by", "concern"])
    _audit(actor, AuditEvent.Action.UPDATE, signal, signal.committee, {"state": "raised"})
    return concern


@transaction.atomic
def measure_points_from_access(
    *, measure: Measure, periods: list[dt.date], values: list[float | None]
) -> int:
    """Replace a live measure's points with the metric's monthly figures (None = suppressed or
    not yet measured). Returns the number of points written; 0 when nothing changed, so a
    repeated recompute writes and audits nothing."""
    wanted = list(zip(periods, values, strict=True))
    current = list(measure.points.order_by("period").values_list("period", "value"))
    if current == wanted:
        return 0
    MeasurePoint.objects.filter(measure=measure).delete()
    MeasurePoint.objects.bulk_create(
        MeasurePoint(measure=measure, period=period, value=value, note="from access figures")
        for period, value in wanted
    )
    _audit(
        None,
        AuditEvent.Action.UPDATE,
        measure,
        measure.project.committee,
        {"points_from_access": len(wanted), "metric": measure.live_metric},
    )
    return len(wanted)


SeriesSource = Callable[[Any, str], tuple[list[dt.date], list[float | None]]]


def refresh_from_access(*, region_id: int, monthly_series: SeriesSource) -> dict[str, int]:
    """After the region's access figures are recomputed: feed every live measure of its
    clinics' projects and look for deteriorations to offer each clinic committee.

    ``monthly_series(clinic, metric)`` gives the clinic's monthly rate in percent (None where
    suppressed). Safe to run twice: unchanged measures and signals already offered write
    nothing.
    """
    from commonground.improvement.models import ACCESS_METRICS

    counts = {"measures": 0, "signals": 0}
    committees = Committee.objects.filter(
        region_id=region_id, kind=Committee.Kind.CLINIC_PPC, is_active=True
    ).select_related("clinic")
    for committee in committees:
        if committee.clinic is None:
            continue
        series = {metric: monthly_series(committee.clinic, metric) for metric, _ in ACCESS_METRICS}
        for metric, (periods, values) in series.items():
            if access_signal_refresh(
                committee=committee, metric=metric, periods=periods, values=values
            ):
                counts["signals"] += 1
        live = Measure.objects.filter(project__committee=committee).exclude(live_metric="")
        for measure in live.select_related("project__committee"):
            periods, values = series[measure.live_metric]
            if measure_points_from_access(measure=measure, periods=periods, values=values):
                counts["measures"] += 1
    return counts
