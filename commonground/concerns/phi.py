"""Spot patient identifiers in free text before it is stored. Pure; no Django.

Concerns are about practice, not patients: a medical record number, social security number,
phone number, email address or date of birth in the text blocks submission until it is
edited out. Deliberately eager: a false alarm costs an edit, a miss costs a disclosure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str
    start: int


_PATTERNS = [
    (
        "medical record number",
        re.compile(r"\b(?:MRN|medical record(?: number)?)\s*[:#]?\s*[A-Z]?\d{5,12}\b", re.I),
    ),
    ("social security number", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("phone number", re.compile(r"(?<!\d)(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\d)")),
    ("email address", re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+\b")),
    (
        "date of birth",
        re.compile(
            r"\b(?:DOB|D\.O\.B\.|date of birth|born(?: on)?)\s*[:#]?\s*"
            r"(?:\d{1,2}[/-]\d{1,2}[/-]\d{2,4}|\d{4}-\d{2}-\d{2}|[A-Z][a-z]+\.? \d{1,2},? \d{4})",
            re.I,
        ),
    ),
    # A long bare number is most often a record or account number.
    ("long identifying number", re.compile(r"(?<![\d.,])\d{7,12}(?![\d.,])")),
]


def find_patient_identifiers(text: str) -> list[Finding]:
    findings = [
        Finding(kind, match.group(0), match.start())
        for kind, pattern in _PATTERNS
        for match in pattern.finditer(text)
    ]
    # A number already reported as an MRN, SSN or phone is not reported again as bare.
    covered = [
        (f.start, f.start + len(f.text)) for f in findings if f.kind != "long identifying number"
    ]
    return sorted(
        (
            f
            for f in findings
            if f.kind != "long identifying number" or not any(a <= f.start < b for a, b in covered)
        ),
        key=lambda f: f.start,
    )
