"""`alvh status`: what the journal says the bot holds, rendered as rich tables."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.table import Table

from broker.calendar import NY
from broker.contracts import OptionContract
from broker.structures import Structure
from storage.journal import Journal


def unrealized_pnl(structure: Structure, mark: float) -> float:
    """Return the P&L of holding `structure` if it were valued at `mark` per unit."""
    return (mark - structure.open_price) * structure.multiplier * structure.quantity


def render_status(journal: Journal, console: Console) -> None:
    """Print open structures with legs and unrealized P&L, then the last fills."""
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
