"""Table output shared by the benchmark scripts (rich when installed, else plain text)."""

from __future__ import annotations


def print_table(title: str, header: list[str], rows: list[list[str]], note: str = "") -> None:
    """Print a table with rich when available, else as plain aligned text."""
    print(f"\n{title}")
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        print("  ".join("-" * w for w in widths))
        for r in rows:
            print("  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)))
    else:
        table = Table()
        for h in header:
            table.add_column(h)
        for r in rows:
            table.add_row(*r)
        Console(width=160).print(table)
    if note:
        print(note)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"
