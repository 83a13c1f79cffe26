"""Pol.is export readers and the `opinion-groups` command logic (pure; no Django)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from commonground.deliberation import polis_io
from commonground.deliberation.opinion import build_vote_matrix
from commonground.deliberation.opinion_cli import run_cli
from commonground.deliberation.polis_io import (
    read_comments,
    read_participants_votes,
    read_votes_log,
)

HEADER = "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree"


def write_export(folder: Path, *, quoted_xid: bool = False, crlf: bool = False) -> Path:
    """18 participants in two camps on statements 0..9 (statement 10 never voted on);
    participant 99 has no vote; statement 4 rejected, statement 5 meta."""
    rng = np.random.default_rng(1)
    lean = rng.choice([-1, 1], size=10)
    lines = [HEADER + "," + ",".join(str(s) for s in range(11))]
    for p in range(18):
        sign = 1 if p % 2 else -1
        cells = []
        for s in range(10):
            r = rng.random()
            cells.append("" if r < 0.1 else ("0" if r < 0.15 else str(int(sign * lean[s]))))
        cells.append("")
        xid = f'"x,{p}"' if quoted_xid and p == 3 else ""
        lines.append(f"{p},{xid},{p % 2},0,0,0,0," + ",".join(cells))
    lines.append("99,,,0,0,0,0," + "," * 10)
    sep = "\r\n" if crlf else "\n"
    path = folder / "participants-votes.csv"
    path.write_bytes((sep.join(lines) + sep).encode())
    (folder / "comments.csv").write_text(
        "timestamp,comment-id,author-id,agrees,disagrees,moderated,is-meta,is-seed,"
        "group-informed-consensus,comment-body\n"
        + "\n".join(
            f'1,{s},0,0,0,{-1 if s == 4 else 1},{"true" if s == 5 else "false"},false,,"text, {s}"'
            for s in range(11)
        )
        + "\n"
    )
    return path


def test_reader_fast_path_equals_csv_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = read_participants_votes(write_export(tmp_path))
    monkeypatch.setattr(polis_io, "_parse_cells_fast", lambda rests, m: None)
    slow = read_participants_votes(tmp_path / "participants-votes.csv")
    assert (fast.values == slow.values).all() and (fast.voted == slow.voted).all()
    assert fast.participants == slow.participants and fast.group_ids == slow.group_ids
    assert fast.statements == tuple(range(11))
    assert fast.group_ids[-1] is None and fast.group_ids[0] == "0"


@pytest.mark.parametrize("variant", [{"quoted_xid": True}, {"crlf": True}])
def test_reader_handles_quotes_and_crlf(tmp_path: Path, variant: dict[str, bool]) -> None:
    plain = read_participants_votes(write_export(tmp_path))
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = read_participants_votes(write_export(other_dir, **variant))
    assert (plain.values == other.values).all() and (plain.voted == other.voted).all()
    assert plain.participants == other.participants


@pytest.mark.parametrize(
    "rests",
    [[b"11,,1"], [b"-0,,1"], [b"1-1,,1"], [b"1,,1,"], [b"1,1"], [b"1, ,1"], [b"1,2,0"], [b"-,1,1"]],
)
def test_fast_parser_refuses_anything_unusual(rests: list[bytes]) -> None:
    assert polis_io._parse_cells_fast(rests, 3) is None


def test_fast_parser_cells() -> None:
    parsed = polis_io._parse_cells_fast([b"1,,-1", b",0,", b"-1,-1,1"], 3)
    assert parsed is not None
    values, voted = parsed
    assert values.tolist() == [[1, 0, -1], [0, 0, 0], [-1, -1, 1]]
    assert voted.tolist() == [[True, False, True], [False, True, False], [True, True, True]]


def test_reader_rejects_bad_cells(tmp_path: Path) -> None:
    path = tmp_path / "pv.csv"
    path.write_text(HEADER + ",1,2\n1,,,0,0,0,0,1,2\n")
    with pytest.raises(ValueError):
        read_participants_votes(path)
    path.write_text("who,1\n1,1\n")
    with pytest.raises(ValueError):
        read_participants_votes(path)


def test_vote_matrix_drops_unvoted_rows_and_columns(tmp_path: Path) -> None:
    export = read_participants_votes(write_export(tmp_path))
    matrix = export.vote_matrix()
    assert "99" not in matrix.participants and 10 not in matrix.statements
    assert matrix.shape == (18, 10)


def test_comments_moderation_and_meta(tmp_path: Path) -> None:
    write_export(tmp_path)
    comments = read_comments(tmp_path / "comments.csv")
    assert comments.rejected == {4} and comments.meta == {5}


def test_votes_log_latest_wins(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n"
        "30,x,1,7,-1\n"
        "10,x,1,7,1\n"
        "20,x,2,8,0\n"
        "5,x,2,7,1\n"
    )
    triples = read_votes_log(path)
    assert triples == [("7", 2, 1), ("7", 1, 1), ("8", 2, 0), ("7", 1, -1)]
    matrix = build_vote_matrix(triples)
    assert matrix.values[matrix.participants.index("7")].tolist() == [-1, 1]


def test_run_cli_writes_json(tmp_path: Path) -> None:
    path = write_export(tmp_path)
    out = tmp_path / "out.json"
    result = run_cli([str(path), "--comments", str(tmp_path / "comments.csv"), "--out", str(out)])
    on_disk = json.loads(out.read_text())
    assert on_disk == json.loads(json.dumps(result))
    assert set(on_disk) >= {
        "participants",
        "k",
        "group_informed_consensus",
        "consensus",
        "repness",
        "projections",
    }
    assert on_disk["k"] == 2
    assert on_disk["participants"]["99"] is None
    assert set(on_disk["participants"]) == {str(p) for p in range(18)} | {"99"}
    assert {on_disk["participants"][str(p)] for p in range(18)} == {0, 1}
    groups = {p: on_disk["participants"][str(p)] for p in range(18)}
    assert all(groups[p] == groups[p % 2] for p in range(18))  # the two camps
    assert set(on_disk["projections"]) == {str(p) for p in range(18)}
    assert all(len(xy) == 2 for xy in on_disk["projections"].values())
    assert set(on_disk["group_informed_consensus"]) == {str(s) for s in range(10)}
    assert set(on_disk["consensus"]) == {"agree", "disagree"}
    assert set(on_disk["repness"]) == {"0", "1"}
    for entries in on_disk["repness"].values():
        assert entries and all({"statement", "repful_for", "p_success"} <= set(e) for e in entries)
        assert all(e["statement"] not in ("4", "5") for e in entries)
    assert on_disk["mod_out"] == ["4", "5"] and on_disk["meta"] == ["5"]
    assert on_disk["priority"]["5"] == 49.0


def test_run_cli_prints_without_out(tmp_path: Path) -> None:
    path = write_export(tmp_path)
    stream = io.StringIO()
    result = run_cli([str(path)], stdout=stream)
    printed = json.loads(stream.getvalue())
    assert printed["k"] == result["k"] and printed["participants"] == result["participants"]
    assert printed["mod_out"] == []  # no comments file: nothing moderated out
