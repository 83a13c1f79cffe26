"""``commonground opinion-groups PARTICIPANTS_VOTES.csv [--comments COMMENTS.csv] [--out OUT.json]``

Reads a Pol.is export, runs the opinion-group engine once and writes the result as JSON.
Pure (no Django): the management command only forwards its arguments here; this module also
runs standalone as ``python -m commonground.deliberation.opinion_cli``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from .opinion import analyse, result_to_dict
from .polis_io import read_comments, read_participants_votes


class Writer(Protocol):
    def write(self, text: str, /) -> object: ...


DESCRIPTION = (
    "Opinion groups, representative statements, consensus and group-informed consensus "
    "from a Pol.is participants-votes.csv export."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("participants_votes", type=Path, help="participants-votes.csv")
    parser.add_argument(
        "--comments",
        type=Path,
        default=None,
        help="comments.csv: rejected (moderated = -1) and meta statements are moderated out",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="write the JSON here instead of printing it"
    )


def opinion_groups(participants_votes: Path, comments: Path | None = None) -> dict[str, Any]:
    """The JSON-ready result for one export."""
    export = read_participants_votes(participants_votes)
    rejected: frozenset[object] = frozenset()
    meta: frozenset[object] = frozenset()
    if comments is not None:
        info = read_comments(comments)
        rejected, meta = info.rejected, info.meta
    result = analyse(export.vote_matrix(), rejected=rejected, meta=meta)
    out = result_to_dict(result)
    # Every participant of the file, also those without a vote (never clustered).
    grouped = out["participants"]
    out["participants"] = {p: grouped.get(p) for p in export.participants}
    out["source"] = {
        "participants_votes": str(participants_votes),
        "comments": str(comments) if comments is not None else None,
        "n_rows": len(export.participants),
        "n_statement_columns": len(export.statements),
    }
    return out


def execute(
    participants_votes: Path,
    *,
    comments: Path | None = None,
    out: Path | None = None,
    stdout: Writer | None = None,
) -> dict[str, Any]:
    """Compute, then write ``out`` or print the JSON to ``stdout``; returns the result."""
    result = opinion_groups(participants_votes, comments)
    text = json.dumps(result, allow_nan=False)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
    else:
        stream: Writer = sys.stdout if stdout is None else stdout
        stream.write(text + "\n")
    return result


def run_cli(argv: Sequence[str] | None = None, stdout: Writer | None = None) -> dict[str, Any]:
    """Parse ``argv`` (without the program name) and run; returns the result dict."""
    parser = argparse.ArgumentParser(prog="commonground opinion-groups", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return execute(args.participants_votes, comments=args.comments, out=args.out, stdout=stdout)


def main() -> int:
    run_cli(sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
