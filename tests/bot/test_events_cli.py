"""`alvh events list` and `alvh events add` on a temporary copy of the macro events file."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import events_cli
from bot.cli import app
from broker.calendar import NY
from strategies.signals.macro_calendar import parse_macro_events

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "macro_events.csv"
runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def events_csv(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_bytes(SHIPPED.read_bytes())
    return path


@pytest.fixture
def config(tmp_path: Path, events_csv: Path) -> Path:
    path = tmp_path / "alvh.toml"
    path.write_text(f'[calendar]\nevents_csv = "{events_csv}"\n', encoding="utf-8")
    return path


def alvh(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["events", *args])
    return result.exit_code, result.output


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# --------------------------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------------------------


def test_list_shows_the_window_with_the_blacked_out_days(config: Path) -> None:
    code, out = alvh("list", "--from", "2024-03-01", "--days", "31", "--config", str(config))
    assert code == 0, out
    rows = [line for line in out.splitlines() if "2024-03-" in line and "│" in line]
    cells = [[cell.strip() for cell in row.split("│")[1:-1]] for row in rows]
    assert cells == [
        ["2024-03-12", "Tue", "CPI", "08:30", "agreed-by-several-lists", "Mon 03-11, Tue 03-12"],
        ["2024-03-14", "Thu", "PPI", "08:30", "third-party-copy", "Wed 03-13, Thu 03-14"],
        ["2024-03-20", "Wed", "FOMC", "14:00", "secondary-copy", "Tue 03-19, Wed 03-20"],
    ]
    assert "3 of 214 events" in out


def test_list_window_end_is_exclusive(config: Path) -> None:
    code, out = alvh("list", "--from", "2024-03-12", "--days", "2", "--config", str(config))
    assert code == 0, out
    assert "2024-03-12" in out and "2024-03-14" not in out
    assert "1 of 214 events" in out


def test_list_all_shows_every_event(config: Path) -> None:
    code, out = alvh("list", "--all", "--config", str(config))
    assert code == 0, out
    assert "214 of 214 events" in out
    assert "2014-01-16" in out and "2027-12-10" in out


def test_list_marks_the_friday_before_a_saturday_event(config: Path, events_csv: Path) -> None:
    events_csv.write_text(
        "date,event,time_et,status,source\n2024-03-09,FOMC,14:00,test,test\n", encoding="utf-8"
    )
    code, out = alvh("list", "--from", "2024-03-01", "--config", str(config))
    assert code == 0, out
    assert "Fri 03-08" in out and "Mon 03-11" not in out


def test_list_says_when_an_event_is_beyond_the_trading_calendar(
    config: Path, events_csv: Path
) -> None:
    events_csv.write_text(
        "date,event,time_et,status,source\n2031-01-15,CPI,08:30,test,test\n", encoding="utf-8"
    )
    code, out = alvh("list", "--all", "--config", str(config))
    assert code == 0, out
    assert "outside the trading calendar" in out


def test_list_defaults_to_today_in_new_york(config: Path, events_csv: Path) -> None:
    soon = datetime.now(NY).date() + timedelta(days=3)
    events_csv.write_text(
        f"date,event,time_et,status,source\n{soon.isoformat()},CPI,08:30,test,test\n",
        encoding="utf-8",
    )
    code, out = alvh("list", "--config", str(config))
    assert code == 0, out
    assert soon.isoformat() in out and "1 of 1 events" in out


def test_list_with_a_bad_from_names_the_option(config: Path) -> None:
    code, out = alvh("list", "--from", "03/01/2024", "--config", str(config))
    assert code == 2
    assert "--from" in out and "'03/01/2024' is not a date (expected YYYY-MM-DD)" in out


def test_list_of_a_broken_file_names_the_line(config: Path, events_csv: Path) -> None:
    events_csv.write_text("date,event,time_et,status,source\n2024-03-12,GDP,08:30,x,y\n")
    code, out = alvh("list", "--all", "--config", str(config))
    assert code == 2
    assert "line 2, column event: unknown event 'GDP'" in " ".join(out.split())


# --------------------------------------------------------------------------------------------
# add
# --------------------------------------------------------------------------------------------


def test_add_inserts_the_row_in_date_order_and_keeps_every_other_row(
    config: Path, events_csv: Path
) -> None:
    before = lines(events_csv)
    code, out = alvh("add", "2024-03-13", "PPI", "--source", "my broker", "--config", str(config))
    assert code == 0, out
    assert "added PPI on Wed 2024-03-13 at 08:30 ET" in out
    after = lines(events_csv)
    new_row = "2024-03-13,PPI,08:30,user-added,my broker"
    assert after.index(new_row) == before.index(
        "2024-03-14,PPI,08:30,third-party-copy,"
        + ("US Bureau of Labor Statistics release schedule (copies)")
    )
    assert [line for line in after if line != new_row] == before
    assert after[0] == "date,event,time_et,status,source"


def test_add_on_a_day_with_an_event_goes_after_it(config: Path, events_csv: Path) -> None:
    code, out = alvh("add", "2024-03-12", "FOMC", "--config", str(config))
    assert code == 0, out
    after = lines(events_csv)
    cpi = next(i for i, line in enumerate(after) if line.startswith("2024-03-12,CPI"))
    assert after[cpi + 1] == "2024-03-12,FOMC,14:00,user-added,alvh events add"


def test_add_keeps_status_and_quotes_a_source_with_a_comma(config: Path, events_csv: Path) -> None:
    code, out = alvh(
        "add", "2028-01-12", "cpi", "--time", "08:30", "--status", "bls-schedule",
        "--source", "BLS, 2028 schedule", "--config", str(config),
    )  # fmt: skip
    assert code == 0, out
    assert lines(events_csv)[-1] == '2028-01-12,CPI,08:30,bls-schedule,"BLS, 2028 schedule"'
    event = parse_macro_events(events_csv.read_text(encoding="utf-8"))[-1]
    assert (event.kind, event.status, event.source) == ("CPI", "bls-schedule", "BLS, 2028 schedule")


def test_added_event_shows_in_the_list_with_its_blackout(config: Path) -> None:
    assert alvh("add", "2028-01-12", "PPI", "--config", str(config))[0] == 0
    code, out = alvh("list", "--from", "2028-01-01", "--config", str(config))
    assert code == 0, out
    assert "2028-01-12" in out and "Tue 01-11, Wed 01-12" in out


@pytest.mark.parametrize("bad", ["2024-13-01", "2024-3-5", "tomorrow", "2024-02-30"])
def test_add_with_a_bad_date_names_the_argument_and_writes_nothing(
    config: Path, events_csv: Path, bad: str
) -> None:
    before = events_csv.read_bytes()
    code, out = alvh("add", bad, "CPI", "--config", str(config))
    assert code == 2
    assert "DATE" in out and f"'{bad}' is not a date (expected YYYY-MM-DD)" in out
    assert events_csv.read_bytes() == before


def test_add_with_a_bad_kind_lists_the_choices_and_writes_nothing(
    config: Path, events_csv: Path
) -> None:
    before = events_csv.read_bytes()
    code, out = alvh("add", "2024-05-01", "GDP", "--config", str(config))
    assert code == 2
    assert "KIND" in out and "'GDP' is not an event kind (choices: CPI, FOMC, PPI)" in out
    assert events_csv.read_bytes() == before


@pytest.mark.parametrize("bad", ["8:30", "24:00", "08:60", "noon"])
def test_add_with_a_bad_time_names_the_option(config: Path, events_csv: Path, bad: str) -> None:
    before = events_csv.read_bytes()
    code, out = alvh("add", "2024-05-01", "CPI", "--time", bad, "--config", str(config))
    assert code == 2
    assert "--time" in out and f"'{bad}' is not a time (expected HH:MM)" in out
    assert events_csv.read_bytes() == before


def test_add_a_duplicate_kind_and_date_is_refused(config: Path, events_csv: Path) -> None:
    before = events_csv.read_bytes()
    code, out = alvh("add", "2024-03-12", "CPI", "--time", "10:00", "--config", str(config))
    assert code == 2
    assert f"{events_csv} already has CPI on 2024-03-12: nothing written" in " ".join(out.split())
    assert events_csv.read_bytes() == before


def test_add_to_a_broken_file_refuses_and_keeps_it(config: Path, events_csv: Path) -> None:
    broken = "date,event,time_et,status,source\n2024-03-12,CPI,8h30,x,y\n"
    events_csv.write_text(broken, encoding="utf-8")
    code, out = alvh("add", "2024-05-01", "CPI", "--config", str(config))
    assert code == 2
    assert "line 2, column time_et" in " ".join(out.split())
    assert events_csv.read_text(encoding="utf-8") == broken


def test_add_to_a_missing_file_refuses(config: Path, events_csv: Path) -> None:
    events_csv.unlink()
    code, out = alvh("add", "2024-05-01", "CPI", "--config", str(config))
    assert code == 2
    assert "cannot read the events file" in out
    assert not events_csv.exists()


def test_a_failed_write_leaves_the_file_and_no_temporary(
    config: Path, events_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = events_csv.read_bytes()

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    result = runner.invoke(app, ["events", "add", "2024-05-01", "CPI", "--config", str(config)])
    assert result.exit_code != 0
    assert events_csv.read_bytes() == before
    assert sorted(p.name for p in events_csv.parent.iterdir()) == ["alvh.toml", "events.csv"]


def test_with_row_keeps_extra_columns_and_a_bom() -> None:
    text = "\ufeffdate,event,time_et,status,source,note\n2024-03-12,CPI,08:30,s,src,hi\n"
    row = {"date": "2024-03-01", "event": "PPI", "time_et": "08:30", "status": "a", "source": "b"}
    assert events_cli.with_row(text, row) == (
        "\ufeffdate,event,time_et,status,source,note\n"
        "2024-03-01,PPI,08:30,a,b,\n"
        "2024-03-12,CPI,08:30,s,src,hi\n"
    )


# --------------------------------------------------------------------------------------------
# The command group
# --------------------------------------------------------------------------------------------


def test_unknown_events_command_lists_the_choices() -> None:
    code, out = alvh("remove")
    assert code == 2
    assert "The choices are: list, add." in " ".join(out.split())


def test_bad_config_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[calendar]\nevents = 'x'\n", encoding="utf-8")
    code, out = alvh("list", "--config", str(bad))
    assert code == 2
    assert "calendar.events: unknown key" in out
