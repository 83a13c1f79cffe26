"""`commonground opinion-groups` as a user runs it: a whole process, hyphenated name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from commonground.deliberation.tests.test_opinion_cli import write_export


def test_the_console_command_writes_the_documented_json(tmp_path: Path) -> None:
    export = write_export(tmp_path)
    out = tmp_path / "groups.json"
    comments = export.parent / "comments.csv"
    args = [sys.executable, "-m", "commonground", "opinion-groups", str(export), "--out", str(out)]
    if comments.exists():
        args += ["--comments", str(comments)]
    subprocess.run(args, check=True, capture_output=True, text=True, timeout=120)
    result = json.loads(out.read_text())
    for key in (
        "participants",
        "k",
        "group_informed_consensus",
        "consensus",
        "repness",
        "projections",
    ):
        assert key in result, key
    assert set(result["consensus"]) >= {"agree", "disagree"}
    assert all(isinstance(pid, str) for pid in result["participants"])
    assert set(result["projections"]) <= set(result["participants"])


def test_the_spc_command_prints_points(tmp_path: Path) -> None:
    data = tmp_path / "waits.csv"
    data.write_text("y\n12\n15\n11\n14\n13\n30\n12\n")
    done = subprocess.run(
        [sys.executable, "-m", "commonground", "spc", str(data), "--chart", "i"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    points = json.loads(done.stdout)
    assert len(points) == 7
    assert points[0]["cl"] is not None
