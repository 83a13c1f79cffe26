"""Importing scheduling extracts: durable receipt, background processing, error reports.

``import_receive`` writes the upload to the private storage and commits the job row before
anything else; the background task ``run_import_task`` gets only the job id and calls
``import_run``, which is safe to run any number of times, also after a worker died in the
middle: a finished job is left alone, a job whose rows the store already holds is finished
from the store's manifest, anything else starts over from the upload (nothing was published).

Row-level data never enters the database: the rows go, de-identified, to the Parquet store
(``commonground.access.store``); the job keeps counts, data-quality figures (small cells
suppressed), the sha256 of the upload and an error report without patient ids.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import logging
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from commonground.access import extract, ingest, readers, side
from commonground.access.calendars import calendar_version
from commonground.access.models import AggregateRun, ImportJob
from commonground.access.readers import reader_for
from commonground.access.store import Counts, MergeOutcome, Store, StoreError
from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.core.permissions import allowed
from commonground.organizations.models import Clinic, Region

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
KEY_SETTING = "COMMONGROUND_ACCESS_PSEUDONYM_KEY"
KEY_FILE = "access_pseudonym_key"
CALENDAR = "federal"  # coverage check only (2000-2030); reports choose their calendar
MAX_REPORT_ERRORS = 100_000
_CHUNK = 1 << 20

State = ImportJob.State


class ImportFailed(Exception):
    """A problem that another attempt cannot fix (the job fails at once)."""


# -- configuration -------------------------------------------------------------------------


def private_storage() -> Storage:
    return storages["private"]


def private_root() -> Path:
    return Path(settings.PRIVATE_FILES_ROOT)


def store_for(region_id: int) -> Store:
    """The region's appointment store (one per region: appointment ids merge region-wide)."""
    return Store(private_root() / "appointments" / f"region-{int(region_id)}")


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def pseudonym_key() -> bytes:
    """The per-deployment HMAC key for patient ids, kept outside the database.

    From the setting or environment variable ``COMMONGROUND_ACCESS_PSEUDONYM_KEY`` (or a file
    named by ``COMMONGROUND_ACCESS_PSEUDONYM_KEY_FILE``), else generated once into the data
    directory (mode 0600). It must never change: the store refuses rows made with another key.
    """
    configured = _setting(KEY_SETTING, None) or os.environ.get(KEY_SETTING)
    key_file = os.environ.get(f"{KEY_SETTING}_FILE")
    if not configured and key_file:
        configured = Path(key_file).read_text(encoding="utf-8").strip()
    if configured:
        key = configured.encode() if isinstance(configured, str) else bytes(configured)
        if len(key) < extract.MIN_KEY_BYTES:
            raise ImproperlyConfigured(f"{KEY_SETTING} must be at least 16 bytes")
        return key
    path = Path(settings.DATA_DIR) / KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return _read_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{KEY_FILE}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48))
        # The link fails if another process made the key first: then theirs is used.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_text(encoding="utf-8").strip().encode()
    if len(key) < extract.MIN_KEY_BYTES:
        raise ImproperlyConfigured(f"{path} holds no usable key")
    return key


# -- receipt -------------------------------------------------------------------------------


def _upload_name(job_id: uuid.UUID, kind: str) -> str:
    return f"access/imports/{job_id}/upload.{kind}"


def _report_name(job_id: uuid.UUID) -> str:
    return f"access/imports/{job_id}/errors.csv"


