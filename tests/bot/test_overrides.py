"""Override commands on the simulated exchange: each verb's effect, exactly once after a crash,
and the real daemon answering every verb sent by the real CLI from other processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest

from bot import executor as executor_module
from bot.config import AppConfig
from bot.engine import TradingEngine
from bot.jobs import JobName
from bot.overrides import CommandApplier, screen_intents
from bot.pricing_walk import walk_prices
from bot.wiring import SimSystem, build_sim_system
from broker.calendar import NY
from broker.contracts import OptionContract, Right
from broker.orders import Leg, Order, OrderStatus, Side
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from storage import commands
from storage.commands import CommandStatus, CommandVerb, RuntimeState
from storage.journal import Journal

ALVH = str(Path(sys.executable).with_name("alvh"))
MONDAY = date(2018, 1, 8)


def app_config(tmp_path: Path, **extra: Any) -> AppConfig:
    return AppConfig.model_validate(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'alvh.sqlite'}"},
            "logging": {"json_path": str(tmp_path / "alvh.jsonl")},
            "reports": {"dir": str(tmp_path / "reports"), "enabled": False},
            "sim": {"start": MONDAY.isoformat(), "venue_path": str(tmp_path / "venue.sqlite")},
            **extra,
        }
    )


def toml_config(tmp_path: Path, speed: float, extra: str = "") -> Path:
    path = tmp_path / "alvh.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "alvh.sqlite"}"\n'
        f'[logging]\njson_path = "{tmp_path / "alvh.jsonl"}"\n'
        f'[reports]\ndir = "{tmp_path / "reports"}"\n'
        f"[sim]\nstart = {MONDAY.isoformat()}\nspeed = {speed}\n"
        f'venue_path = "{tmp_path / "venue.sqlite"}"\n' + extra
    )
    return path


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[SimSystem]:
    journal = Journal(f"sqlite:///{tmp_path / 'alvh.sqlite'}")
    built = build_sim_system(app_config(tmp_path), journal, MONDAY, pace=0.0, persist_venue=False)
    await built.engine.start()
    yield built
    await built.engine.stop()
    journal.dispose()


async def at(system: SimSystem, hour: int, minute: int, job: JobName, day: date = MONDAY) -> None:
    system.clock.advance_to(datetime.combine(day, clock_time(hour, minute), tzinfo=NY))
    await system.engine.run_job(job)


async def open_condor(system: SimSystem) -> int:
    await at(system, 10, 0, JobName.CONDOR_ENTRY)
    [condor] = system.engine.journal.open_structures()
    return condor.id


async def send(
    system: SimSystem, verb: CommandVerb, config_path: Path | None = None, **args: Any
) -> commands.Command:
    db = system.engine.journal.engine
    command_id = commands.submit(db, verb, args, "test")
    await system.engine.between_jobs(CommandApplier(system.engine, config_path).apply_pending)
    answered = commands.command(db, command_id)
    assert answered is not None
    return answered


def runtime(engine: TradingEngine) -> RuntimeState:
    return commands.runtime_state(engine.journal.engine)


def an_intent(kind: IntentKind) -> Intent:
    return Intent(kind, Engine.CONDOR, StructureKind.IRON_CONDOR, (), 1, 0.0, "x", None)


# -- screening a cycle's intents (pure) ------------------------------------------------------


def test_pause_holds_back_openings_but_not_closes() -> None:
    kept, held = screen_intents(
        [an_intent(IntentKind.OPEN), an_intent(IntentKind.CLOSE)], RuntimeState(paused=True), True
    )
    assert [i.kind for i in kept] == [IntentKind.CLOSE]
    assert "paused" in held[0].reason


def test_kill_holds_back_every_intent() -> None:
    kept, held = screen_intents(
        [an_intent(IntentKind.OPEN), an_intent(IntentKind.CLOSE)], RuntimeState(killed=True), False
    )
    assert kept == [] and len(held) == 2 and "killed" in held[1].reason


def test_skip_entry_holds_back_openings_only_in_an_entry_window() -> None:
    state = RuntimeState(skip_next_entry=True)
    assert screen_intents([an_intent(IntentKind.OPEN)], state, entry=False)[0] != []
    kept, held = screen_intents([an_intent(IntentKind.OPEN)], state, entry=True)
    assert kept == [] and "skip-entry" in held[0].reason


# -- each verb on the simulated exchange -----------------------------------------------------


async def test_pause_stops_the_entry_and_resume_lets_it_open(system: SimSystem) -> None:
    paused = await send(system, CommandVerb.PAUSE)
    assert paused.status is CommandStatus.APPLIED and runtime(system.engine).paused
    await at(system, 10, 0, JobName.CONDOR_ENTRY)
    assert system.engine.journal.open_structures() == []
    resumed = await send(system, CommandVerb.RESUME)
    assert resumed.message == "resumed: cleared pause" and not runtime(system.engine).paused
    await at(system, 10, 5, JobName.CONDOR_ENTRY)
    assert len(system.engine.journal.open_structures()) == 1


async def test_skip_entry_skips_one_entry_window_only(system: SimSystem) -> None:
    assert (await send(system, CommandVerb.SKIP_ENTRY)).status is CommandStatus.APPLIED
    await at(system, 9, 45, JobName.MANAGE)  # not an entry window: the flag stays
    assert runtime(system.engine).skip_next_entry
    await at(system, 10, 0, JobName.CONDOR_ENTRY)
    assert system.engine.journal.open_structures() == []
    assert not runtime(system.engine).skip_next_entry
    await at(system, 10, 5, JobName.CONDOR_ENTRY)
    assert len(system.engine.journal.open_structures()) == 1


async def test_close_sends_a_journaled_closing_order_for_the_structure(system: SimSystem) -> None:
    condor = await open_condor(system)
    answer = await send(system, CommandVerb.CLOSE, structure_id=condor)
    assert answer.status is CommandStatus.APPLIED, answer.message
    journal = system.engine.journal
    assert journal.open_structures() == [] and await system.exchange.positions() == []
    [closing] = commands.intents_of(journal.engine, answer.id)
    assert (closing.kind, closing.status, closing.structure_id) == ("close", "filled", condor)
    assert journal.fill_count() == 8  # four legs opened, four closed
    assert f"#{condor} closed at" in answer.message


def mid_only_walks(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Make the executor's next `count` walks a single price, the mid (which the simulated
    venue does not fill: it fills a combo at the natural price), as when the market moves
    away from a walk priced from the quotes at its start."""
    left = [count]

    def walk(mid: float, natural: float, steps: int, tick: float) -> list[float]:
        prices = walk_prices(mid, natural, steps, tick)
        if left[0] > 0:
            left[0] -= 1
            return prices[:1]
        return prices

    monkeypatch.setattr(executor_module, "walk_prices", walk)


