"""Config errors as users see them from `alvh config check`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.config import AppConfig, load_config

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def check(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "my.toml"
    path.write_text(text)
    result = runner.invoke(app, ["config", "check", str(path)])
    return result.exit_code, result.output


def test_default_config_is_ok() -> None:
    result = runner.invoke(app, ["config", "check", str(ROOT / "config/default.toml")])
    assert result.exit_code == 0
    assert result.output.strip() == "ok"


def test_unknown_key_names_file_key_and_valid_keys(tmp_path: Path) -> None:
    code, out = check(tmp_path, "[strategy.condor]\nshort_dleta = 0.2\n")
    assert code == 2
    assert "my.toml: strategy.condor.short_dleta: unknown key" in out
    assert "short_delta" in out  # the valid keys are listed


def test_wrong_type_names_key_value_and_expectation(tmp_path: Path) -> None:
    code, out = check(tmp_path, '[strategy.condor]\nmax_open = "three"\n')
    assert code == 2
    assert "strategy.condor.max_open = 'three': expected a valid integer" in out


def test_out_of_range_value_names_the_bound(tmp_path: Path) -> None:
    code, out = check(tmp_path, "[strategy.condor]\nshort_delta = 1.6\n")
    assert code == 2
    assert "strategy.condor.short_delta = 1.6: expected less than 0.5" in out


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    code, out = check(tmp_path, "[sim]\nspeed = -1\n[strategy.risk]\nmax_contracts_per_order = 0\n")
    assert code == 2
    assert "sim.speed = -1" in out and "strategy.risk.max_contracts_per_order = 0" in out


def test_inconsistent_values_are_refused(tmp_path: Path) -> None:
    code, out = check(tmp_path, "[strategy.condor]\nshort_delta = 0.04\n")
    assert code == 2
    assert "wing_delta must be smaller than short_delta" in out


def test_bad_crontab_names_the_job(tmp_path: Path) -> None:
    code, out = check(tmp_path, '[schedule]\nmanage = ["61 * * * *"]\n')
    assert code == 2
    assert "schedule.manage" in out and "not a crontab expression" in out


def test_live_account_id_for_the_simulator_is_refused(tmp_path: Path) -> None:
    code, out = check(tmp_path, '[sim]\naccount_id = "U1234567"\n')
    assert code == 2
    assert "sim.account_id = 'U1234567'" in out


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    code, out = check(tmp_path, "[sim\n")
    assert code == 2
    assert "my.toml: not valid TOML" in out


def test_missing_file_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_replay_outside_the_history_says_which_days_exist(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "replay",
            "--start",
            "2020-01-02",
            "--end",
            "2020-02-01",
            "--config",
            str(ROOT / "config/default.toml"),
            "--db",
            str(tmp_path / "r.sqlite"),
        ],
    )
    assert result.exit_code == 2
    assert "cannot replay" in result.output and "1999-01-04..2018-12-31" in result.output
    assert "Traceback" not in result.output


def test_a_bad_user_csv_names_the_file_line_and_column(tmp_path: Path) -> None:
    spx = tmp_path / "spx.csv"
    spx.write_text(
        "date,open,high,low,close\n2018-01-02,2683.7,2695.9,2682.4,2695.8\n"
        "2018-01-03,2697.9,oops,2697.8,2713.1\n"
    )
    config = tmp_path / "c.toml"
    config.write_text(f'[sim.data]\nspx_csv = "{spx}"\n')
    result = runner.invoke(
        app,
        [
            "replay",
            "--start",
            "2018-01-02",
            "--end",
            "2018-01-03",
            "--config",
            str(config),
            "--db",
            str(tmp_path / "r.sqlite"),
        ],
    )
    assert result.exit_code == 2
    assert "spx.csv" in result.output and "line 3" in result.output
    assert "high" in result.output and "Traceback" not in result.output


def test_an_unknown_verb_is_named_with_the_choices() -> None:
    result = runner.invoke(app, ["pase"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "'pase'" in text and "pause" in text and "flatten" in text and "reload-config" in text
    nested = runner.invoke(app, ["commands", "purge"])
    assert nested.exit_code == 2 and "list, cancel" in " ".join(nested.output.split())


def test_default_toml_states_the_built_in_defaults() -> None:
    """A config file takes the built-in defaults for the keys it leaves out (ib-paper.toml says
    so): they must be the values config/default.toml shows the user."""
    assert load_config(ROOT / "config/default.toml") == AppConfig()


def test_the_ib_paper_example_loads_as_an_ib_paper_config() -> None:
    config = load_config(ROOT / "config/ib-paper.toml")
    assert config.account.broker == "ib"
    assert config.account.allow_live is False
    assert config.ib.port in (4002, 7497)
    assert config.strategy == AppConfig().strategy  # the rest is the defaults
