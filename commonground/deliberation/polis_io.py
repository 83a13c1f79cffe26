"""Readers and writers for Pol.is export files (spec section 13.3). Pure: no Django.

* ``participants-votes.csv``: ``participant,[xid],group-id,n-comments,n-votes,n-agree,
  n-disagree,`` then one column per statement id with 1 / -1 / 0 / empty (agree = +1).
  Read with a vectorised fast path (numbers only, no quoting in the vote cells) and the
  ``csv`` module as the fallback for anything unusual.
* ``comments.csv``: moderation (``moderated`` -1 = rejected), ``is-meta`` (newer exports) and
  ``group-informed-consensus`` (newer exports).
* ``votes.csv``: the raw vote log, with revotes; not sorted by time.

The writers produce ``participants-votes.csv``, ``comments.csv`` (newer layout) and
``summary.csv`` rows, for exporting a conversation of the app.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .opinion.matrix import Vote, VoteMatrix

_KNOWN_META_COLUMNS = (
    "participant",
    "xid",
    "group-id",
    "n-comments",
    "n-votes",
    "n-agree",
    "n-disagree",
)


def _statement_id(text: str) -> Hashable:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else text


@dataclass(frozen=True, eq=False)
class ParticipantsVotes:
    """The parsed file, every row and statement column as in the file (file order)."""

    participants: tuple[str, ...]
    statements: tuple[Hashable, ...]
    values: npt.NDArray[np.int8]
    voted: npt.NDArray[np.bool_]
    group_ids: tuple[str | None, ...]  # exported group-id, None = not clustered

    def vote_matrix(self) -> VoteMatrix:
        """Rows in file order; columns sorted by id; rows and columns without votes dropped."""
        return VoteMatrix.from_dense(self.participants, self.statements, self.values, self.voted)


def _decode(data: bytes) -> bytes:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def _parse_cells_fast(rests: list[bytes], m: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Vectorised parse of rows of exactly ``m`` cells in {"", "1", "0", "-1"}; None if the
    input is anything else (then the csv module reads the file)."""
    n = len(rests)
    if n == 0:
        return np.zeros((0, m), dtype=np.int8), np.zeros((0, m), dtype=bool)
    buf = np.frombuffer(b"\n" + b"\n".join(rests) + b"\n", dtype=np.uint8)
    # Only "," (44), "-" (45), "0" (48), "1" (49) and newlines (10).
    if not (((buf - np.uint8(44)) <= 1) | ((buf - np.uint8(48)) <= 1) | (buf == 10)).all():
        return None
    is_sep = buf <= 44
    is_sep[0] = False  # the leading newline only gives the first cell a left neighbour
    ends = np.flatnonzero(is_sep)  # the separator after each cell
    if len(ends) != n * m or np.count_nonzero(buf == 10) != n + 1:
        return None
    if not (buf[ends[m - 1 :: m]] == 10).all():  # each row ends after exactly m cells
        return None
    length = np.empty_like(ends)
    length[0] = ends[0] - 1
    length[1:] = np.diff(ends) - 1
    last = buf[ends - 1]
    one = length == 1
    two = length == 2
    agree = one & (last == 49)
    pass_ = one & (last == 48)
    twos = np.flatnonzero(two)
    if (length > 2).any() or not (agree | pass_ | two | (length == 0)).all():
        return None
    if not ((last[twos] == 49) & (buf[ends[twos] - 2] == 45)).all():  # "-1"
        return None
    values = (agree.astype(np.int8) - two.astype(np.int8)).reshape(n, m)
    return values, (length > 0).reshape(n, m)


def _parse_cell(text: str) -> tuple[int, bool]:
    text = text.strip()
    if not text:
        return 0, False
    value = float(text)
    if value not in (-1.0, 0.0, 1.0):
        raise ValueError(f"vote cell must be 1, -1, 0 or empty, got {text!r}")
    return int(value), True


def read_participants_votes(path: str | Path) -> ParticipantsVotes:
    return parse_participants_votes(Path(path).read_bytes(), source=str(path))


def parse_participants_votes(
    raw: bytes, *, source: str = "participants-votes.csv"
) -> ParticipantsVotes:
    """``participants-votes.csv`` from its bytes (an upload, a zip member)."""
    path = source
    data = _decode(raw)
    header_end = data.find(b"\n")
    header_line = data if header_end < 0 else data[:header_end]
    header = next(csv.reader([header_line.decode("utf-8")]))
    if not header or header[0].strip() != "participant":
        raise ValueError(f"{path}: not a participants-votes.csv file (first column 'participant')")
    n_meta = 0
    while n_meta < len(header) and header[n_meta].strip() in _KNOWN_META_COLUMNS:
        n_meta += 1
    meta_names = [h.strip() for h in header[:n_meta]]
    statements = tuple(_statement_id(h) for h in header[n_meta:])
    m = len(statements)
    group_col = meta_names.index("group-id") if "group-id" in meta_names else None
    body = b"" if header_end < 0 else data[header_end + 1 :]
    lines = [line for line in body.split(b"\n") if line.strip()]

    parsed: tuple[np.ndarray, np.ndarray] | None = None
    metas: list[list[str]] = []
    if b'"' not in body and m > 0:
        rests: list[bytes] = []
        for line in lines:
            parts = line.split(b",", n_meta)
            if len(parts) != n_meta + 1:
                break
            metas.append([p.decode("utf-8").strip() for p in parts[:n_meta]])
            rests.append(parts[n_meta])
        else:
            parsed = _parse_cells_fast(rests, m)
    if parsed is None:
        metas = []
        rows: list[list[str]] = []
        for row in csv.reader(io.StringIO(body.decode("utf-8"))):
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != n_meta + m:
                raise ValueError(f"{path}: row has {len(row)} cells, expected {n_meta + m}")
            metas.append([cell.strip() for cell in row[:n_meta]])
            rows.append(row[n_meta:])
        values = np.zeros((len(rows), m), dtype=np.int8)
        voted = np.zeros((len(rows), m), dtype=bool)
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                values[i, j], voted[i, j] = _parse_cell(cell)
        parsed = (values, voted)
    participants = tuple(meta[0] for meta in metas)
    groups = tuple((meta[group_col] or None) if group_col is not None else None for meta in metas)
    return ParticipantsVotes(participants, statements, parsed[0], parsed[1], groups)


