"""What each part of the layer proposes before the hedge budget is applied."""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.structures import Intent
from strategies.decision import Decision, skip


@dataclass(frozen=True, slots=True)
class ProposedOpen:
    """An opening intent before the budget, with its premium per unit (USD, credit negative)."""

    action: str
    intent: Intent
    unit_cost: float


@dataclass(frozen=True, slots=True)
class PartPlan:
    """A part's closes and skips (final), its proposed opens, and its target in units."""

    decision: Decision = field(default_factory=Decision)
    opens: tuple[ProposedOpen, ...] = ()
    target: int | None = None


def skipped(action: str, reason: str) -> PartPlan:
    """Return a plan that does nothing, for the given reason."""
    return PartPlan(skip(action, reason))
