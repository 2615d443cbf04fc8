"""User CSV files that replace the simulator's built-in series, checked line by line.

Formats (UTF-8, comma-separated, one header line; header names are case-insensitive and
extra columns are ignored; dates are ISO ``YYYY-MM-DD``; blank lines are skipped):

* SPX: ``date, open, high, low, close``, one row per trading day, dates strictly ascending.
* VIX: ``date, close``, one row per day, dates strictly ascending.
* Breadth: ``date, advances, declines``, counts of NYSE issues (non-negative integers, not
  both zero), one row per day, dates strictly ascending.
* VIX futures: ``date, expiry, settle``, one row per day and listed expiry, dates ascending
  (several rows per date), no duplicate (date, expiry), expiry not before date.

Prices must be finite and positive; an SPX row's high must not be below its low (an open or
close outside [low, high] is repaired later by the history, as for the built-in data).
Any problem raises one ``DataFileError`` naming the file, the 1-based line (the header is
line 1) and the column, e.g. ``spx.csv: line 1: missing column 'close'``. The csv module reads
the files, so line numbers are the physical lines of the text.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd

from broker.errors import AlvhError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

SPX_COLUMNS = ("date", "open", "high", "low", "close")
VIX_COLUMNS = ("date", "close")
BREADTH_COLUMNS = ("date", "advances", "declines")
FUTURES_COLUMNS = ("date", "expiry", "settle")

Row = dict[str, str]


class DataFileError(AlvhError):
    """A user data file is unreadable or invalid: the simulator refuses to start and says where."""

    def __init__(
        self, path: str | Path, line: int | None, column: str | None, problem: str
    ) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.problem = problem
        where = [self.path]
        if line is not None:
            where.append(f"line {line}")
        if column is not None and f"'{column}'" not in problem:
            where.append(f"column '{column}'")
        super().__init__(": ".join([*where, problem]))


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, Row]]:
    """Yield (line number, {column: raw text}) for each data row, header checked first."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            while header is not None and not any(cell.strip() for cell in header):
                header = next(reader, None)
            if header is None:
                raise DataFileError(path, 1, None, "empty file (expected a header line)")
            names = [cell.strip().lower() for cell in header]
            header_line = reader.line_num
            for column in columns:
                if column not in names:
                    raise DataFileError(path, header_line, column, f"missing column '{column}'")
                if names.count(column) > 1:
                    raise DataFileError(path, header_line, column, "column appears twice")
            index = {column: names.index(column) for column in columns}
            seen_rows = False
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                seen_rows = True
                values = {
                    column: cells[i].strip() if i < len(cells) else ""
                    for column, i in index.items()
                }
                yield reader.line_num, values
            if not seen_rows:
                raise DataFileError(path, header_line + 1, None, "no data rows after the header")
    except FileNotFoundError:
        raise DataFileError(path, None, None, "file not found") from None
    except UnicodeDecodeError:
        raise DataFileError(path, None, None, "not UTF-8 text") from None
    except csv.Error as exc:
        raise DataFileError(path, None, None, f"malformed CSV ({exc})") from None
    except OSError as exc:
        raise DataFileError(path, None, None, f"cannot read ({exc.strerror})") from None


def _date(path: Path, line: int, column: str, raw: str) -> date:
    """Parse an ISO YYYY-MM-DD date or raise naming the cell."""
    if not raw:
        raise DataFileError(path, line, column, "empty value")
    try:
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise DataFileError(path, line, column, f"bad date {raw!r} (expected YYYY-MM-DD)") from None