def _hash(handle: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _local_path(storage: Storage, name: str) -> Path | None:
    """The file's path when the storage is the local file system (else None)."""
    if isinstance(storage, FileSystemStorage):
        return Path(storage.path(name))
    return None


def _fsync_stored(storage: Storage, name: str) -> None:
    """Make a stored file durable before the job row says it was received."""
    path = _local_path(storage, name)
    if path is None:  # not a local file system: the backend's own durability
        return
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# A cut-off is when an extract was taken, so never later than now: a day's leeway for clocks
# and zones. (A cut-off far ahead would also win every later merge of the same rows.)
CUTOFF_LEEWAY = dt.timedelta(days=1)


def data_cutoff_problem(value: dt.datetime) -> str:
    """Why ``value`` cannot be an extract's data cut-off, or ''."""
    if value.tzinfo is None:
        return "The data cut-off needs its time zone."
    if value > timezone.now() + CUTOFF_LEEWAY:
        return "The data cut-off is in the future: give when the extract was taken."
    return ""


def import_receive(
    *,
    actor: Any,
    upload: File,
    original_name: str,
    region: Region,
    clinic: Clinic | None = None,
    kind: str = ImportJob.Kind.CSV,
    enqueue: bool = True,
    data_cutoff: dt.datetime | None = None,
) -> ImportJob:
    """Store the upload, commit the job, then (after commit) queue its processing.

    ``data_cutoff``: when the extract was taken, if the steward knows it (a Bulk Data
    export's own transactionTime wins): it dates the states the extract gives, so a later
    import of an older extract does not bring older states back."""
    if data_cutoff is not None and (problem := data_cutoff_problem(data_cutoff)):
        raise ValidationError(problem)
    if not allowed(actor, "access.import_extracts", region):
        raise PermissionDenied
    if clinic is not None and clinic.region_id != region.pk:
        raise ValidationError("The clinic is not in this region.")
    if kind == ImportJob.Kind.CSV:  # the default: the bytes decide, then the name
        upload.seek(0)
        kind = readers.detect_head(upload.read(4096), original_name)
        upload.seek(0)
    reader_for(kind)  # an unknown kind fails before anything is stored
    job_id = uuid.uuid4()
    upload.seek(0)
    digest, size = _hash(upload)
    upload.seek(0)
    storage = private_storage()
    name = storage.save(_upload_name(job_id, kind), upload)
    try:
        _fsync_stored(storage, name)
        with transaction.atomic():
            job = ImportJob.objects.create(
                id=job_id,
                region=region,
                clinic=clinic,
                uploaded_by=actor,
                original_name=Path(original_name).name[:255] or "upload",
                kind=kind,
                upload=name,
                size=size,
                sha256=digest,
                data_cutoff=data_cutoff,
            )
            audit_record(
                action=AuditEvent.Action.CREATE,
                actor=actor,
                obj=job,
                clinic_id=job.clinic_id,
                changes={
                    "kind": kind,
                    "bytes": size,
                    "sha256": digest,
                    "region": region.slug,
                    "clinic": clinic.slug if clinic else None,
                    "data_cutoff": data_cutoff.isoformat() if data_cutoff else None,
                },
            )
            if enqueue:
                transaction.on_commit(partial(enqueue_import, job.pk), robust=True)
    except BaseException:
        storage.delete(name)
        raise
    return job


def enqueue_import(job_id: uuid.UUID) -> None:
    from commonground.access.tasks import run_import_task

    run_import_task.enqueue(str(job_id))


def schedule_retry(job: ImportJob, delay_seconds: float) -> bool:
    """Queue another attempt later, where the task backend can defer (the database backend);
    an immediate backend would retry in a loop at once, so there the job waits for
    ``commonground access resume``."""
    from commonground.access.tasks import run_import_task

    if not getattr(run_import_task.get_backend(), "supports_defer", False):
        return False
    run_after = timezone.now() + dt.timedelta(seconds=delay_seconds)
    run_import_task.using(run_after=run_after).enqueue(str(job.pk))
    return True


# -- processing ----------------------------------------------------------------------------


class _Progress:
    """Writes progress to the job row in its own short statements, at most once a second."""

    def __init__(self, job_id: uuid.UUID) -> None:
        self.job_id = job_id
        self.every = float(_setting("COMMONGROUND_ACCESS_PROGRESS_SECONDS", 1.0))
        self.last = 0.0
        self.scanned_max = 0

    def set(self, phase: str, done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        ImportJob.objects.filter(pk=self.job_id).update(
            phase=phase, progress_done=done, progress_total=total
        )

    def scanned(self, percent: float) -> None:
        """From DuckDB's progress thread: its own connection, closed after each write."""
        # Validation runs a few statements: the bar only moves forward.
        self.scanned_max = max(self.scanned_max, int(percent * 10))
        try:
            self.set("validating", self.scanned_max, 1000)
        except Exception:  # progress is best effort; the import goes on
            logger.debug("progress update failed", exc_info=True)
        finally:
            connection.close()

    def partitions(self, done: int, total: int) -> None:
        self.set("merging", done, total, force=done == total)


@contextlib.contextmanager
def _workdir(job: ImportJob) -> Iterator[Path]:
    """A private scratch directory (DuckDB spill files hold raw ids until de-identified)."""
    base = private_root() / "tmp" / "access"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{job.pk}-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _local_upload(job: ImportJob, work: Path) -> Path:
    """The upload as a local file, checked against its sha256."""
    if not job.upload:
        raise ImportFailed("the uploaded file is gone")
    storage = private_storage()
    local = _local_path(storage, job.upload)
    try:
        if local is not None:
            path = local
            with path.open("rb") as handle:
                digest, _ = _hash(handle)
        else:  # copied to the private scratch directory, for DuckDB to read
            path = work / f"upload.{job.kind}"
            sha = hashlib.sha256()
            with storage.open(job.upload, "rb") as src, path.open("wb") as dst:
                while chunk := src.read(_CHUNK):
                    sha.update(chunk)
                    dst.write(chunk)
            digest = sha.hexdigest()
    except FileNotFoundError:
        raise ImportFailed("the uploaded file is gone") from None
    if digest != job.sha256:
        raise ImportFailed("the stored upload no longer matches its sha256")
    return path


def import_run(job_id: uuid.UUID | str) -> ImportJob:
    """Process one job (the task body; the CLI's ``--wait`` calls it inline). Idempotent.

    Returns the job; one that is not finished after an error is left in its state for a
    retry (``attempts`` counts the runs; the last allowed attempt fails the job).
    """
    job = ImportJob.objects.select_related("region", "clinic").get(pk=job_id)
    if job.is_finished:
        _discard_upload(job)  # a run that died between finishing and deleting the file
        return job
    attempt = job.attempts + 1
    ImportJob.objects.filter(pk=job.pk).update(
        attempts=attempt, started_at=Coalesce(F("started_at"), timezone.now())
    )
    job.attempts = attempt
    if attempt > MAX_ATTEMPTS:
        return _finish_failed(job, f"stopped after {MAX_ATTEMPTS} attempts")
    try:
        return _process(job)
    except (ImportFailed, StoreError) as exc:
        return _finish_failed(job, str(exc))
    except Exception as exc:
        # The class only: DuckDB messages can quote a record, and logs must not hold patient ids.
        message = f"{type(exc).__name__} on attempt {attempt} of {MAX_ATTEMPTS}"
        logger.warning("access import %s: %s", job.pk, message)
        if attempt >= MAX_ATTEMPTS:
            return _finish_failed(job, message)
        ImportJob.objects.filter(pk=job.pk).update(last_error=message)
        job.refresh_from_db()
        return job


def _process(job: ImportJob) -> ImportJob:
    store = store_for(job.region_id)
    done = store.committed(str(job.pk))
    if done is not None:  # merged by an earlier run that died before recording it
        return _finish_done(job, done, job.quality)
    key = pseudonym_key()
    progress = _Progress(job.pk)
    tz = job.clinic.time_zone if job.clinic is not None else extract.DEFAULT_TZ
    ImportJob.objects.filter(pk=job.pk).update(
        state=State.VALIDATING, phase="validating", progress_done=0, progress_total=1000
    )
    with _workdir(job) as work:
        source = _local_upload(job, work)
        # XLSX and FHIR become the canonical CSV here; the report keeps the upload's lines.
        converted = readers.convert(
            source,
            work / "input",
            name=job.original_name,
            kind=job.kind,
            max_errors=MAX_REPORT_ERRORS,
            default_clinic=job.clinic.slug if job.clinic is not None else "",
        )
        spill = work / "spill"
        spill.mkdir()
        con = ingest.connect(
            spill,
            timezone=tz,
            memory_limit=str(_setting("COMMONGROUND_ACCESS_MEMORY_LIMIT", "1GB")),
            threads=_setting("COMMONGROUND_ACCESS_THREADS", None),
        )
        try:
            loaded = converted.finish(
                ingest.validate(
                    con,
                    converted.path,
                    calendar_version(CALENDAR),
                    max_errors=MAX_REPORT_ERRORS,
                    on_progress=progress.scanned,
                    interval=progress.every,
                    booking_time_optional=converted.booking_time_optional,
                )
            )
            side_files = _side_files(converted.outputs)
            # No appointment rows, but slots, encounters or deletions (an incremental export
            # may only delete): valid, and only those are merged.
            side_only = (bool(side_files) or "deleted" in converted.outputs) and (
                readers.only_no_rows(loaded)
            )
            if side_only:
                loaded.errors.clear()
                loaded.error_count = 0
                loaded.error_summary.clear()
            if converted.side_file:
                # The upload is the side file itself: every bad row is an error, as for
                # an extract, and nothing is stored.
                _add_side_errors(loaded, side_files, tz)
            else:
                loaded.header.warnings.extend(_side_warnings(side_files, tz))
            if not loaded.valid:
                return _finish_invalid(job, loaded)
            quality = ingest.quality(con, loaded) if not side_only else _side_only_quality(loaded)
            # The export's own transactionTime, else the time the steward gave on upload.
            cutoff = converted.cutoff or job.data_cutoff
            if cutoff is not None:
                quality["cutoff_source"] = "export" if converted.cutoff else "upload"
            if converted.feed:  # where a Bulk Data export was requested
                quality["feed"] = converted.feed
            ImportJob.objects.filter(pk=job.pk).update(
                state=State.MERGING,
                phase="de-identifying",
                rows=loaded.rows,
                quality=quality,
                data_cutoff=cutoff,  # recorded before the merge: a resume keeps it
                progress_done=0,
                progress_total=0,
            )
            if not side_only:
                ingest.stage_incoming(con, key, state_as_of=cutoff)
            # Open slots are a snapshot: of the extract's cut-off, else of the latest event.
            snapshot = extract.local_day(cutoff, tz) if cutoff else None
            if snapshot is None and not side_only:
                snapshot = loaded.last_event_day
            for name, path in side_files.items():
                if name == "slots":
                    side.stage_slots(
                        con, path, default_snapshot=snapshot, feed=converted.feed,
                        export=converted.sources is not None,  # a Bulk Data export
                        state_as_of=cutoff,
                    )  # fmt: skip
                    if not converted.feed and (feeds := side.incoming_slot_feeds(con)):
                        quality["slot_feeds"] = feeds  # a Bundle's servers, a CSV's column
                else:
                    side.stage_encounters(con, path, key, state_as_of=cutoff)
            deleted_table: str | None = None
            side_deleted: list[str] = []
            if deleted := converted.outputs.get("deleted"):  # an incremental export's
                deleted_table, side_deleted = ingest.stage_deleted(
                    con, deleted, state_as_of=cutoff, snapshot=snapshot, feed=converted.feed
                )
            for name in set(side_deleted) - set(side_files):
                side.stage_nothing(con, side.TABLES[name])
            # A full export's slots are its feed's whole schedule on their day.
            full_export = converted.sources is not None and not converted.incremental
            whole_slots_of = snapshot if full_export else None
            # What staging found, kept before the merge: a run resumed after it reports it.
            ImportJob.objects.filter(pk=job.pk).update(quality=quality)
            outcome = store.merge(
                con,
                job=str(job.pk),
                key_id=ingest.key_id(key),
                incoming=None if side_only else "incoming",
                side=sorted({*side_files, *side_deleted}),
                progress=progress.partitions,
                deleted=deleted_table,
                side_deleted=side_deleted,
                # An incremental export's slots are changes to the snapshot before it.
                carry_slots_to=snapshot if converted.incremental else None,
                slot_feed=converted.feed,
                whole_slots_of=whole_slots_of,
                slots_as_of=cutoff,
            )
        finally:
            con.close()
    return _finish_done(job, outcome, quality)


def _side_files(outputs: dict[str, Path]) -> dict[str, Path]:
    """The side files of an upload (slots, encounters) that hold at least one row."""
    found = {}
    for name in side.TABLES:
        path = outputs.get(name)
        if path is not None and path.exists():
            with path.open("rb") as handle:
                if sum(1 for _ in zip(range(2), handle, strict=False)) > 1:
                    found[name] = path
    return found


def _side_warnings(side_files: dict[str, Path], tz: str) -> list[str]:
    """Slots or encounters the supply and HEDIS-like measures cannot use, as warnings.

    The FHIR reader has already refused what would make the appointments wrong (unmapped
    statuses, classes); what is left (say an Encounter with no period) only leaves a row out
    of those measures, so it is said, not fatal."""
    out = []
    for name, path in side_files.items():
        found = side.problems(name, path, timezone=tz)
        if found:
            reasons = sorted({f"{column}: {reason}" for _, column, _, reason in found})
            measures = "supply" if name == "slots" else "HEDIS-like"
            out.append(
                f"{len(found)} {name} row(s) not used for the {measures} measures "
                f"({'; '.join(reasons[:5])})"
            )
    return out


def _add_side_errors(loaded: extract.LoadResult, side_files: dict[str, Path], tz: str) -> None:
    for name, path in side_files.items():
        found = side.problems(name, path, timezone=tz)
        side.add_problems(loaded, found, keep=MAX_REPORT_ERRORS - len(loaded.errors))


def _side_only_quality(loaded: extract.LoadResult) -> dict[str, Any]:
    return {"timezone": loaded.timezone, "warnings": list(loaded.header.warnings)}


def _finish(job: ImportJob, changes: dict[str, Any], audit: dict[str, Any]) -> ImportJob:
    """Record the end once (a concurrent second run finds the job finished), then delete the
    upload."""
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk).exclude(state__in=ImportJob.FINISHED)
        if updated.update(finished_at=timezone.now(), phase="", **changes):
            audit_record(
                action=AuditEvent.Action.UPDATE,
                obj=job,
                clinic_id=job.clinic_id,
                changes=audit,
            )
    job.refresh_from_db()
    _discard_upload(job)
    return job


def _slot_merge_warnings(slots: Counts) -> list[str]:
    """What the merge found about an export's slots that the steward should know."""
    out = []
    if slots.without_snapshot:
        out.append(
            f"{slots.without_snapshot} slot(s) of this incremental export were not stored: the "
            "store holds no snapshot of its feed to apply them to, and on their own they would "
            "say the rest of the schedule had gone. Import a full export of the feed first; "
            "later incremental exports then build on it."
        )
    if slots.later_snapshot:
        out.append(
            f"The store already holds a later snapshot of this export's feed "
            f"({slots.later_snapshot}). If an incremental export made that snapshot, it was "
            "completed without this export's changes and stays so: import a feed's exports in "
            "the order they were made, or import a full export of the feed to start again "
            "from its day."
        )
    return out


def _finish_done(job: ImportJob, outcome: MergeOutcome, quality: dict[str, Any]) -> ImportJob:
    """Record the merged job: its counts, and ``quality`` with what the merge found (also when
    a run resumed after a crash finds the merge already done: the store's manifest keeps it)."""
    counts = outcome.counts
    quality = dict(quality)
    if outcome.side:
        quality["side"] = {n: c.as_dict() for n, c in outcome.side.items()}
    if warnings := _slot_merge_warnings(outcome.side.get("slots", Counts())):
        quality["warnings"] = [*quality.get("warnings", []), *warnings]
    return _finish(
        job,
        {
            "state": State.DONE,
            "rows": counts.rows,
            "inserted": counts.inserted,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "older": counts.older,
            "deleted": counts.deleted,
            "rejected": 0,
            "generation": outcome.generation,
            "quality": quality,
            "last_error": "",
        },
        {"state": State.DONE, **counts.as_dict(), "generation": outcome.generation},
    )


def _finish_invalid(job: ImportJob, loaded: extract.LoadResult) -> ImportJob:
    # Only the CSV and workbook layouts have a header line whose values are column names.
    has_header = job.kind in (ImportJob.Kind.CSV, ImportJob.Kind.XLSX)
    errors = ingest.masked_errors(loaded.errors, loaded.header, has_header=has_header)
    name = _write_report(job, errors)
    quality = {
        "problems": ingest.problem_summary(loaded),
        "warnings": list(loaded.header.warnings),
        "timezone": loaded.timezone,
    }
    return _finish(
        job,
        {
            "state": State.INVALID,
            "rows": loaded.rows + loaded.unread_rows,  # the file's rows, read or not
            "rejected": loaded.error_count,
            "error_report": name,
            "error_report_lines": len(errors),
            "quality": quality,
            "last_error": "",
        },
        {"state": State.INVALID, "problems": loaded.error_count, "report_lines": len(errors)},
    )


def _finish_failed(job: ImportJob, message: str) -> ImportJob:
    # An attempt that failed after the store published the job's rows did merge them.
    with contextlib.suppress(Exception):
        done = store_for(job.region_id).committed(str(job.pk))
        if done is not None:
            job.refresh_from_db(fields=["quality"])
            return _finish_done(job, done, job.quality)
    return _finish(
        job,
        {"state": State.FAILED, "last_error": message[:300]},
        {"state": State.FAILED, "error": message[:300]},
    )


def _write_report(job: ImportJob, errors: list[extract.ExtractError]) -> str:
    return save_error_report(_report_name(job.pk), errors)


def _discard_upload(job: ImportJob) -> None:
    """Delete the uploaded file; keep only its sha256 (and the error report)."""
    if not job.upload:
        return
    private_storage().delete(job.upload)
    ImportJob.objects.filter(pk=job.pk).update(upload="")
    job.upload = ""


# -- the error report ----------------------------------------------------------------------


def error_report_open(*, actor: Any, job: ImportJob) -> IO[bytes]:
    """The stored error report, opened for download; a sensitive read, audited."""
    if not job.error_report:
        raise FileNotFoundError(job.pk)
    handle = private_storage().open(job.error_report, "rb")
    audit_record(
        action=AuditEvent.Action.EXPORT,
        actor=actor,
        obj=job,
        clinic_id=job.clinic_id,
        changes={"export": "errors.csv", "lines": job.error_report_lines},
    )
    return handle


def import_viewed(*, actor: Any, job: ImportJob | None = None) -> None:
    """Audit a look at the import pages (the list, or one job)."""
    audit_record(
        action=AuditEvent.Action.VIEW,
        actor=actor,
        obj=job,
        object_type="" if job is not None else "access.imports",
        clinic_id=job.clinic_id if job is not None else None,
    )


# -- error reports of weekly counts uploads --------------------------------------------------


def save_error_report(name: str, errors: Sequence[extract.ExtractError]) -> str:
    """Write an error report (line, column, value, reason) to the private storage as ``name``.

    The cells go through ``extract.iter_errors_csv``, as the imports' reports do, so a value
    a spreadsheet would run as a formula is neutralised. Returns the stored name.
    """
    storage = private_storage()
    if storage.exists(name):  # from an attempt that died after writing it
        storage.delete(name)
    with tempfile.TemporaryFile(mode="w+b") as raw:
        with open(raw.fileno(), "w", encoding="utf-8", newline="", closefd=False) as text:
            csv.writer(text).writerows(extract.iter_errors_csv(errors))
        raw.seek(0)
        return storage.save(name, File(raw, name="errors.csv"))


def counts_report_open(*, actor: Any, run: AggregateRun) -> IO[bytes]:
    """A counts upload's stored error report, opened for download; audited like an import's."""
    if not run.error_report:
        raise FileNotFoundError(run.pk)
    handle = private_storage().open(run.error_report, "rb")
    audit_record(
        action=AuditEvent.Action.EXPORT,
        actor=actor,
        obj=run,
        changes={"export": "errors.csv", "lines": run.error_report_lines},
    )
    return handle
