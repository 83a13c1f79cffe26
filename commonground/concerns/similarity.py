"""Text similarity for spotting a concern that has already been raised. Pure Python, no Django.

The same answer on SQLite and PostgreSQL because nothing here touches the database: the
caller hands over the candidate texts (a few thousand open concerns at most) and an index is
built in memory for the request.

Method: TF-IDF cosine over word stems of title and description (the title counts twice),
after light normalisation: lower case, Markdown and punctuation dropped, hyphenated words split,
English stop words removed, a small suffix-stripping stemmer, and a few synonyms folded
together ("follow-up" and "return visit" are the same thing in a clinic). Word pairs
(bigrams) are added so that "intake backlog" counts for more than "intake" and "backlog"
apart. Ties are broken by key, so the same input always gives the same order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

# Below this cosine a candidate is not shown: unrelated concerns share a word or two
# ("patients", "clinic") and score under 0.1; real duplicates score well above 0.2.
DEFAULT_THRESHOLD = 0.2
# Fewer content words than this and there is nothing to compare yet.
MIN_QUERY_TERMS = 2
TITLE_WEIGHT = 2
BIGRAM_WEIGHT = 0.5

STOP_WORDS = frozenset(
    {
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "almost",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "either",
        "else",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "getting",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "just",
        "least",
        "less",
        "let",
        "like",
        "made",
        "make",
        "makes",
        "many",
        "may",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "my",
        "myself",
        "need",
        "needs",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "often",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "per",
        "quite",
        "rather",
        "really",
        "same",
        "several",
        "she",
        "should",
        "since",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "though",
        "through",
        "thus",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "very",
        "via",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yet",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    }
)

# Clinic words that mean the same thing, folded to one stem after stemming.
SYNONYMS = {
    "followup": "return",
    "revisit": "return",
    "wait": "delay",
    "waitlist": "backlog",
    "queue": "backlog",
    "load": "caseload",
    "appt": "appointment",
    "appoint": "appointment",
    "visit": "appointment",
    "session": "appointment",
    "slot": "appointment",
    "clinician": "staff",
    "therapist": "staff",
    "counselor": "staff",
    "understaff": "staff",
    "vacancy": "staff",
}

_MARKDOWN = re.compile(r"[*_`#>~\[\]()|]")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _stem(word: str) -> str:
    """A deliberately small stemmer: enough to join plurals and verb forms."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, keep in (
        ("ies", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: len(word) - len(suffix)] + keep
            if suffix == "es" and not stem.endswith(("ss", "sh", "ch", "x", "z")):
                stem = word[:-1]  # "backlogs" style plurals keep their e: "cases" -> "case"
            if stem.endswith("s") and suffix == "s":
                return word  # "process", "access" are not plurals
            if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] in "bdgmnprt":
                stem = stem[:-1]  # "booked" -> "book", "planned" -> "plan"
            return stem
    return word


def terms(text: str) -> list[str]:
    """Normalised content words of ``text``, in order."""
    text = _MARKDOWN.sub(" ", text.lower())
    # "follow-up", "follow up" and "followup" are one word; other hyphens split words.
    text = re.sub(r"\bfollow[\s-]*ups?\b", "followup", text)
    text = re.sub(r"\bcase[\s-]*loads?\b", "caseload", text)
    text = re.sub(r"\bwait[\s-]*lists?\b", "waitlist", text)
    text = text.replace("-", " ").replace("\u2019", "'")
    found: list[str] = []
    for word in _WORD.findall(text):
        if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        stem = _stem(word.removesuffix("'s"))
        found.append(SYNONYMS.get(stem, stem))
    return found


def features(title: str, body: str = "") -> dict[str, float]:
    """Weighted term counts: title words count double; adjacent word pairs count half."""
    counts: dict[str, float] = {}
    for text, weight in ((title, TITLE_WEIGHT), (body, 1)):
        words = terms(text)
        for word in words:
            counts[word] = counts.get(word, 0.0) + weight
        for first, second in pairwise(words):
            pair = f"{first} {second}"
            counts[pair] = counts.get(pair, 0.0) + weight * BIGRAM_WEIGHT
    return counts


@dataclass(frozen=True)
class Match:
    key: Hashable
    score: float


class Index:
    """TF-IDF vectors of candidate documents, built once and queried as the person types."""

    def __init__(self, documents: Iterable[tuple[Hashable, str, str]]) -> None:
        self._keys: list[Hashable] = []
        raw: list[dict[str, float]] = []
        df: Counter[str] = Counter()
        for key, title, body in documents:
            counts = features(title, body)
            self._keys.append(key)
            raw.append(counts)
            df.update(counts.keys())
        n = len(raw)
        # Smoothed IDF, always positive, so a tiny index still ranks sensibly.
        self._idf = {term: math.log((1 + n) / (1 + d)) + 1.0 for term, d in df.items()}
        self._default_idf = math.log(1 + n) + 1.0
        self._vectors = [self._weigh(counts) for counts in raw]
        # term -> document positions, so a query only scores documents sharing a term.
        self._postings: dict[str, list[int]] = {}
        for position, vector in enumerate(self._vectors):
            for term in vector:
                self._postings.setdefault(term, []).append(position)

    def __len__(self) -> int:
        return len(self._keys)

    def _weigh(self, counts: dict[str, float]) -> dict[str, float]:
        vector = {
            term: (1.0 + math.log(tf)) * self._idf.get(term, self._default_idf)
            for term, tf in counts.items()
            if tf > 0
        }
        norm = math.sqrt(sum(w * w for w in vector.values()))
        return {term: w / norm for term, w in vector.items()} if norm else {}

    def query(
        self,
        title: str,
        body: str = "",
        *,
        limit: int = 5,
        threshold: float = DEFAULT_THRESHOLD,
        exclude: Sequence[Hashable] = (),
    ) -> list[Match]:
        """The best ``limit`` documents scoring at least ``threshold``, best first."""
        if len(set(terms(f"{title} {body}"))) < MIN_QUERY_TERMS:
            return []
        vector = self._weigh(features(title, body))
        scores: dict[int, float] = {}
        for term, weight in vector.items():
            for position in self._postings.get(term, ()):
                scores[position] = (
                    scores.get(position, 0.0) + weight * self._vectors[position][term]
                )
        skip = set(exclude)
        found = [
            Match(self._keys[position], round(score, 6))
            for position, score in scores.items()
            if score >= threshold and self._keys[position] not in skip
        ]
        found.sort(key=lambda match: (-match.score, str(match.key)))
        return found[:limit]


def similar(
    text_title: str,
    text_body: str,
    documents: Iterable[tuple[Hashable, str, str]],
    *,
    limit: int = 5,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Match]:
    """One-shot helper: index ``documents`` and query them."""
    return Index(documents).query(text_title, text_body, limit=limit, threshold=threshold)
