"""The store of de-identified appointment rows: Parquet partitions in generations. No Django.

Layout under a store root (one root per region)::

    CURRENT                      -> "gen-00000042": the published generation (the commit point)
    gen-00000042/MANIFEST.json   generation, parent, key fingerprint, partitions, committed jobs
    gen-00000042/year=2025/month=1/c_oak.parquet   one partition per clinic code and month
    .staging/<job>/              a generation being written (never read)
    .lock                        flock: one merge at a time per store

A merge writes only the partitions it changes into a staging directory (each file written to
a temporary name, fsynced and renamed), hard-links the unchanged partitions from the current
generation (partition files are never modified once published), writes the manifest, renames
the staging directory to the next generation and then replaces ``CURRENT`` atomically. Until
that last rename the published data is untouched; after it the whole merge is visible at once,
so a reader never sees half a merge and a killed worker never leaves half a partition.

Recovery is by the manifest: it lists every job whose rows it holds (``committed``, carried
forward by each later generation). A job run again whose id is in the current manifest is
finished with the counts recorded there (resume); otherwise its leftover staging is removed
and the merge starts over (roll back), so each job is merged exactly once.

"Latest state wins": the canonical extract has no per-row "updated at" column
(access-and-parity.md section 6.1), so the state an extract gives is dated by the extract's
data cut-off (``state_as_of``: a Bulk Data export's transactionTime, or the time a data
steward says an extract was taken), kept with each stored row. An incoming row replaces the
stored row with the same ``appointment_id`` unless both are dated and the stored one is
later: then the stored state is newer and stays (a different state is counted ``older``).
Undated rows fall back to merge order (the extract merged last wins). A row whose content did
not change is counted ``unchanged`` and its partition is not rewritten, unless the same state
now comes with a later date (``refreshed``, counted unchanged: rewritten so the date moves
on). Importing the same file again changes nothing, not even a file.

Partitions are laid out as ``year=Y/month=M/<clinic>.parquet`` so that
``extract.parquet_view(con, generation_dir)`` reads a generation directly; files hold no
year/month columns (they come from the directory names).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import duckdb

from ._db import in_list, parquet_columns, quote, scalar
from .extract import PARTITION_DAY, STORED_COLUMNS
from .side import (
    ADDED_COLUMNS,
    PROVENANCE_COLUMNS,
    SIDE_DIR,
    STATE_AS_OF,
    TABLES,
    Carried,
    SideTable,
    carry_slots_forward,
    keep_export_snapshots,
    later_export_snapshot,
    slot_key_suffix_sql,
    withdraw_slots_not_given,
)

FORMAT = 1
CURRENT = "CURRENT"
MANIFEST = "MANIFEST.json"
STAGING = ".staging"
LOCK = ".lock"
_GEN = re.compile(r"^gen-(\d{8})$")

# Stored columns, in file order (what ``ingest.stage_incoming`` produces besides ``part``):
# the keyed patient hash, the extract's kept columns, the age band, then the data cut-off
# of the extract the row's state came from (UTC; NULL when not known).
FILE_COLUMNS = ("patient_key", *STORED_COLUMNS, "age_band", STATE_AS_OF)
DATA_COLUMNS = FILE_COLUMNS[:-1]  # what "the same state" compares

# "Latest state wins" by the extract's data cut-off, for appointment rows and dated side
# tables alike: incoming ``i`` against stored ``o`` of the same key, or a deletion ``d``. An
# undated state (NULL) neither keeps another out nor is kept out: import order decides.
SAME_STATE = (
    f"CASE WHEN i.{STATE_AS_OF} IS NULL OR i.{STATE_AS_OF} <= o.{STATE_AS_OF} THEN 'unchanged' "
    "ELSE 'refreshed' END"  # the same state with a later date: rewritten, nothing changed
)
OLDER_STATE = f"i.{STATE_AS_OF} < o.{STATE_AS_OF}"
DELETION = f"CASE WHEN d.{STATE_AS_OF} < o.{STATE_AS_OF} THEN 'older' ELSE 'deleted' END"

# SQL for the partition (relative file path) of a row of the incoming table. Clinic codes are
# lower-cased (case-insensitive file systems) and hashed when not a plain token, so no code can
# name a path outside the store.
PARTITION_SQL = (
    f"'year=' || year({PARTITION_DAY}) || '/month=' || month({PARTITION_DAY}) || '/' || "
    "CASE WHEN regexp_full_match(clinic_id, '[A-Za-z0-9_-]{1,64}') "
    "THEN 'c_' || lower(clinic_id) ELSE 'h_' || left(sha256(clinic_id), 24) END || '.parquet'"
)


class StoreError(RuntimeError):
    """The store cannot take this merge (for example: another pseudonymisation key)."""


def _checkpoint(name: str) -> None:
    """A named point of the merge; tests replace it to simulate a crash there."""


@dataclass
class Counts:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # not applied: the stored state is from a later cut-off
    deleted: int = 0  # stored rows removed: a Bulk Data export lists them as deleted
    carried: int = 0  # slots an incremental export's snapshot took from the one before
    carried_from: str = ""  # the stored snapshot day they came from
    # Slots of an incremental export with no stored snapshot of its feed to complete: not
    # stored, as on their own they would say the rest of the schedule had gone.
    without_snapshot: int = 0
    # The day of a later export snapshot of the same feed, stored before this export came.
    later_snapshot: str = ""

    def as_dict(self) -> dict[str, int | str]:
        counts: dict[str, int | str] = {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "older": self.older,
            "deleted": self.deleted,
        }
        if self.carried:  # slots only
            counts |= {"carried": self.carried, "carried_from": self.carried_from}
        if self.without_snapshot:
            counts["without_snapshot"] = self.without_snapshot
        if self.later_snapshot:
            counts["later_snapshot"] = self.later_snapshot
        return counts


@dataclass
class Generation:
    number: int
    path: Path
    manifest: dict[str, Any]

    @property
    def partitions(self) -> dict[str, int]:
        """Relative partition path -> rows."""
        return dict(self.manifest.get("partitions", {}))

    @property
    def committed(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest.get("committed", {}))

    @property
    def side(self) -> dict[str, int]:
        """Side table name -> rows (``side.TABLES``)."""
        return dict(self.manifest.get("side", {}))

    def side_path(self, name: str) -> Path | None:
        return self.path / TABLES[name].relative_path if name in self.side else None

    @property
    def rows(self) -> int:
        return sum(self.partitions.values())


@dataclass
class MergeOutcome:
    counts: Counts
    generation: int | None  # the generation holding the job's rows (None: empty store)
    already_committed: bool = False  # finished from the manifest: an earlier run merged it
    partitions_written: int = 0
    partitions: list[str] = field(default_factory=list)
    side: dict[str, Counts] = field(default_factory=dict)  # slots / encounters, when given


# -- small durable file operations ---------------------------------------------------------


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


# -- the store -----------------------------------------------------------------------------


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # Reading --------------------------------------------------------------------------

    def current(self) -> Generation | None:
        """The published generation, or None for an empty store."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        match = _GEN.match(name)
        if match is None:
            raise StoreError(f"{self.root / CURRENT} names no generation: {name!r}")
        path = self.root / name
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        return Generation(int(match.group(1)), path, manifest)

    def files(self, generation: Generation | None = None) -> list[Path]:
        gen = generation or self.current()
        if gen is None:
            return []
        return [gen.path / part for part in sorted(gen.partitions)]

    def committed(self, job: str) -> MergeOutcome | None:
        """How ``job`` was merged, if the published generation holds it."""
        gen = self.current()
        if gen is None or job not in gen.committed:
            return None
        recorded = gen.committed[job]
        counts = _counts(recorded)
        side = {name: _counts(c) for name, c in recorded.get("side", {}).items()}
        return MergeOutcome(counts, int(recorded.get("generation", gen.number)), True, side=side)

    # Locking and clean-up -------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One merge at a time (across processes on this host)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK).open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _collect_garbage(self, keep: set[str]) -> None:
        """Under the lock: drop staging left by dead runs and generations older than the
        previous one (kept for readers that opened it just before the swap)."""
        shutil.rmtree(self.root / STAGING, ignore_errors=True)
        for child in self.root.iterdir():
            if _GEN.match(child.name) and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

    # Merging --------------------------------------------------------------------------

    def merge(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        job: str,
        key_id: str,
        incoming: str | None = "incoming",
        side: Sequence[str] = (),
        progress: Callable[[int, int], None] | None = None,
        deleted: str | None = None,
        side_deleted: Sequence[str] = (),
        carry_slots_to: dt.date | None = None,
        slot_feed: str = "",
        whole_slots_of: dt.date | None = None,
        slots_as_of: dt.datetime | None = None,
    ) -> MergeOutcome:
        """Merge the table ``incoming`` (``FILE_COLUMNS`` plus ``part``; None: no appointment
        rows) and the side tables named in ``side`` (``side.TABLES``) into the store.
        ``deleted``: a table (appointment_id, state_as_of) of appointments to remove, as a
        Bulk Data export lists them; a stored state dated after the deletion stays.
        ``side_deleted``: the tables of ``side`` whose ``deleted`` table lists rows to remove.
        ``carry_slots_to``: the snapshot day of an incremental export's slots, which the
        stored snapshot of its feed ``slot_feed`` before it completes
        (``side.carry_slots_forward``). ``whole_slots_of``: the snapshot day of a full
        export's slots, the whole of its feed's that day (``side.withdraw_slots_not_given``).
        ``slots_as_of``: the export's data cut-off, which dates the slots carried or withdrawn.

        Safe to call again for the same ``job`` after a crash at any point.
        """
        with self.locked():
            done = self.committed(job)
            if done is not None:
                return done
            cur = self.current()
            if cur is not None:
                stored_key = cur.manifest.get("key_id")
                if stored_key and stored_key != key_id:
                    raise StoreError(
                        "the pseudonymisation key differs from the one the stored rows were "
                        "made with: patients would no longer match across imports"
                    )
            keep = {cur.path.name} if cur is not None else set()
            if cur is not None and cur.manifest.get("parent") is not None:
                keep.add(_gen_name(int(cur.manifest["parent"])))
            self._collect_garbage(keep)
            counts, affected = self._diff(con, cur, incoming, deleted)
            carried, unanchored, later = Carried(), 0, ""
            if "slots" in side and cur is not None:
                keep_export_snapshots(con, cur.side_path("slots"))
                if (export_day := carry_slots_to or whole_slots_of) is not None:
                    later = later_export_snapshot(
                        con, cur.side_path("slots"), export_day, slot_feed
                    )
                if whole_slots_of is not None and withdraw_slots_not_given(
                    con, cur.side_path("slots"), whole_slots_of, slot_feed, slots_as_of
                ):
                    side_deleted = sorted({*side_deleted, "slots"})
            if carry_slots_to is not None and "slots" in side:
                # Under the lock: the snapshot carried is the one the merge compares against.
                stored_slots = cur.side_path("slots") if cur is not None else None
                carried = carry_slots_forward(con, stored_slots, carry_slots_to,
                                              deleting="slots" in side_deleted,
                                              feed=slot_feed, state_as_of=slots_as_of)  # fmt: skip
                if not carried.snapshot:  # changes to a schedule the store has never seen
                    incoming_slots = TABLES["slots"].incoming
                    unanchored = int(scalar(con, f"SELECT count(*) FROM {incoming_slots}"))  # noqa: S608 - table name from code
                    con.execute(f"DELETE FROM {incoming_slots}")  # noqa: S608 - table name from code
            side_diffs = {
                name: self._side_diff(con, cur, TABLES[name], name in side_deleted) for name in side
            }
            side_counts = {name: counts for name, (counts, _) in side_diffs.items()}
            if carried.slots:  # the rows the export gave are the file's; the others carried
                side_counts["slots"].rows -= carried.slots
                side_counts["slots"].carried = carried.slots
                side_counts["slots"].carried_from = carried.snapshot
            if unanchored:
                side_counts["slots"].rows = side_counts["slots"].without_snapshot = unanchored
            if later:
                side_counts["slots"].later_snapshot = later
            side_changed = [name for name, (_, changed) in side_diffs.items() if changed]
            if not affected and not side_changed:
                return MergeOutcome(counts, cur.number if cur else None, side=side_counts)
            outcome = self._write_generation(con, cur, job, key_id, counts, affected, incoming,
                                             progress, side_counts, side_changed)  # fmt: skip
            new = {_gen_name(outcome.generation or 0)}
            self._collect_garbage(new | ({cur.path.name} if cur is not None else set()))
            return outcome

    def _side_diff(
        self,
        con: duckdb.DuckDBPyConnection,
        cur: Generation | None,
        table: SideTable,
        deleting: bool,
    ) -> tuple[Counts, bool]:
        """Incoming side rows (and, with ``deleting``, the staged deletions) against the
        stored ones, by key, as the table ``side_diff_<name>`` (key, change). A dated table
        keeps the state of the latest cut-off, as appointment rows do (``_diff``); the others
        take the latest import. Returns the counts and whether the stored table changes."""
        rows = int(scalar(con, f"SELECT count(*) FROM {table.incoming}"))  # noqa: S608 - table name from code
        diff = f"side_diff_{table.name}"
        path = cur.side_path(table.name) if cur is not None else None
        if path is None:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {diff} AS SELECT {table.key} AS key, "  # noqa: S608 - SQL from schema constants
                f"'inserted' AS change FROM {table.incoming}"
            )
        else:
            stored = (
                f"SELECT {_select_columns(con, path, table.stored_columns)} "  # noqa: S608 - path quoted
                f"FROM read_parquet({quote(str(path))})"
            )
            same = _same_sql(table, ())
            when_same, other_cases = "'unchanged'", ""
            if table.dated:
                when_same, other_cases = SAME_STATE, f"WHEN {OLDER_STATE} THEN 'older'"
            if provenance := [c for c in PROVENANCE_COLUMNS if c in table.columns]:
                # Only where the row came from differs: rewritten, counted unchanged.
                other_cases += f" WHEN {_same_sql(table, provenance)} THEN 'refreshed'"
            con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE {diff} AS
                SELECT i.{table.key} AS key,
                       CASE WHEN o.{table.key} IS NULL THEN 'inserted'
                            WHEN {same} THEN {when_same} {other_cases} ELSE 'updated' END AS change
                FROM {table.incoming} i LEFT JOIN ({stored}) o ON i.{table.key} = o.{table.key}
                """  # noqa: S608 - SQL from schema constants; the path is quoted
            )
            if "feed" in table.columns:
                _adopt_rows_of_no_feed(con, stored, table, diff)
            if deleting:
                # As for appointments: a state dated after the deletion stays, and a row the
                # same upload gives keeps the state it gives.
                gone = DELETION if table.dated else "'deleted'"
                con.execute(
                    f"INSERT INTO {diff} SELECT o.{table.key}, {gone} FROM ({stored}) o "  # noqa: S608 - SQL from schema constants; the path is quoted
                    f"JOIN {table.deleted} d ON o.{table.key} = d.{table.key} WHERE o.{table.key} "
                    f"NOT IN (SELECT {table.key} FROM {table.incoming})"
                )
        found = dict(con.execute(f"SELECT change, count(*) FROM {diff} GROUP BY 1").fetchall())  # noqa: S608 - table name from code
        changed = any(found.get(c) for c in ("inserted", "updated", "refreshed", *LEAVING))
        return _diff_counts(rows, found), changed

    def _diff(
        self,
        con: duckdb.DuckDBPyConnection,
        cur: Generation | None,
        incoming: str | None,
        deleted: str | None = None,
    ) -> tuple[Counts, list[str]]:
        """Classify incoming rows (and deletions) against the store (table ``store_diff``);
        the partitions to rewrite: where incoming rows go, and where rows they replace or
        that are deleted come from."""
        files = self.files(cur)
        stored = ""
        if cur is not None and files:
            prefix = len(str(cur.path)) + 2  # 1-based substr after "<gen>/"
            # Files written before rows were dated lack the column: union_by_name reads
            # it as NULL (undated) there, and when no file has it, it is added as NULL.
            paths = [str(f) for f in files]
            undated = (
                ""
                if STATE_AS_OF in parquet_columns(con, paths)
                else f", NULL::TIMESTAMP AS {STATE_AS_OF}"
            )
            stored = (
                f"SELECT *{undated}, substr(filename, {prefix}) AS old_part FROM read_parquet("  # noqa: S608 - SQL from schema constants; paths are bound
                "$files, filename = true, hive_partitioning = false, union_by_name = true)"
            )
        rows = 0 if incoming is None else int(scalar(con, f"SELECT count(*) FROM {incoming}"))  # noqa: S608 - table name from code
        if incoming is None:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE store_diff (appointment_id VARCHAR, part VARCHAR, "
                "old_part VARCHAR, change VARCHAR)"
            )
        elif not stored:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE store_diff AS SELECT appointment_id, part, "  # noqa: S608 - table name from code
                f"NULL::VARCHAR AS old_part, 'inserted' AS change FROM {incoming}"
            )
        else:
            same = " AND ".join(f"i.{c} IS NOT DISTINCT FROM o.{c}" for c in DATA_COLUMNS)
            con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE store_diff AS
                SELECT i.appointment_id, i.part, o.old_part,
                       CASE WHEN o.appointment_id IS NULL THEN 'inserted'
                            WHEN i.part = o.old_part AND {same} THEN {SAME_STATE}
                            WHEN {OLDER_STATE} THEN 'older'
                            ELSE 'updated' END AS change
                FROM {incoming} i
                LEFT JOIN ({stored}) o ON i.appointment_id = o.appointment_id
                """,  # noqa: S608 - SQL from schema constants; paths are bound
                {"files": paths},
            )
        if deleted is not None and stored:
            # A deletion removes the stored row unless the stored state is dated after it; an
            # appointment the same upload also gives a state for keeps that state.
            kept_by_incoming = (
                f"AND o.appointment_id NOT IN (SELECT appointment_id FROM {incoming})"  # noqa: S608 - table name from code
                if incoming is not None
                else ""
            )
            con.execute(
                f"""
                INSERT INTO store_diff
                SELECT o.appointment_id, NULL, o.old_part, {DELETION}
                FROM ({stored}) o JOIN {deleted} d ON o.appointment_id = d.appointment_id
                WHERE true {kept_by_incoming}
                """,  # noqa: S608 - SQL from schema constants; paths are bound
                {"files": paths},
            )
        found = dict(con.execute("SELECT change, count(*) FROM store_diff GROUP BY 1").fetchall())
        counts = _diff_counts(rows, found)
        affected = [
            r[0]
            for r in con.execute(
                "SELECT part FROM store_diff WHERE change IN ('inserted', 'updated', 'refreshed') "
                "UNION SELECT old_part FROM store_diff WHERE change IN ('updated', 'deleted') "
                "AND old_part IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
        return counts, affected

    def _write_generation(
        self,
        con: duckdb.DuckDBPyConnection,
        cur: Generation | None,
        job: str,
        key_id: str,
        counts: Counts,
        affected: list[str],
        incoming: str | None,
        progress: Callable[[int, int], None] | None,
        side_counts: dict[str, Counts],
        side_changed: list[str],
    ) -> MergeOutcome:
        number = (cur.number + 1) if cur is not None else 1
        staging = self.root / STAGING / job
        staging.mkdir(parents=True)
        partitions = dict(cur.partitions) if cur is not None else {}
        cols = ", ".join(FILE_COLUMNS)
        # The stored rows each partition loses, in partition order: each partition's lookup
        # then reads only its own row groups.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE store_replaced AS SELECT old_part, appointment_id "
            "FROM store_diff WHERE change IN ('updated', 'refreshed', 'deleted') "
            "ORDER BY old_part"
        )
        # A stored row that stays (older incoming state, or the same state undated or equally
        # dated) is kept as stored, with its date; its incoming copy is not written. No
        # filter when every row is new or changed (a first import).
        kept_as_stored = int(
            scalar(con, "SELECT count(*) FROM store_diff WHERE change IN ('older', 'unchanged')")
        )
        skip_kept = (
            " AND appointment_id NOT IN (SELECT appointment_id FROM store_diff "
            "WHERE change IN ('older', 'unchanged'))"
            if kept_as_stored
            else ""
        )
        # Sorted files: the same rows always give the same partition contents.
        con.execute("SET preserve_insertion_order = true")
        dirs: set[Path] = {staging}
        for done, part in enumerate(affected, start=1):
            target = staging / part
            target.parent.mkdir(parents=True, exist_ok=True)
            dirs.add(target.parent)
            tmp = target.with_name(f".{target.name}.tmp")
            sources = []  # the partition's rows that stay, then the incoming ones
            if cur is not None and part in cur.partitions:
                stored = cur.path / part
                sources.append(
                    f"SELECT {_select_columns(con, stored)} FROM read_parquet("  # noqa: S608 - path quoted
                    f"{quote(str(stored))}, hive_partitioning = false) WHERE appointment_id "
                    "NOT IN (SELECT appointment_id FROM store_replaced WHERE old_part = "
                    f"{quote(part)})"
                )
            if incoming is not None:  # None: an upload of deletions (and side files) only
                sources.append(
                    f"SELECT {cols} FROM {incoming} WHERE part = {quote(part)}{skip_kept}"  # noqa: S608 - SQL from schema constants; values quoted
                )
            written = con.execute(
                f"COPY ({' UNION ALL '.join(sources)} ORDER BY appointment_id) "
                f"TO {quote(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
            ).fetchall()
            n = int(written[0][0]) if written else 0
            if n:
                fsync_file(tmp)
                os.replace(tmp, target)
                partitions[part] = n
            else:  # every row moved out of this partition
                tmp.unlink(missing_ok=True)
                partitions.pop(part, None)
            if progress is not None:
                progress(done, len(affected))
        side_rows = dict(cur.side) if cur is not None else {}
        for name in side_changed:
            side_rows[name] = self._write_side(con, cur, staging, TABLES[name])
            dirs.add(staging / SIDE_DIR)
        con.execute("SET preserve_insertion_order = false")
        if cur is not None:
            for name in sorted(set(cur.side) - set(side_changed)):
                target = staging / TABLES[name].relative_path
                target.parent.mkdir(parents=True, exist_ok=True)
                dirs.add(target.parent)
                _link(cur.path / TABLES[name].relative_path, target)
            for part in sorted(set(cur.partitions) - set(affected)):
                target = staging / part
                target.parent.mkdir(parents=True, exist_ok=True)
                dirs.add(target.parent)
                _link(cur.path / part, target)
        committed = dict(cur.committed) if cur is not None else {}
        committed[job] = {**counts.as_dict(), "generation": number}
        if side_counts:
            committed[job]["side"] = {n: c.as_dict() for n, c in side_counts.items()}
        manifest = {
            "format": FORMAT,
            "generation": number,
            "parent": cur.number if cur is not None else None,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "job": job,
            "key_id": key_id,
            "columns": list(FILE_COLUMNS),
            "partitions": dict(sorted(partitions.items())),
            "side": dict(sorted(side_rows.items())),
            "committed": committed,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        fsync_file(staging / MANIFEST)
        # Directories deepest first, so each entry is durable before its parent's.
        for path in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
            fsync_dir(path)
        _checkpoint("staged")
        published = self.root / _gen_name(number)
        if published.exists():  # left by a run that died between the two renames below
            shutil.rmtree(published)
        os.rename(staging, published)
        fsync_dir(self.root)
        write_atomic(self.root / CURRENT, (_gen_name(number) + "\n").encode())
        _checkpoint("published")
        return MergeOutcome(
            counts,
            number,
            partitions_written=len(affected),
            partitions=sorted(partitions),
            side=side_counts,
        )

    def _write_side(
        self,
        con: duckdb.DuckDBPyConnection,
        cur: Generation | None,
        staging: Path,
        table: SideTable,
    ) -> int:
        """The side table as ``_side_diff`` decided: stored rows replaced or deleted leave,
        incoming rows not applied (older or unchanged) are not written."""
        target = staging / table.relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        cols = ", ".join(f'"{c}"' for c in table.stored_columns)
        diff = f"side_diff_{table.name}"
        path = cur.side_path(table.name) if cur is not None else None
        kept = ""
        if path is not None:
            kept = (
                f"SELECT {_select_columns(con, path, table.stored_columns)} "  # noqa: S608 - path quoted
                f"FROM read_parquet({quote(str(path))}) WHERE {table.key} NOT IN (SELECT key "
                f"FROM {diff} WHERE change IN {in_list(('updated', 'refreshed', *LEAVING))}) "
                "UNION ALL "
            )
        written = con.execute(
            f"COPY ({kept}SELECT {cols} FROM {table.incoming} WHERE {table.key} NOT IN "  # noqa: S608 - SQL from schema constants
            f"(SELECT key FROM {diff} WHERE change IN ('older', 'unchanged')) "
            f"ORDER BY {table.key}) TO {quote(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
        ).fetchall()
        fsync_file(tmp)
        os.replace(tmp, target)
        return int(written[0][0]) if written else 0


# Side diff classes of stored rows that leave without an incoming row of their key.
LEAVING = ("deleted", "replaced")


def _adopt_rows_of_no_feed(
    con: duckdb.DuckDBPyConnection, stored: str, table: SideTable, diff: str
) -> None:
    """Slots stored before feeds were kept have keys without a feed's suffix
    (``side.slot_key_suffix``). The same slot (day and identity) given again by its feed
    replaces such a row instead of standing beside it: counted unchanged when only the key
    and feed differ, else changed; the old key leaves ('replaced'). (A slot of no feed stored
    since carries a mark, ``from_export``, and is another system's: it stays.)"""
    same = _same_sql(table, (table.key, "feed", *PROVENANCE_COLUMNS))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE side_twins AS
        SELECT i.{table.key} AS key, o.{table.key} AS old_key, {same} AS same
        FROM {table.incoming} i JOIN ({stored}) o
          ON o.feed = '' AND o.from_export = '' AND i.feed <> ''
         AND i.{table.key} = o.{table.key} || {slot_key_suffix_sql("i.feed")}
        WHERE i.{table.key} IN (SELECT key FROM {diff} WHERE change = 'inserted')
        """  # noqa: S608 - SQL from schema constants; the path is quoted
    )
    con.execute(
        f"UPDATE {diff} SET change = CASE WHEN t.same THEN 'refreshed' ELSE 'updated' END "  # noqa: S608 - table names from code
        f"FROM side_twins t WHERE {diff}.key = t.key"
    )
    con.execute(f"INSERT INTO {diff} SELECT old_key, 'replaced' FROM side_twins")  # noqa: S608 - table name from code
    con.execute("DROP TABLE side_twins")


def _same_sql(table: SideTable, ignoring: Sequence[str]) -> str:
    """Whether the incoming row ``i`` and the stored row ``o`` hold the same data, but for
    the columns ``ignoring``."""
    return " AND ".join(
        f'i."{c}" IS NOT DISTINCT FROM o."{c}"' for c in table.columns if c not in ignoring
    )


def _select_columns(
    con: duckdb.DuckDBPyConnection, path: Path, columns: Sequence[str] = FILE_COLUMNS
) -> str:
    """The select list of ``columns`` for a stored file; one written before a column was
    added gives its default: NULL for ``state_as_of`` (undated), ``side.ADDED_COLUMNS``."""
    present = parquet_columns(con, [str(path)])
    missing = {STATE_AS_OF: "NULL::TIMESTAMP", **ADDED_COLUMNS}
    return ", ".join(f'"{c}"' if c in present else f'{missing[c]} AS "{c}"' for c in columns)


def _link(source: Path, target: Path) -> None:
    """Carry an unchanged file into the next generation (files are never modified)."""
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _diff_counts(rows: int, found: dict[str, int]) -> Counts:
    """Counts of a diff's classes; a refreshed row (the same state, dated later) is
    rewritten but counted unchanged."""
    return Counts(
        rows=rows,
        inserted=int(found.get("inserted", 0)),
        updated=int(found.get("updated", 0)),
        unchanged=int(found.get("unchanged", 0)) + int(found.get("refreshed", 0)),
        older=int(found.get("older", 0)),
        deleted=int(found.get("deleted", 0)),
    )


def _counts(recorded: dict[str, Any]) -> Counts:
    counts = Counts()
    for f in fields(Counts):
        kind = str if isinstance(f.default, str) else int  # a day, or a number
        setattr(counts, f.name, kind(recorded.get(f.name, f.default)))
    return counts


def _gen_name(number: int) -> str:
    return f"gen-{number:08d}"
