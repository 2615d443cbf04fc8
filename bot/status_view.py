"""`alvh status`: whether a daemon runs, and what the journal says the bot holds, as rich tables.

The daemon line comes from the journal's daemon lock (storage.daemon_lock): the holder's pid,
host and heartbeat age on the wall clock, or "daemon not running" when no row is there or the
row is stale (its pid is gone from this host, or its heartbeat is older than the staleness).
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from broker.calendar import NY
from broker.contracts import OptionContract
from broker.structures import Structure
from storage import daemon_lock
from storage.daemon_lock import DEFAULT_STALENESS, LockHolder
from storage.journal import Journal


def unrealized_pnl(structure: Structure, mark: float) -> float:
    """Return the P&L of holding `structure` if it were valued at `mark` per unit."""
    return (mark - structure.open_price) * structure.multiplier * structure.quantity


def daemon_line(
    holder: LockHolder | None,
    now: datetime,
    *,
    host: str,
    staleness: timedelta = DEFAULT_STALENESS,
) -> str:
    """Return the daemon's pid and heartbeat age, or say that no daemon runs."""
    if holder is None:
        return "daemon not running"
    why = daemon_lock.stale_reason(holder, now=now, host=host, pid=os.getpid(), staleness=staleness)
    if why is not None:
        return (
            f"daemon not running (a stale lock names pid {holder.pid} on {holder.host}: {why}; "
            "the next `alvh run` takes it over)"
        )
    return f"daemon running: {holder.describe(now)}"


def render_status(journal: Journal, console: Console, now: datetime | None = None) -> None:
    """Print whether a daemon runs, open structures with legs and P&L, then the last fills."""
    holder = daemon_lock.current_holder(journal.engine)
    line = daemon_line(holder, now or datetime.now(UTC), host=socket.gethostname())
    console.print(line, soft_wrap=True, highlight=False)
    structures = journal.open_structures()
    marks = journal.open_marks()
    table = Table(title=f"Open structures ({len(structures)})")
    for column in (
        "id",
        "engine",
        "kind",
        "qty",
        "opened",
        "open price",
        "legs",
        "mark",
        "unrealized P&L",
        "marked at",
    ):
        table.add_column(column)
    for s in structures:
        mark = marks.get(s.id)
        table.add_row(
            str(s.id),
            s.engine.value,
            s.kind.value,
            str(s.quantity),
            _ts(s.opened_at),
            f"{s.open_price:+.2f}",
            "\n".join(_leg(leg.side.value, leg.contract) for leg in s.legs),
            f"{mark[0]:+.2f}" if mark else "-",
            f"{unrealized_pnl(s, mark[0]):+,.0f}" if mark else "-",
            _ts(mark[1]) if mark else "-",
        )
    console.print(table)
    fills = Table(title="Last fills")
    for column in ("time", "order ref", "exec id", "side", "qty", "contract", "price", "comm."):
        fills.add_column(column)
    for f in journal.last_fills(10):
        fills.add_row(
            _ts(f.time),
            f.order_ref,
            f.exec_id,
            f.side.value,
            str(f.quantity),
            f.contract.key,
            f"{f.price:.2f}",
            f"{f.commission:.2f}",
        )
    console.print(fills)
    counts = journal.structure_counts()
    console.print(
        f"structures opened {counts.get('opened', 0)}, closed {counts.get('closed', 0)}; "
        f"realized P&L {journal.realized_pnl():+,.2f}; fills {journal.fill_count()}"
    )


def _leg(side: str, contract: object) -> str:
    if isinstance(contract, OptionContract):
        return f"{side:<4} {contract.key}"
    return f"{side} {contract}"


def _ts(value: datetime) -> str:
    return value.astimezone(NY).strftime("%Y-%m-%d %H:%M ET")
