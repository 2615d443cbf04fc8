"""The event blackout: no new condor on the trading day before or the day of CPI, PPI or FOMC.

NOW is Monday 2024-03-04 10:00 ET; the standard chain's expiry 2024-04-18 is 45 DTE.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from snapshots import NOW, TODAY, condor, leg_quotes_for, macro_event, portfolio, snapshot

from broker.calendar import NY
from broker.structures import IntentKind
from strategies.condor_blackout import blacked_out_days, blackout_reason
from strategies.condor_entry import propose_condor
from strategies.decide import decide_entry
from strategies.decision import Decision
from strategies.params import CondorParams, StrategyParams
from strategies.signals.macro_calendar import MacroEvent

PARAMS = CondorParams()
# The CBOE calendar around NOW: Friday 2024-03-08, then Monday 2024-03-11.
MARCH = tuple(date(2024, 3, d) for d in (4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 18, 19, 20, 21, 22))
FRIDAY = datetime(2024, 3, 8, 10, 0, tzinfo=NY)
RULE = "no new condor on the trading day before or the day of a CPI, PPI or FOMC event"


def propose(
    events: Iterable[MacroEvent],
    now: datetime = NOW,
    sessions: tuple[date, ...] | None = None,
    params: CondorParams = PARAMS,
) -> Decision:
    days = tuple(d for d in MARCH if d >= now.date()) if sessions is None else sessions
    snap = dataclasses.replace(snapshot(time=now), sessions=days)
    return propose_condor(snap, portfolio(events=events), params, now)


def skip_reason(decision: Decision) -> str:
    assert decision.intents == ()
    assert len(decision.skips) == 1
    assert decision.skips[0].action == "open condor"
    return decision.skips[0].reason


def opens(decision: Decision) -> bool:
    return decision.skips == () and [i.kind for i in decision.intents] == [IntentKind.OPEN]


def test_cpi_tomorrow_blocks_a_new_condor_today() -> None:
    reason = skip_reason(propose([macro_event(date(2024, 3, 5))]))
    assert (
        reason == f"event blackout: CPI on the next trading day (Tue 2024-03-05 08:30 ET); {RULE}"
    )


def test_fomc_today_blocks_a_new_condor() -> None:
    reason = skip_reason(propose([macro_event(TODAY, "FOMC", "14:00")]))
    assert reason == f"event blackout: FOMC today (Mon 2024-03-04 14:00 ET); {RULE}"


def test_ppi_in_two_trading_days_does_not_block() -> None:
    assert opens(propose([macro_event(date(2024, 3, 6), "PPI")]))


def test_event_yesterday_does_not_block() -> None:
    assert opens(propose([macro_event(TODAY - timedelta(days=1))]))


def test_no_events_opens() -> None:
    assert opens(propose([]))


def test_event_on_a_saturday_blocks_the_friday_before() -> None:
    reason = skip_reason(propose([macro_event(date(2024, 3, 9), "FOMC", "14:00")], FRIDAY))
    assert reason == (
        "event blackout: FOMC before the next trading day (Mon 2024-03-11) "
        f"(Sat 2024-03-09 14:00 ET); {RULE}"
    )


def test_event_on_a_monday_blocks_the_friday_before() -> None:
    reason = skip_reason(propose([macro_event(date(2024, 3, 11))], FRIDAY))
    assert reason.startswith("event blackout: CPI on the next trading day (Mon 2024-03-11")


def test_event_on_a_saturday_does_not_block_the_monday_after() -> None:
    monday = date(2024, 3, 11)
    sessions = tuple(d for d in MARCH if d >= monday)
    assert blackout_reason([macro_event(date(2024, 3, 9))], monday, sessions) is None


def test_event_after_a_holiday_blocks_the_trading_day_before_the_holiday() -> None:
    # Monday 2024-02-19 (Presidents' Day) is no session: Friday is the trading day before.
    sessions = (date(2024, 2, 16), date(2024, 2, 20), date(2024, 2, 21))
    event = macro_event(date(2024, 2, 20))
    assert blackout_reason([event], date(2024, 2, 16), sessions) == (
        f"event blackout: CPI on the next trading day (Tue 2024-02-20 08:30 ET); {RULE}"
    )
    assert blacked_out_days(event, sessions) == (date(2024, 2, 16), date(2024, 2, 20))


def test_the_earliest_of_two_events_is_named() -> None:
    events = [macro_event(date(2024, 3, 5), "FOMC", "14:00"), macro_event(date(2024, 3, 5))]
    assert "CPI on the next trading day" in skip_reason(propose(events))


def test_blackout_off_by_param_opens() -> None:
    params = CondorParams(event_blackout=False)
    assert opens(propose([macro_event(TODAY)], params=params))


def test_event_ahead_without_sessions_skips() -> None:
    reason = skip_reason(propose([macro_event(date(2024, 3, 5))], sessions=()))
    assert reason == (
        "no trading day after 2024-03-04 in the snapshot's sessions: "
        "cannot check the macro event blackout"
    )


def test_only_today_in_sessions_with_an_event_ahead_skips() -> None:
    reason = skip_reason(propose([macro_event(date(2024, 4, 10))], sessions=(TODAY,)))
    assert reason.startswith("no trading day after 2024-03-04")


def test_no_events_ahead_needs_no_sessions() -> None:
    assert opens(propose([macro_event(date(2024, 3, 1))], sessions=()))


def test_the_max_open_limit_is_reported_before_the_blackout() -> None:
    # The blackout comes after the open count and the one-per-window checks.
    params = CondorParams(max_open=1)
    snap = dataclasses.replace(snapshot(), sessions=MARCH)
    state = portfolio([condor(1)], events=[macro_event(TODAY)])
    reason = skip_reason(propose_condor(snap, state, params, NOW))
    assert reason == "1 condors open, the limit is 1"


def test_decide_entry_still_manages_during_a_blackout() -> None:
    structure = condor(7, opened_at=NOW - timedelta(days=14))
    half_credit = (5.0, 1.0, 4.5, 1.0)  # closes for 7.50: take profit
    snap = dataclasses.replace(
        snapshot(leg_quotes=leg_quotes_for(structure, half_credit)), sessions=MARCH
    )
    state = portfolio([structure], events=[macro_event(TODAY)])
    decision = decide_entry(snap, state, StrategyParams(), NOW)
    assert [(i.kind, i.structure_id) for i in decision.intents] == [(IntentKind.CLOSE, 7)]
    assert [s.reason.split(":")[0] for s in decision.skips] == ["event blackout"]


# --------------------------------------------------------------------------------------------
# blacked_out_days: the days `alvh events list` marks
# --------------------------------------------------------------------------------------------


def test_an_event_on_a_trading_day_blacks_out_that_day_and_the_one_before() -> None:
    assert blacked_out_days(macro_event(date(2024, 3, 12)), MARCH) == (
        date(2024, 3, 11),
        date(2024, 3, 12),
    )


def test_an_event_on_a_saturday_blacks_out_only_the_friday() -> None:
    assert blacked_out_days(macro_event(date(2024, 3, 9)), MARCH) == (date(2024, 3, 8),)


def test_an_event_on_the_first_listed_day_blacks_out_only_that_day() -> None:
    assert blacked_out_days(macro_event(date(2024, 3, 4)), MARCH) == (date(2024, 3, 4),)


def test_blacked_out_days_agree_with_the_rule_on_every_day() -> None:
    events = [macro_event(date(2024, 3, d)) for d in (5, 9, 12, 16, 17, 20)]
    marked = {day for event in events for day in blacked_out_days(event, MARCH)}
    ruled = {day for day in MARCH[:-1] if blackout_reason(events, day, MARCH) is not None}
    assert marked - {MARCH[-1]} == ruled
    assert ruled == {date(2024, 3, d) for d in (4, 5, 8, 11, 12, 15, 19, 20)}


def test_ppi_tomorrow_and_ppi_today_block_like_cpi_and_fomc() -> None:
    tomorrow = skip_reason(propose([macro_event(date(2024, 3, 5), "PPI")]))
    assert tomorrow.startswith("event blackout: PPI on the next trading day (Tue 2024-03-05")
    today = skip_reason(propose([macro_event(TODAY, "PPI")]))
    assert today.startswith("event blackout: PPI today (Mon 2024-03-04")
