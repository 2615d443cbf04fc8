"""The hedge job's bookkeeping: the daily step of k and the ratio (bot.hedge_rebalance.rebalanced),
once per trading day from the last rebalance the journal holds, a crossover acted on only once;
and the budget's input, the layer's cost over a rolling year (bot.hedge_context)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time

import pytest

from bot.hedge_context import layer_cost_year
from bot.hedge_rebalance import rebalanced
from broker.account import AccountSnapshot
from broker.calendar import NY
from broker.contracts import FutureContract, OptionContract, Right
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, StructureKind
from storage import hedge_snapshots
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal
from strategies.decision import PortfolioState
from strategies.hedge_state import HedgeState, Signals
from strategies.params import StrategyParams

PARAMS = StrategyParams()
MON, TUE, WED = date(2018, 3, 5), date(2018, 3, 6), date(2018, 3, 7)
FRI = date(2018, 3, 2)


def at(day: date, hour: int = 10, minute: int = 30) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def state(k: float, ratio: int, signals: Signals) -> PortfolioState:
    account = AccountSnapshot("DU1", at(MON), 1_000_000.0, 0.0, 0.0)
    return PortfolioState(account, hedge=HedgeState(k=k, ratio=ratio, signals=signals))


def bearish(day: date, r2: float = 0.80) -> Signals:
    return Signals(day=day, spx_crossover=-1, r2=r2)


def rebalance_row(day: date, k: float, ratio: int, signals: Signals) -> HedgeSnapshot:
    return HedgeSnapshot(at(day), day, "rebalance", signals, k, k, ratio, 1.0)


@pytest.fixture
def journal() -> Iterator[Journal]:
    journal = Journal.in_memory()
    yield journal
    journal.dispose()


def test_the_first_rebalance_steps_k_against_r2_and_the_ratio_on_a_crossover(
    journal: Journal,
) -> None:
    stepped, reasons = rebalanced(state(1.0, 2, bearish(FRI)), journal, PARAMS, at(MON))
    assert stepped.hedge.k == pytest.approx(1.1)  # R2 0.80 above the 0.45-0.65 band: +10%
    assert stepped.hedge.ratio == 3  # bearish crossover: one more long call
    assert reasons == (
        "R2 0.80 above the band 0.45-0.65: k 1.000 raised 10% -> k 1.100",
        "bearish SPX MACD crossover: one more long call -> ratio 1:3",
    )


def test_a_second_rebalance_the_same_day_changes_nothing(journal: Journal) -> None:
    hedge_snapshots.record(journal.engine, rebalance_row(MON, 1.1, 3, bearish(FRI)))
    before = state(1.1, 3, bearish(FRI))
    again, reasons = rebalanced(before, journal, PARAMS, at(MON, 14, 0))  # a restart, say
    assert again == before
    assert reasons == ("k 1.100 and ratio 1:3 already set today",)


def test_the_next_day_steps_k_again_but_not_for_a_crossover_already_acted_on(
    journal: Journal,
) -> None:
    # Monday acted on Friday's crossover; on Tuesday the signals are still Friday's (a holiday
    # or a late bar): k steps once more, the ratio does not
    hedge_snapshots.record(journal.engine, rebalance_row(MON, 1.1, 3, bearish(FRI)))
    stepped, reasons = rebalanced(state(1.1, 3, bearish(FRI)), journal, PARAMS, at(TUE))
    assert stepped.hedge.k == pytest.approx(1.21)
    assert stepped.hedge.ratio == 3
    assert reasons[1] == "no SPX MACD crossover -> ratio 1:3"


def test_a_new_crossover_the_next_day_is_acted_on_once(journal: Journal) -> None:
    hedge_snapshots.record(journal.engine, rebalance_row(MON, 1.1, 3, bearish(FRI)))
    stepped, _ = rebalanced(state(1.1, 3, bearish(MON)), journal, PARAMS, at(TUE))
    assert stepped.hedge.ratio == 4  # at most 1:4
    hedge = stepped.hedge
    hedge_snapshots.record(journal.engine, rebalance_row(TUE, hedge.k, 4, hedge.signals))
    kept, reasons = rebalanced(stepped, journal, PARAMS, at(WED))  # still Monday's signals
    assert kept.hedge.ratio == 4
    assert reasons[1] == "no SPX MACD crossover -> ratio 1:4"


def test_signals_the_last_rebalance_never_saw_count_even_if_the_journal_is_older(
    journal: Journal,
) -> None:
    # the daemon was down Tuesday: Wednesday acts on Tuesday's bullish crossover
    hedge_snapshots.record(journal.engine, rebalance_row(MON, 1.1, 3, bearish(FRI)))
    bullish = Signals(day=TUE, spx_crossover=1, r2=0.55)
    stepped, reasons = rebalanced(state(1.1, 3, bullish), journal, PARAMS, at(WED))
    assert stepped.hedge.k == pytest.approx(1.1)  # R2 inside the band: kept
    assert stepped.hedge.ratio == 2
    assert reasons == (
        "R2 0.55 inside the band 0.45-0.65: k kept at 1.100 -> k 1.100",
        "bullish SPX MACD crossover: one long call fewer -> ratio 1:2",
    )


# --------------------------------------------------------------------------------------------
# The budget's input: the layer's net cost over the last 365 days
# --------------------------------------------------------------------------------------------

NOW = at(date(2018, 3, 1))
CALL = OptionContract("VIX", "VIX", date(2017, 10, 18), 20.0, Right.CALL)
FUTURE = FutureContract("VIX", "VX", date(2018, 5, 16))
SPX_PUT = OptionContract("SPX", "SPXW", date(2018, 3, 16), 2500.0, Right.PUT)


def held(
    journal: Journal,
    engine: Engine,
    kind: StructureKind,
    leg: Leg,
    open_price: float,
    opened: datetime,
    multiplier: int = 100,
) -> int:
    intent = Intent(IntentKind.OPEN, engine, kind, (leg,), 1, open_price, "test")
    intent_id = journal.record_intent(intent, opened)
    return journal.open_structure(
        intent_id=intent_id,
        engine=engine,
        kind=kind,
        legs=(leg,),
        quantity=1,
        open_price=open_price,
        opened_at=opened,
        multiplier=multiplier,
    )


def test_layer_cost_counts_the_years_realized_and_the_open_marks_of_the_layer_only(
    journal: Journal,
) -> None:
    buy_call, buy_future = Leg(CALL, Side.BUY), Leg(FUTURE, Side.BUY)
    block, rung_kind = StructureKind.CALL_BLOCK, StructureKind.FUTURES_RUNG
    # closed inside the year: paid 2.00, sold for 0.50 -> realized -150
    inside = held(journal, Engine.VIX, block, buy_call, 2.0, at(date(2017, 6, 1)))
    journal.close_structure(inside, close_price=-0.5, closed_at=at(date(2017, 9, 1)), reason="t")
    # closed before the year began: not counted
    old = held(journal, Engine.VIX, block, buy_call, 9.0, at(date(2016, 6, 1)))
    journal.close_structure(old, close_price=-0.1, closed_at=at(date(2017, 2, 27)), reason="t")
    # open and marked: a rung bought at 13.00, marked at 15.00 -> +2,000 unrealized
    opened = at(date(2018, 1, 8))
    rung = held(journal, Engine.VIX, rung_kind, buy_future, 13.0, opened, multiplier=1000)
    # open and never marked: not counted
    held(journal, Engine.VIX, block, buy_call, 1.0, at(date(2018, 2, 28)))
    # the condors' P&L is not the layer's
    condor = held(
        journal, Engine.CONDOR, StructureKind.IRON_CONDOR, Leg(SPX_PUT, Side.SELL), -3.0,
        at(date(2018, 1, 8)),
    )  # fmt: skip
    journal.record_marks({rung: 15.0, condor: -10.0}, at(date(2018, 2, 28), 15, 45))

    assert layer_cost_year(journal, NOW) == pytest.approx(-(-150.0 + 2_000.0))
    assert layer_cost_year(journal, at(date(2018, 9, 2))) == pytest.approx(-2_000.0)  # a year on