@dataclass(frozen=True)
class CommentInfo:
    statement: Hashable
    moderated: int  # -1 rejected, 0 unmoderated, 1 accepted
    is_meta: bool
    group_informed_consensus: float | None  # only in newer exports
    body: str = ""
    timestamp_ms: int | None = None
    is_seed: bool = False


@dataclass(frozen=True)
class Comments:
    comments: tuple[CommentInfo, ...]

    @property
    def rejected(self) -> frozenset[Hashable]:
        return frozenset(c.statement for c in self.comments if c.moderated == -1)

    @property
    def meta(self) -> frozenset[Hashable]:
        return frozenset(c.statement for c in self.comments if c.is_meta)


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("true", "t", "1", "yes")


def read_comments(path: str | Path) -> Comments:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return _comments_from(csv.DictReader(fh))


def parse_comments(raw: bytes) -> Comments:
    """``comments.csv`` from its bytes (an upload, a zip member)."""
    return _comments_from(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _comments_from(reader: csv.DictReader[str]) -> Comments:
    if reader.fieldnames is None or "comment-id" not in reader.fieldnames:
        raise ValueError("not a comments.csv file (no 'comment-id' column)")
    out = []
    for row in reader:
        gic = (row.get("group-informed-consensus") or "").strip()
        stamp = (row.get("timestamp") or "").strip()
        out.append(
            CommentInfo(
                statement=_statement_id(row["comment-id"]),
                moderated=int(float(row.get("moderated") or 0)),
                is_meta=_truthy(row.get("is-meta") or ""),
                group_informed_consensus=float(gic) if gic else None,
                body=row.get("comment-body") or "",
                timestamp_ms=int(float(stamp)) if stamp else None,
                is_seed=_truthy(row.get("is-seed") or ""),
            )
        )
    return Comments(tuple(out))


def read_votes_log(path: str | Path) -> list[Vote]:
    """``votes.csv`` as ``(voter, statement, vote)`` triples in chronological order (stable
    for equal timestamps), ready for ``build_vote_matrix`` (latest vote wins)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [
            (int(float(r["timestamp"])), i, r["voter-id"].strip(), r["comment-id"], r["vote"])
            for i, r in enumerate(csv.DictReader(fh))
        ]
    rows.sort(key=lambda r: (r[0], r[1]))
    return [(voter, _statement_id(cid), int(float(v))) for _, _, voter, cid, v in rows]


# --- writers ---------------------------------------------------------------------------------


def _cell(value: int, voted: bool) -> str:
    return str(int(value)) if voted else ""


def format_participants_votes(
    participants: Sequence[Hashable],
    statements: Sequence[Hashable],
    values: npt.ArrayLike,
    voted: npt.ArrayLike,
    *,
    group_ids: Sequence[Hashable | None] | None = None,
    n_comments: Sequence[int] | None = None,
) -> str:
    """``participants-votes.csv`` text: one row per participant (in the order given), one
    column per statement (in the order given), agree = 1, disagree = -1, pass = 0, empty =
    not voted. ``n-votes`` counts passes, as Pol.is does."""
    vals = np.asarray(values, dtype=np.int8)
    mask = np.asarray(voted, dtype=bool)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]
        + [str(s) for s in statements]
    )
    for i, participant in enumerate(participants):
        row_vals, row_mask = vals[i], mask[i]
        group = group_ids[i] if group_ids is not None else None
        writer.writerow(
            [
                str(participant),
                "" if group is None else str(group),
                str(n_comments[i] if n_comments is not None else 0),
                str(int(row_mask.sum())),
                str(int(((row_vals == 1) & row_mask).sum())),
                str(int(((row_vals == -1) & row_mask).sum())),
                *(_cell(v, m) for v, m in zip(row_vals.tolist(), row_mask.tolist(), strict=True)),
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class ExportComment:
    statement: Hashable
    body: str
    moderated: int  # -1 rejected, 0 unmoderated, 1 accepted
    is_meta: bool = False
    is_seed: bool = False
    agrees: int = 0
    disagrees: int = 0
    timestamp_ms: int = 0
    author: str = ""  # left empty by the app: a link from statement to voter row
    group_informed_consensus: float | None = None


def format_comments(comments: Sequence[ExportComment]) -> str:
    """``comments.csv`` text in the newer Pol.is layout (with ``is-meta`` and
    ``group-informed-consensus``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "timestamp",
            "comment-id",
            "author-id",
            "agrees",
            "disagrees",
            "moderated",
            "is-meta",
            "is-seed",
            "group-informed-consensus",
            "comment-body",
        ]
    )
    for c in comments:
        gic = "" if c.group_informed_consensus is None else repr(c.group_informed_consensus)
        writer.writerow(
            [
                str(c.timestamp_ms),
                str(c.statement),
                c.author,
                str(c.agrees),
                str(c.disagrees),
                str(c.moderated),
                "true" if c.is_meta else "false",
                "true" if c.is_seed else "false",
                gic,
                c.body,
            ]
        )
    return out.getvalue()


def format_summary_row(key: str, value: str) -> str:
    """One ``key,value`` row of ``summary.csv`` (Pol.is writes it without a header)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([key, value])
    return out.getvalue()
