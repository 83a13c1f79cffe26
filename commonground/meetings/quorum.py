"""Quorum by side: pure computation, no Django.

A committee's rule asks for a number of attendees from each side and, by default, at least
one co-chair of either side among them. Neutral seats (facilitators, admins) never count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CLINICIAN = "clinician"
MANAGEMENT = "management"


@dataclass(frozen=True)
class QuorumRule:
    clinicians: int = 2
    management: int = 2
    needs_cochair: bool = True


@dataclass(frozen=True)
class QuorumResult:
    clinicians: int
    management: int
    cochairs: int
    rule: QuorumRule

    @property
    def shortfalls(self) -> list[str]:
        missing = []
        if self.clinicians < self.rule.clinicians:
            gap = self.rule.clinicians - self.clinicians
            missing.append(f"{gap} more from the clinician side")
        if self.management < self.rule.management:
            gap = self.rule.management - self.management
            missing.append(f"{gap} more from the management side")
        if self.rule.needs_cochair and self.cochairs == 0:
            missing.append("a co-chair")
        return missing

    @property
    def met(self) -> bool:
        return not self.shortfalls


def check_quorum(rule: QuorumRule, attendees: Iterable[tuple[str, bool]]) -> QuorumResult:
    """``attendees`` are (side, is_cochair) pairs, one per person present."""
    clinicians = management = cochairs = 0
    for side, is_cochair in attendees:
        if side == CLINICIAN:
            clinicians += 1
        elif side == MANAGEMENT:
            management += 1
        else:
            continue
        cochairs += bool(is_cochair)
    return QuorumResult(clinicians, management, cochairs, rule)