async def test_a_close_left_unfilled_by_its_walk_walks_again_from_fresh_quotes(
    system: SimSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    condor = await open_condor(system)
    mid_only_walks(monkeypatch, 1)
    answer = await send(system, CommandVerb.CLOSE, structure_id=condor)
    assert answer.status is CommandStatus.APPLIED, answer.message
    first, second = commands.intents_of(system.engine.journal.engine, answer.id)
    assert (first.status, second.status) == ("cancelled", "filled")
    assert answer.message == (
        f"#{condor}: 0 of 1 units closed, order cancelled (intent {first.id}); "
        f"then #{condor} closed at {commands.close_price(system.engine.journal.engine, condor):.2f}"
        f" (intent {second.id})"
    )
    assert system.engine.journal.open_structures() == []


async def test_a_close_unfilled_twice_fails_naming_both_walks_and_sends_no_third(
    system: SimSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    condor = await open_condor(system)
    mid_only_walks(monkeypatch, 3)
    answer = await send(system, CommandVerb.FLATTEN)
    assert answer.status is CommandStatus.FAILED
    intents = commands.intents_of(system.engine.journal.engine, answer.id)
    assert [i.status for i in intents] == ["cancelled", "cancelled"]
    assert answer.message.startswith(f"closed none; still open: #{condor} (#{condor}: 0 of 1")
    assert answer.message.count("order cancelled") == 2
    assert [s.id for s in system.engine.journal.open_structures()] == [condor]


async def test_closing_a_structure_that_is_not_open_is_rejected_with_the_open_ids(
    system: SimSystem,
) -> None:
    condor = await open_condor(system)
    answer = await send(system, CommandVerb.CLOSE, structure_id=condor + 40)
    assert answer.status is CommandStatus.REJECTED
    assert answer.message == f"structure {condor + 40} is not open (open structures: #{condor})"


async def test_flatten_closes_everything_then_pauses(system: SimSystem) -> None:
    await open_condor(system)
    answer = await send(system, CommandVerb.FLATTEN)
    assert answer.status is CommandStatus.APPLIED and answer.message.endswith("; paused")
    assert system.engine.journal.open_structures() == [] and runtime(system.engine).paused


async def test_flatten_of_the_vix_engine_leaves_the_condor_open(system: SimSystem) -> None:
    condor = await open_condor(system)
    answer = await send(system, CommandVerb.FLATTEN, engine="vix")
    assert answer.message == "no open vix structures to close; paused"
    assert [s.id for s in system.engine.journal.open_structures()] == [condor]


async def test_roll_closes_the_condor_opens_a_new_one_and_links_them(system: SimSystem) -> None:
    old = await open_condor(system)
    await at(system, 11, 0, JobName.MANAGE)
    answer = await send(system, CommandVerb.ROLL, structure_id=old)
    assert answer.status is CommandStatus.APPLIED, answer.message
    [new] = system.engine.journal.open_structures()
    [roll] = commands.rolls(system.engine.journal.engine)
    assert (roll.old_structure_id, roll.new_structure_id) == (old, new.id)
    close_price = commands.close_price(system.engine.journal.engine, old)
    assert close_price is not None
    assert roll.net_price == pytest.approx(close_price + new.open_price)
    assert f"rolled #{old} into #{new.id}" in answer.message


async def test_a_roll_with_no_condor_to_open_fails_and_says_why(system: SimSystem) -> None:
    old = await open_condor(system)
    params = system.engine.config.strategy
    condor_params = params.condor.model_copy(update={"max_open": 0})
    system.engine.config = system.engine.config.model_copy(
        update={"strategy": params.model_copy(update={"condor": condor_params})}
    )
    answer = await send(system, CommandVerb.ROLL, structure_id=old)
    assert answer.status is CommandStatus.FAILED
    assert "no new condor: 0 condors open, the limit is 0 (the old one closed)" in answer.message
    assert system.engine.journal.open_structures() == []
    assert commands.rolls(system.engine.journal.engine) == []


async def test_kill_cancels_working_orders_and_blocks_orders_until_resume(
    system: SimSystem,
) -> None:
    condor = await open_condor(system)
    put = OptionContract("SPX", "SPXW", date(2018, 2, 16), 2000, Right.PUT)
    await system.exchange.place_order(Order("manual-1", (Leg(put, Side.BUY),), 1, 0.05))
    assert [o.ref for o in await system.exchange.open_orders()] == ["manual-1"]
    killed = await send(system, CommandVerb.KILL)
    assert killed.status is CommandStatus.APPLIED and "manual-1" in killed.message
    assert await system.exchange.open_orders() == [] and runtime(system.engine).killed
    refused = await send(system, CommandVerb.CLOSE, structure_id=condor)
    assert refused.status is CommandStatus.REJECTED and "killed" in refused.message
    state = await system.exchange.order_state("manual-1")
    assert state is not None and state.status is OrderStatus.CANCELLED
    await send(system, CommandVerb.RESUME)
    assert (await send(system, CommandVerb.CLOSE, structure_id=condor)).status is (
        CommandStatus.APPLIED
    )


async def test_set_ratio_and_hedge_scale_are_stored_for_the_vix_layer(system: SimSystem) -> None:
    await send(system, CommandVerb.SET, name="ratio", value=3)
    await send(system, CommandVerb.SET, name="hedge-scale", value=0.5)
    assert (runtime(system.engine).ratio, runtime(system.engine).hedge_scale) == (3, 0.5)


async def test_an_out_of_range_value_written_by_hand_is_rejected_by_the_daemon(
    system: SimSystem,
) -> None:
    db = system.engine.journal.engine
    row = commands.CommandRow(
        created_at=datetime.now(NY), verb="set", args='{"name": "ratio", "value": 9}'
    )
    from sqlmodel import Session

    with Session(db) as session:
        session.add(row)
        session.commit()
    await system.engine.between_jobs(CommandApplier(system.engine).apply_pending)
    [answered] = commands.commands(db)
    assert answered.status is CommandStatus.REJECTED and "from 1 to 4" in answered.message
    assert runtime(system.engine).ratio is None


async def test_reload_config_applies_a_good_file_and_rejects_a_bad_one(
    system: SimSystem, tmp_path: Path
) -> None:
    path = toml_config(tmp_path, 5040.0, "[strategy.condor]\ntake_profit_pct = 0.3\n")
    answer = await send(system, CommandVerb.RELOAD_CONFIG, config_path=path)
    assert answer.status is CommandStatus.APPLIED, answer.message
    assert system.engine.config.strategy.condor.take_profit_pct == 0.3
    assert "in effect now: reports, strategy" in answer.message
    assert "restart to apply): sim" in answer.message
    path.write_text("[strategy.condor]\ntake_profit = 0.9\n")
    bad = await send(system, CommandVerb.RELOAD_CONFIG, config_path=path)
    assert bad.status is CommandStatus.REJECTED
    assert "the old config stays" in bad.message and "unknown key" in bad.message
    assert system.engine.config.strategy.condor.take_profit_pct == 0.3


async def test_reload_config_without_a_file_is_rejected(system: SimSystem) -> None:
    answer = await send(system, CommandVerb.RELOAD_CONFIG)
    assert answer.status is CommandStatus.REJECTED and "not started from a config" in answer.message


async def test_commands_are_applied_at_the_start_of_a_job_before_its_work(
    system: SimSystem,
) -> None:
    applier = CommandApplier(system.engine)
    system.engine.before_job = applier.apply_pending
    commands.submit(system.engine.journal.engine, CommandVerb.PAUSE)
    await at(system, 10, 0, JobName.CONDOR_ENTRY)
    assert system.engine.journal.open_structures() == []  # paused before the entry ran


# -- exactly once after a crash --------------------------------------------------------------


async def test_a_claimed_pause_whose_process_died_is_applied_once_on_restart(
    system: SimSystem,
) -> None:
    db = system.engine.journal.engine
    command_id = commands.submit(db, CommandVerb.PAUSE)
    assert commands.claim(db, command_id)  # ... and the process died here
    answered = await CommandApplier(system.engine).apply_pending()
    assert answered == [command_id] and runtime(system.engine).paused
    assert await CommandApplier(system.engine).apply_pending() == []


async def test_a_close_whose_order_filled_before_the_crash_is_not_sent_again(
    system: SimSystem,
) -> None:
    condor = await open_condor(system)
    db = system.engine.journal.engine
    command_id = commands.submit(db, CommandVerb.CLOSE, {"structure_id": condor})
    commands.claim(db, command_id)
    crashed = commands.command(db, command_id)
    assert crashed is not None
    # the crashed process had sent the tagged closing order, and it filled
    legs = tuple(leg.reversed() for leg in system.engine.journal.open_structures()[0].legs)
    reason = f"close condor #{condor}: operator `close {condor}` {crashed.tag}"
    closing = Intent(
        IntentKind.CLOSE, Engine.CONDOR, StructureKind.IRON_CONDOR, legs, 1, 0.0, reason, condor
    )
    await system.engine.executor.execute(closing)
    await CommandApplier(system.engine).apply_pending()
    answered = commands.command(db, command_id)
    assert answered is not None and answered.status is CommandStatus.APPLIED
    assert answered.message == f"#{condor} closed before the restart"
    assert len(commands.intents_of(db, command_id)) == 1


async def test_a_roll_interrupted_after_its_close_opens_exactly_one_new_condor(
    system: SimSystem,
) -> None:
    old = await open_condor(system)
    db = system.engine.journal.engine
    command_id = commands.submit(db, CommandVerb.ROLL, {"structure_id": old})
    commands.claim(db, command_id)
    crashed = commands.command(db, command_id)
    assert crashed is not None
    legs = tuple(leg.reversed() for leg in system.engine.journal.open_structures()[0].legs)
    reason = f"close condor #{old}: operator `roll {old}` {crashed.tag}"
    closing = Intent(
        IntentKind.CLOSE, Engine.CONDOR, StructureKind.IRON_CONDOR, legs, 1, 0.0, reason, old
    )
    await system.engine.executor.execute(closing)  # the crash came before the new condor
    for _ in range(2):  # a second pass (another restart) changes nothing
        await CommandApplier(system.engine).apply_pending()
    answered = commands.command(db, command_id)
    assert answered is not None and answered.status is CommandStatus.APPLIED, answered
    [new] = system.engine.journal.open_structures()
    assert [(r.old_structure_id, r.new_structure_id) for r in commands.rolls(db)] == [(old, new.id)]
    kinds = [i.kind for i in commands.intents_of(db, command_id)]
    assert kinds == ["close", "open"]


# -- the real daemon and the real CLI, in separate processes ---------------------------------


def alvh(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    [result] = alvh_together(config, args)
    return result


def alvh_together(
    config: Path, *commands: tuple[str, ...]
) -> list[subprocess.CompletedProcess[str]]:
    """Run several `alvh` commands at the same time, each in its own process."""
    running = [
        (
            args,
            subprocess.Popen(
                [ALVH, *args, "--config", str(config)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "COLUMNS": "200"},
            ),
        )
        for args in commands
    ]
    results = []
    for args, process in running:
        out, err = process.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(list(args), process.returncode, out, err))
    return results


def wait_until(check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"not reached within {seconds} s")


def test_the_daemon_applies_every_verb_sent_by_the_cli(tmp_path: Path) -> None:
    # an entry window every day (no macro blackout), one condor at a time: the roll's new
    # condor is the only one; the VIX layer trades too (flatten --engine vix)
    every_day = (
        '[schedule]\ncondor_entry = ["0 10 * * mon-fri"]\n'
        "[strategy.condor]\nmax_open = 1\nevent_blackout = false\n"
    )
    config = toml_config(tmp_path, 10080.0, every_day)
    url = f"sqlite:///{tmp_path / 'alvh.sqlite'}"
    early = alvh(config, "set", "ratio", "2")  # the daemon is down: applied when it starts
    assert early.returncode == 0 and "applied when the daemon starts" in early.stdout
    refused = alvh(config, "close", "99")
    assert refused.returncode == 2 and "is not open (open structures: none)" in refused.stderr
    # stderr to a file, never an unread pipe: a daemon whose console output fills the pipe's
    # 64 KiB blocks on its next log line (a slow machine runs more simulated days meanwhile)
    stderr_file = tmp_path / "daemon.stderr"
    with stderr_file.open("w") as sink:
        daemon = subprocess.Popen(
            [ALVH, "run", "--config", str(config)], stdout=subprocess.DEVNULL, stderr=sink
        )
    journal = Journal(url)
    stop_writing = threading.Event()
    written: list[int] = []

    def cli_writes() -> None:  # another writer while the daemon writes fills
        writer = Journal(url)
        while not stop_writing.is_set() or len(written) < 10:  # at least 10, however fast
            ratio = {"name": "ratio", "value": 2}  # changes nothing: only the writes count
            written.append(commands.submit(writer.engine, CommandVerb.SET, ratio, "load"))
            time.sleep(0.05)
        writer.dispose()

    try:
        first = wait_until(lambda: condors(journal), 60)[0].id
        assert runtime_of(journal).ratio == 2
        ok(alvh(config, "pause", "--wait"), "paused")
        ok(alvh(config, "close", str(first), "--wait"), f"#{first} closed at")
        ok(alvh(config, "resume", "--wait"), "resumed: cleared pause")
        loader = threading.Thread(target=cli_writes)
        loader.start()
        second = wait_until(lambda: condors(journal), 60)[0].id
        stop_writing.set()
        loader.join()
        ok(alvh(config, "roll", str(second), "--wait"), f"rolled #{second} into")
        layer = wait_until(lambda: of_engine(journal, Engine.VIX), 60)  # the 10:30 rebalance
        flatten(config, f"closed #{layer[0].id}", engine="vix")
        assert all(journal.structure_status(s.id) == "closed" for s in layer)
        ok(alvh(config, "resume", "--wait"), "resumed: cleared pause")
        third = commands.rolls(journal.engine)[-1].new_structure_id
        # the strategy may have closed the condor itself meanwhile (its short reached delta
        # 0.30 and the roll cost too much): flatten then finds nothing open, and still pauses
        flatten(config, "closed", "no open structures to close")
        assert journal.open_structures() == []  # and flatten paused: nothing opens again
        together = alvh_together(
            config,
            ("set", "hedge-scale", "1.5", "--wait"),
            ("skip-entry", "--wait"),
            ("kill", "--wait"),
            ("reload-config", "--wait"),
        )
        for result, says in zip(
            together, ("hedge scale set to 1.5", "opens nothing", "killed", "reloaded"), strict=True
        ):
            ok(result, says)
        ok(alvh(config, "resume", "--wait"), "cleared pause and kill")
        listed = alvh(config, "commands", "list", "--all")
        assert listed.returncode == 0 and "reload-config" in listed.stdout
    except BaseException as exc:  # say what the daemon was doing: a CI failure must be readable
        stop_writing.set()
        exc.add_note(daemon_story(daemon, stop(daemon, stderr_file), tmp_path / "alvh.jsonl"))
        raise
    stderr = stop(daemon, stderr_file)
    assert daemon.returncode == 0, stderr
    assert "database is locked" not in stderr
    assert all(s.id > third for s in journal.open_structures())
    states = {c.id: c.status for c in commands.commands(journal.engine)}
    assert all(states[i].is_final for i in written) and len(written) > 5
    assert [r.old_structure_id for r in commands.rolls(journal.engine)] == [second]
    final = runtime_of(journal)
    assert (final.paused, final.killed, final.ratio, final.hedge_scale) == (False, False, 2, 1.5)
    journal.dispose()


def stop(daemon: subprocess.Popen[bytes], stderr_file: Path) -> str:
    """Stop the daemon as a service manager would (SIGTERM, then SIGKILL after 30 s); return
    its stderr."""
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=30)
        said = ""
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
        said = "(did not stop within 30 s of SIGTERM: killed)\n"
    return said + stderr_file.read_text(errors="replace")


def daemon_story(daemon: subprocess.Popen[bytes], stderr: str, log_file: Path) -> str:
    """The daemon's exit code, the end of its stderr and the last events of its log."""
    events = log_file.read_text().splitlines()[-60:] if log_file.exists() else []
    return "\n".join(
        [
            f"daemon exit code: {daemon.returncode}",
            "daemon stderr (end):",
            stderr[-3000:],
            f"last {len(events)} events of {log_file.name}:",
            *(line[:400] for line in events),
        ]
    )


def of_engine(journal: Journal, engine: Engine) -> list[Structure]:
    return [s for s in journal.open_structures() if s.engine is engine]


def condors(journal: Journal) -> list[Structure]:
    return of_engine(journal, Engine.CONDOR)


def runtime_of(journal: Journal) -> RuntimeState:
    return commands.runtime_state(journal.engine)


def flatten(config: Path, *says: str, engine: str | None = None, attempts: int = 3) -> None:
    """Send `flatten` until it answers applied, saying one of `says`; a FAILED answer may
    only be an unfilled walk.

    The daemon runs on a paced clock, so the market moves between the walk's steps: a close
    whose mid and natural are one tick apart (a VIX future) can end unfilled and cancelled,
    twice (the daemon walks a close twice), and the command then honestly answers FAILED
    naming what is still open. A trader sends flatten again; so does the test, and any other
    failure fails it at once.
    """
    outputs = []
    args = ("--engine", engine) if engine else ()
    for _ in range(attempts):
        result = alvh(config, "flatten", *args, "--wait")
        outputs.append(result.stdout)
        if result.returncode == 0:
            assert any(said in "".join(outputs) for said in says), outputs
            return
        assert "still open" in result.stdout and "order cancelled" in result.stdout, (
            result.stdout + result.stderr
        )
    raise AssertionError(f"flatten left structures open {attempts} times: {outputs}")


def ok(result: subprocess.CompletedProcess[str], says: str) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert says in result.stdout, result.stdout
