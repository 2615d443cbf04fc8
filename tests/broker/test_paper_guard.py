"""The paper guard on its own: every combination of account, port and the two opt-ins."""

from __future__ import annotations

import pytest

from broker.errors import LiveTradingRefused
from broker.paper_guard import ensure_paper

OPT_IN = (
    "Live trading needs `allow_live = true` under [account] in the config AND `--allow-live` on "
    "the command line."
)
NOT_PAPER = "account 'U1234567' is not a paper account (paper ids start with DU)"


@pytest.mark.parametrize("port", [4002, 7497, None])  # IB Gateway paper, TWS paper, simulator
def test_a_paper_account_on_a_paper_port_needs_no_opt_in(port: int | None) -> None:
    ensure_paper("DU1234567", port, allow_live_config=False, allow_live_cli=False)


@pytest.mark.parametrize(
    ("config", "cli"), [(False, False), (True, False), (False, True)], ids=["none", "config", "cli"]
)
def test_a_live_account_is_refused_without_both_opt_ins(config: bool, cli: bool) -> None:
    with pytest.raises(LiveTradingRefused) as refused:
        ensure_paper("U1234567", 4002, allow_live_config=config, allow_live_cli=cli)
    assert str(refused.value) == f"refusing to trade: {NOT_PAPER}. {OPT_IN}"


@pytest.mark.parametrize("port", [4001, 7496])
@pytest.mark.parametrize(
    ("config", "cli"), [(False, False), (True, False), (False, True)], ids=["none", "config", "cli"]
)
def test_a_live_port_is_refused_even_for_a_paper_account(
    port: int, config: bool, cli: bool
) -> None:
    with pytest.raises(LiveTradingRefused) as refused:
        ensure_paper("DU1234567", port, allow_live_config=config, allow_live_cli=cli)
    message = str(refused.value)
    assert message.startswith(f"refusing to trade: port {port} is a live trading port")
    assert "(paper: 4002 for IB Gateway, 7497 for TWS)" in message
    assert "not a paper account" not in message
    assert message.endswith(OPT_IN)


def test_a_live_account_on_a_live_port_names_both() -> None:
    with pytest.raises(LiveTradingRefused) as refused:
        ensure_paper("U1234567", 4001, allow_live_config=False, allow_live_cli=False)
    message = str(refused.value)
    assert f"{NOT_PAPER} and port 4001 is a live trading port" in message
    assert message.endswith(OPT_IN)


@pytest.mark.parametrize(("account", "port"), [("U1234567", 4002), ("DU1234567", 4001)])
def test_both_opt_ins_let_live_trading_through(account: str, port: int) -> None:
    ensure_paper(account, port, allow_live_config=True, allow_live_cli=True)


@pytest.mark.parametrize("account", ["", "du1234567", "XDU123", " DU1234567"])
def test_only_an_id_that_starts_with_du_is_paper(account: str) -> None:
    with pytest.raises(LiveTradingRefused, match="is not a paper account"):
        ensure_paper(account, 4002, allow_live_config=False, allow_live_cli=False)
