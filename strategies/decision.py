"""What a decision returns and what it decides on, besides the market snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.account import AccountSnapshot
from broker.structures import Engine, Intent, Structure
from strategies.hedge_state import HedgeState
from strategies.signals.macro_calendar import MacroEvent


@dataclass(frozen=True, slots=True)
class Skip:
    """An action not taken this cycle and why (bad data, a limit, nothing to do)."""

    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The intents to carry out and the actions skipped, each with a readable reason."""

    intents: tuple[Intent, ...] = ()
    skips: tuple[Skip, ...] = ()

    def __add__(self, other: Decision) -> Decision:
        return Decision(self.intents + other.intents, self.skips + other.skips)


def skip(action: str, reason: str) -> Decision:
    """Return a decision that does nothing, for the given reason."""
    return Decision(skips=(Skip(action, reason),))


@dataclass(frozen=True, slots=True)
class PortfolioState:
    """The bot's own view of its book: the account, the structures it manages, the hedge state
    and the macro calendar (events in date order)."""

    account: AccountSnapshot
    structures: tuple[Structure, ...] = field(default_factory=tuple)
    hedge: HedgeState = field(default_factory=HedgeState)
    events: tuple[MacroEvent, ...] = ()

    def open_of(self, engine: Engine) -> tuple[Structure, ...]:
        return tuple(s for s in self.structures if s.engine is engine)
