"""Never trade live by accident: paper accounts (DU...) and paper ports only, unless both the
config and the command line opt in."""

from __future__ import annotations

from broker.errors import LiveTradingRefused

LIVE_PORTS = frozenset({7496, 4001})  # TWS live, IB Gateway live
PAPER_PREFIX = "DU"


def ensure_paper(
    account_id: str, port: int | None, allow_live_config: bool, allow_live_cli: bool
) -> None:
    """Raise LiveTradingRefused for a live account or port without the double opt-in."""
    live_account = not account_id.startswith(PAPER_PREFIX)
    live_port = port in LIVE_PORTS
    if not (live_account or live_port):
        return
    if allow_live_config and allow_live_cli:
        return
    reasons = []
    if live_account:
        reasons.append(f"account {account_id!r} is not a paper account (paper ids start with DU)")
    if live_port:
        reasons.append(
            f"port {port} is a live trading port (paper: 4002 for IB Gateway, 7497 for TWS)"
        )
    what = " and ".join(reasons)
    raise LiveTradingRefused(
        f"refusing to trade: {what}. Live trading needs `allow_live = true` under [account] "
        "in the config AND `--allow-live` on the command line."
    )
