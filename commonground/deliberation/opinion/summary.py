"""Plain (JSON-ready) views of a result, and the adjusted Rand index used to compare groups."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from .engine import OpinionResult


def _key(x: Hashable) -> str:
    return str(x)


def result_to_dict(result: OpinionResult) -> dict[str, Any]:
    """Everything a report needs, keyed by participant / statement id as strings."""
    statements = [_key(s) for s in result.statements]
    participants = [_key(p) for p in result.participants]
    groups = [_key(label) for label in result.group_labels]
    gv = result.group_votes
    proj = result.pca.participant_projections.tolist()
    group_of = result.group_of.tolist()

    def entry(obj: object) -> dict[str, Any]:
        d = asdict(obj)  # type: ignore[call-overload]
        d["statement"] = _key(d["statement"])
        return dict(d)

    return {
        "n_participants": len(participants),
        "n_statements": len(statements),
        "n_in_conv": int(result.in_conv.sum()),
        "k": result.k,
        "participants": {
            p: (int(g) if g >= 0 else None) for p, g in zip(participants, group_of, strict=True)
        },
        "projections": dict(zip(participants, proj, strict=True)),
        "group_labels": groups,
        "group_sizes": {g: int(n) for g, n in zip(groups, gv.n_members.tolist(), strict=True)},
        "silhouettes": (
            {str(k): s for k, s in result.clustering.silhouettes.items()}
            if result.clustering is not None
            else {}
        ),
        "statements": statements,
        "mod_out": [s for s, out in zip(statements, result.mod_out.tolist(), strict=True) if out],
        "meta": [s for s, out in zip(statements, result.meta.tolist(), strict=True) if out],
        "group_informed_consensus": dict(
            zip(statements, result.group_informed_consensus.tolist(), strict=True)
        ),
        "consensus": {side: [entry(e) for e in lst] for side, lst in result.consensus.items()},
        "repness": {
            g: [entry(e) for e in lst] for g, lst in zip(groups, result.repness, strict=True)
        },
        "priority": dict(zip(statements, result.priority.tolist(), strict=True)),
        "group_votes": {
            g: {
                "n_members": int(gv.n_members[i]),
                "votes": {
                    s: {"A": a, "D": d, "S": n}
                    for s, a, d, n in zip(
                        statements,
                        gv.agree[i].tolist(),
                        gv.disagree[i].tolist(),
                        gv.seen[i].tolist(),
                        strict=True,
                    )
                },
            }
            for i, g in enumerate(groups)
        },
        "pca": {
            "center": result.pca.center.tolist(),
            "components": result.pca.components.tolist(),
            "statement_projections": result.pca.statement_projections.tolist(),
            "statement_extremity": result.pca.statement_extremity.tolist(),
        },
    }


def adjusted_rand_index(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Adjusted Rand index (Hubert & Arabie) of two labelings of the same items.

    1.0 for identical partitions (also when both put everything in one cluster)."""
    if len(a) != len(b):
        raise ValueError("labelings must have the same length")
    n = len(a)
    if n < 2:
        return 1.0
    _, ia = np.unique(np.asarray([str(x) for x in a]), return_inverse=True)
    _, ib = np.unique(np.asarray([str(x) for x in b]), return_inverse=True)
    table = np.zeros((int(ia.max()) + 1, int(ib.max()) + 1), dtype=np.int64)
    np.add.at(table, (ia, ib), 1)

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) // 2).sum())

    index = pairs(table)
    sum_a = pairs(table.sum(axis=1))
    sum_b = pairs(table.sum(axis=0))
    expected = sum_a * sum_b / (n * (n - 1) / 2)
    maximum = (sum_a + sum_b) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)
