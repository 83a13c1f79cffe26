"""The opinion-group engine: a pure, deterministic, Pol.is-compatible implementation of
``shared/docs/common-ground-math.md`` (numpy only; no Django import anywhere in here).

Usage::

    matrix = build_vote_matrix([(participant, statement, vote), ...])  # chronological
    result = analyse(matrix, rejected={...}, meta={...})
    result.k, result.group_of, result.repness, result.group_informed_consensus, ...
    bridges = bridge_statements(result, {participant: "clinician" | "manager", ...})

Votes: agree = +1, disagree = -1, pass = 0; the latest vote per (participant, statement) wins.
"""

from .bridge import BridgeStatement, PartFigures, bridge_statements, wilson_lower_bound
from .clustering import Clustering
from .engine import OpinionConfig, OpinionResult, analyse
from .matrix import AGREE, DISAGREE, PASS, VoteMatrix, build_vote_matrix
from .pca import PCAResult
from .stats import ConsensusEntry, RepnessEntry, Tallies, prop_test, two_prop_test
from .summary import adjusted_rand_index, result_to_dict

__all__ = [
    "AGREE",
    "DISAGREE",
    "PASS",
    "BridgeStatement",
    "Clustering",
    "ConsensusEntry",
    "OpinionConfig",
    "OpinionResult",
    "PCAResult",
    "PartFigures",
    "RepnessEntry",
    "Tallies",
    "VoteMatrix",
    "adjusted_rand_index",
    "analyse",
    "bridge_statements",
    "build_vote_matrix",
    "prop_test",
    "result_to_dict",
    "two_prop_test",
    "wilson_lower_bound",
]
