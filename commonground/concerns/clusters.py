"""Groups of similar concerns raised at different clinics. Pure Python, no Django.

Built on the text features of ``similarity`` (the same normalisation, stems, synonyms and word
pairs as duplicate detection while typing), so a pair that the raise form calls similar is
grouped here too. The grouping must stay fast with a few thousand open concerns, so it is a
single pass of leader clustering rather than all pairs:

* Documents are visited in the caller's order (oldest first, so the earliest concern leads).
* Each document is compared only with the current leaders that share one of its strongest
  terms (blocking on rare, heavy terms; a common word such as "patient" never pulls in the
  whole region), and joins the best one scoring at least ``threshold``.
* Otherwise it becomes a leader itself.

Cost grows with documents times the leaders they share a strong term with, not with the
square of the documents. A group is kept only when it spans at least ``min_groups`` clinics.
The same input always gives the same groups, in the same order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from commonground.concerns.similarity import features

# Stricter than the raise form's 0.2: there a person judges a short list; here a group is
# offered for merging, so it must be the same problem, not a shared theme.
CLUSTER_THRESHOLD = 0.3
# How many of a document's heaviest terms are used to find candidate leaders.
BLOCKING_TERMS = 8
# The description beyond this many characters is ignored: the gist is at the start.
BODY_LIMIT = 1500


@dataclass(frozen=True)
class Document:
    key: Hashable
    group: Hashable  # the clinic: a cluster must span several
    title: str
    body: str = ""


def _vectors(documents: Sequence[Document]) -> list[dict[str, float]]:
    """Unit-length TF-IDF vectors, weighted as ``similarity.Index`` weighs them."""
    raw = [features(doc.title, doc.body[:BODY_LIMIT]) for doc in documents]
    df: Counter[str] = Counter()
    for counts in raw:
        df.update(counts.keys())
    n = len(raw)
    idf = {term: math.log((1 + n) / (1 + d)) + 1.0 for term, d in df.items()}
    vectors: list[dict[str, float]] = []
    for counts in raw:
        vector = {term: (1.0 + math.log(tf)) * idf[term] for term, tf in counts.items() if tf > 0}
        norm = math.sqrt(sum(w * w for w in vector.values()))
        vectors.append({t: w / norm for t, w in vector.items()} if norm else {})
    return vectors


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(term, 0.0) for term, w in a.items())


def _strongest(vector: dict[str, float], k: int) -> list[str]:
    return [t for t, _ in sorted(vector.items(), key=lambda item: (-item[1], item[0]))[:k]]


def cluster(
    documents: Sequence[Document],
    *,
    threshold: float = CLUSTER_THRESHOLD,
    min_groups: int = 2,
) -> list[list[Hashable]]:
    """Keys of similar documents, grouped; only groups spanning ``min_groups`` groups.

    Groups come most widespread first (clinics, then size); members keep the input order.
    """
    vectors = _vectors(documents)
    leaders: list[int] = []  # document positions
    members: dict[int, list[int]] = {}
    postings: dict[str, list[int]] = {}  # strong term -> leader positions
    for position, vector in enumerate(vectors):
        if not vector:
            continue
        strong = _strongest(vector, BLOCKING_TERMS)
        candidates = {leader for term in strong for leader in postings.get(term, ())}
        best, best_score = -1, threshold
        for leader in sorted(candidates):
            score = _dot(vector, vectors[leader])
            if score >= best_score and (best < 0 or score > best_score):
                best, best_score = leader, score
        if best >= 0:
            members[best].append(position)
            continue
        leaders.append(position)
        members[position] = [position]
        for term in strong:
            postings.setdefault(term, []).append(position)
    groups = [
        positions
        for positions in (members[leader] for leader in leaders)
        if len({documents[p].group for p in positions}) >= min_groups
    ]
    groups.sort(
        key=lambda positions: (
            -len({documents[p].group for p in positions}),
            -len(positions),
            positions[0],
        )
    )
    return [[documents[p].key for p in positions] for positions in groups]