def _positive(path: Path, line: int, column: str, raw: str) -> float:
    """Parse a finite positive number or raise naming the cell."""
    if not raw:
        raise DataFileError(path, line, column, "empty value")
    try:
        value = float(raw)
    except ValueError:
        raise DataFileError(path, line, column, f"not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise DataFileError(path, line, column, f"not a finite number: {raw!r}")
    if value <= 0.0:
        raise DataFileError(path, line, column, f"must be positive, got {raw}")
    return value


def _count(path: Path, line: int, column: str, raw: str) -> int:
    """Parse a non-negative integer count (``12`` or ``12.0``) or raise naming the cell."""
    if not raw:
        raise DataFileError(path, line, column, "empty value")
    try:
        value = float(raw)
    except ValueError:
        raise DataFileError(path, line, column, f"not a number: {raw!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise DataFileError(path, line, column, f"not a whole number: {raw!r}")
    if value < 0:
        raise DataFileError(path, line, column, f"must not be negative, got {raw}")
    return int(value)


class _AscendingDates:
    """Check that each row's date comes strictly after the previous row's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.last: tuple[date, int] | None = None

    def check(self, line: int, day: date) -> None:
        """Raise on a duplicate or out-of-order date."""
        if self.last is not None:
            before, before_line = self.last
            if day == before:
                raise DataFileError(
                    self.path, line, "date", f"duplicate date {day} (also on line {before_line})"
                )
            if day < before:
                raise DataFileError(
                    self.path,
                    line,
                    "date",
                    f"date {day} is before {before} on line {before_line} (dates must ascend)",
                )
        self.last = (day, line)


def _index(days: list[date]) -> pd.DatetimeIndex:
    """Return a DatetimeIndex named date."""
    return pd.DatetimeIndex(pd.to_datetime(days), name="date")


def read_spx_csv(path: str | Path) -> pd.DataFrame:
    """Read SPX daily bars: a date-indexed frame with float columns open, high, low, close."""
    file = Path(path)
    order = _AscendingDates(file)
    days: list[date] = []
    rows: list[tuple[float, float, float, float]] = []
    for line, row in _rows(file, SPX_COLUMNS):
        day = _date(file, line, "date", row["date"])
        o, h, lo, c = (_positive(file, line, col, row[col]) for col in SPX_COLUMNS[1:])
        if h < lo:
            raise DataFileError(file, line, "high", f"high {row['high']} is below low {row['low']}")
        order.check(line, day)
        days.append(day)
        rows.append((o, h, lo, c))
    return pd.DataFrame(rows, index=_index(days), columns=list(SPX_COLUMNS[1:]))


def read_vix_csv(path: str | Path) -> pd.Series:
    """Read VIX daily closes: a date-indexed float series named close."""
    file = Path(path)
    order = _AscendingDates(file)
    days: list[date] = []
    closes: list[float] = []
    for line, row in _rows(file, VIX_COLUMNS):
        day = _date(file, line, "date", row["date"])
        closes.append(_positive(file, line, "close", row["close"]))
        order.check(line, day)
        days.append(day)
    return pd.Series(closes, index=_index(days), name="close", dtype="float64")


def read_breadth_csv(path: str | Path) -> pd.DataFrame:
    """Read NYSE breadth: a date-indexed frame with int64 columns advances, declines."""
    file = Path(path)
    order = _AscendingDates(file)
    days: list[date] = []
    rows: list[tuple[int, int]] = []
    for line, row in _rows(file, BREADTH_COLUMNS):
        day = _date(file, line, "date", row["date"])
        advances = _count(file, line, "advances", row["advances"])
        declines = _count(file, line, "declines", row["declines"])
        if advances + declines == 0:
            raise DataFileError(file, line, "advances", "advances and declines are both zero")
        order.check(line, day)
        days.append(day)
        rows.append((advances, declines))
    frame = pd.DataFrame(rows, index=_index(days), columns=["advances", "declines"])
    return frame.astype("int64")


def read_futures_csv(path: str | Path) -> dict[date, dict[date, float]]:
    """Read VIX futures settlements: {day: {expiry: settle}}, days ascending."""
    file = Path(path)
    out: dict[date, dict[date, float]] = {}
    first_line: dict[tuple[date, date], int] = {}
    last: tuple[date, int] | None = None
    for line, row in _rows(file, FUTURES_COLUMNS):
        day = _date(file, line, "date", row["date"])
        expiry = _date(file, line, "expiry", row["expiry"])
        settle = _positive(file, line, "settle", row["settle"])
        if last is not None and day < last[0]:
            raise DataFileError(
                file,
                line,
                "date",
                f"date {day} is before {last[0]} on line {last[1]} (dates must ascend)",
            )
        if (day, expiry) in first_line:
            raise DataFileError(
                file,
                line,
                "expiry",
                f"duplicate (date, expiry) ({day}, {expiry}) (also on line "
                f"{first_line[day, expiry]})",
            )
        if expiry < day:
            raise DataFileError(file, line, "expiry", f"expiry {expiry} is before date {day}")
        first_line[day, expiry] = line
        last = (day, line)
        out.setdefault(day, {})[expiry] = settle
    return out
