"""user_data.py and DailyHistory.from_sources: user CSVs replace the built-in series."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from broker.errors import AlvhError
from broker.sim.history import DailyHistory
from broker.sim.user_data import (
    DataFileError,
    read_breadth_csv,
    read_futures_csv,
    read_spx_csv,
    read_vix_csv,
)

Reader = Callable[[Path], object]

SPX_HEADER = "date,open,high,low,close\n"
VIX_HEADER = "date,close\n"
BREADTH_HEADER = "date,advances,declines\n"
FUTURES_HEADER = "date,expiry,settle\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def arch_history() -> DailyHistory:
    return DailyHistory.from_arch()


# ---- readers: good files -------------------------------------------------------------


def test_spx_header_case_extra_columns_bom_and_blank_lines(tmp_path: Path) -> None:
    text = (
        "\ufeffDate, Close ,Open,HIGH,low,Volume\n"
        "2020-01-02,101.0,100.0,102.0,99.0,123\n"
        "\n"
        "2020-01-03,100.0,101.0,101.5,99.5,456\n"
        "\n"
    )
    frame = read_spx_csv(_write(tmp_path, "spx.csv", text))
    assert list(frame.columns) == ["open", "high", "low", "close"]
    assert frame.index.tolist() == [np.datetime64("2020-01-02"), np.datetime64("2020-01-03")]
    assert frame.loc["2020-01-03", "close"] == 100.0
    assert frame.loc["2020-01-02", "high"] == 102.0


def test_vix_breadth_and_futures_read(tmp_path: Path) -> None:
    vix = read_vix_csv(_write(tmp_path, "vix.csv", VIX_HEADER + "2020-01-02,12.5\n"))
    assert vix.iloc[0] == 12.5
    breadth = read_breadth_csv(
        _write(tmp_path, "b.csv", BREADTH_HEADER + "2020-01-02,1800,1100.0\n2020-01-03,0,5\n")
    )
    assert breadth["declines"].tolist() == [1100, 5] and breadth["advances"].dtype == np.int64
    futures = read_futures_csv(
        _write(
            tmp_path,
            "fut.csv",
            FUTURES_HEADER
            + "2020-01-02,2020-01-22,13.1\n"
            + "2020-01-02,2020-02-19,14.2\n"
            + "2020-01-03,2020-01-22,13.9\n",
        )
    )
    assert futures == {
        date(2020, 1, 2): {date(2020, 1, 22): 13.1, date(2020, 2, 19): 14.2},
        date(2020, 1, 3): {date(2020, 1, 22): 13.9},
    }


# ---- readers: every error names the file, the line and the column ------------------------

SPX_OK = "2020-01-02,100,102,99,101\n"
# fmt: off
CASES: list[tuple[str, Reader, str, int | None, str | None, str]] = [
    ("spx.csv", read_spx_csv, "date,open,high,low\n" + SPX_OK, 1, "close",
     "spx.csv: line 1: missing column 'close'"),
    ("spx.csv", read_spx_csv, "", 1, None, "empty file"),
    ("spx.csv", read_spx_csv, "\n\n", 1, None, "empty file"),
    ("spx.csv", read_spx_csv, SPX_HEADER, 2, None, "no data rows"),
    ("spx.csv", read_spx_csv, SPX_HEADER + SPX_OK + "2020-01-03,100,abc,99,101\n", 3, "high",
     "line 3: column 'high': not a number: 'abc'"),
    ("spx.csv", read_spx_csv, SPX_HEADER + "2020-01-02,100,102,99,0\n", 2, "close",
     "must be positive"),
    ("spx.csv", read_spx_csv, SPX_HEADER + "2020-01-02,-5,102,99,101\n", 2, "open",
     "must be positive"),
    ("spx.csv", read_spx_csv, SPX_HEADER + "2020-01-02,100,nan,99,101\n", 2, "high",
     "not a finite number"),
    ("spx.csv", read_spx_csv, SPX_HEADER + "2020-01-02,100,102,99,\n", 2, "close", "empty value"),
    ("spx.csv", read_spx_csv, SPX_HEADER + "2020-01-02,100,102,99\n", 2, "close", "empty value"),
    ("spx.csv", read_spx_csv, SPX_HEADER + "2020/01/02,100,102,99,101\n", 2, "date", "bad date"),
    ("spx.csv", read_spx_csv, SPX_HEADER + "2020-02-30,100,102,99,101\n", 2, "date", "bad date"),
    ("spx.csv", read_spx_csv, SPX_HEADER + "20200102,100,102,99,101\n", 2, "date", "bad date"),
    ("spx.csv", read_spx_csv, SPX_HEADER + SPX_OK + "2020-01-01,100,102,99,101\n", 3, "date",
     "before 2020-01-02 on line 2"),
    ("spx.csv", read_spx_csv, SPX_HEADER + SPX_OK + "\n" + SPX_OK, 4, "date",
     "duplicate date 2020-01-02 (also on line 2)"),
    ("spx.csv", read_spx_csv, SPX_HEADER + "2020-01-02,100,98,99,101\n", 2, "high",
     "high 98 is below low 99"),
    ("spx.csv", read_spx_csv, "date,open,high,low,close,Close\n" + SPX_OK, 1, "close",
     "appears twice"),
    ("vix.csv", read_vix_csv, "date,settle\n2020-01-02,12\n", 1, "close",
     "vix.csv: line 1: missing column 'close'"),
    ("vix.csv", read_vix_csv, VIX_HEADER + "2020-01-02,12\n2020-01-03,x\n", 3, "close",
     "not a number"),
    ("vix.csv", read_vix_csv, VIX_HEADER + "2020-01-03,12\n2020-01-02,13\n", 3, "date",
     "dates must ascend"),
    ("b.csv", read_breadth_csv, "date,advances\n2020-01-02,5\n", 1, "declines",
     "missing column 'declines'"),
    ("b.csv", read_breadth_csv, BREADTH_HEADER + "2020-01-02,-1,5\n", 2, "advances",
     "must not be negative"),
    ("b.csv", read_breadth_csv, BREADTH_HEADER + "2020-01-02,1,2.5\n", 2, "declines",
     "not a whole number"),
    ("b.csv", read_breadth_csv, BREADTH_HEADER + "2020-01-02,0,0\n", 2, "advances",
     "both zero"),
    ("fut.csv", read_futures_csv, "date,expiry\n2020-01-02,2020-01-22\n", 1, "settle",
     "missing column 'settle'"),
    ("fut.csv", read_futures_csv,
     FUTURES_HEADER + "2020-01-02,2020-01-22,13\n2020-01-02,2020-01-22,14\n", 3, "expiry",
     "duplicate (date, expiry) (2020-01-02, 2020-01-22) (also on line 2)"),
    ("fut.csv", read_futures_csv,
     FUTURES_HEADER + "2020-01-03,2020-01-22,13\n2020-01-02,2020-02-19,14\n", 3, "date",
     "dates must ascend"),
    ("fut.csv", read_futures_csv, FUTURES_HEADER + "2020-01-23,2020-01-22,13\n", 2, "expiry",
     "before date"),
    ("fut.csv", read_futures_csv, FUTURES_HEADER + "2020-01-02,2020-01-22,0\n", 2, "settle",
     "must be positive"),
    ("fut.csv", read_futures_csv, FUTURES_HEADER + "2020-01-02,Jan-2020,13\n", 2, "expiry",
     "bad date"),
]
# fmt: on


@pytest.mark.parametrize(("name", "reader", "text", "line", "column", "fragment"), CASES)
def test_bad_file_names_file_line_and_column(
    tmp_path: Path,
    name: str,
    reader: Reader,
    text: str,
    line: int | None,
    column: str | None,
    fragment: str,
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(DataFileError) as info:
        reader(path)
    err = info.value
    assert isinstance(err, AlvhError)
    assert (err.path, err.line, err.column) == (str(path), line, column)
    message = str(err)
    assert message.startswith(f"{path}: line {line}: ")
    assert fragment in message
    if column is not None:
        assert f"'{column}'" in message


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"nope\.csv: file not found"):
        read_vix_csv(tmp_path / "nope.csv")
    with pytest.raises(DataFileError, match="cannot read"):
        read_vix_csv(tmp_path)


def test_non_utf8_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "vix.csv"
    path.write_bytes(b"date,close\n2020-01-02,\xff\xfe12\n")
    with pytest.raises(DataFileError, match=r"vix\.csv: not UTF-8"):
        read_vix_csv(path)


# ---- DailyHistory.from_sources ----------------------------------------------------------


def _spx_csv_of(tmp_path: Path, hist: DailyHistory, days: list[date], name: str) -> Path:
    lines = [SPX_HEADER.strip()]
    for d in days:
        b = hist.bar(d)
        lines.append(f"{d},{b.open!r},{b.high!r},{b.low!r},{b.close!r}")
    return _write(tmp_path, name, "\n".join(lines) + "\n")


def _vix_csv_of(tmp_path: Path, hist: DailyHistory, days: list[date], name: str) -> Path:
    lines = [VIX_HEADER.strip()] + [f"{d},{hist.bar(d).vix_close!r}" for d in days]
    return _write(tmp_path, name, "\n".join(lines) + "\n")


def test_no_files_is_the_built_in_history(arch_history: DailyHistory) -> None:
    built_in = DailyHistory.from_sources(start=date(2018, 1, 1))
    assert built_in.first_day == date(2018, 1, 2)
    assert built_in.bar(date(2018, 6, 1)) == arch_history.bar(date(2018, 6, 1))
    assert built_in.breadth_source == "synthetic"


def test_user_spx_of_the_same_data_rebuilds_the_same_bars(
    tmp_path: Path, arch_history: DailyHistory
) -> None:
    # An independent second build (CSV parse, GARCH fit, breadth) gives identical bars.
    path = _spx_csv_of(tmp_path, arch_history, arch_history.days(), "spx.csv")
    rebuilt = DailyHistory.from_sources(spx_csv=path)
    assert rebuilt.days() == arch_history.days()
    assert all(rebuilt.bar(d) == arch_history.bar(d) for d in arch_history.days())
    assert rebuilt.first_real_vix_day == date(2014, 1, 3)
    assert rebuilt.breadth_source == "synthetic"


def test_user_spx_and_vix_replace_the_built_in_series(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    closes = 3000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 30)))
    days = [date(2020, 1, 2 + i) for i in range(30)]
    spx_lines = [SPX_HEADER.strip()] + [
        f"{d},{c:.2f},{c * 1.01:.2f},{c * 0.99:.2f},{c:.2f}"
        for d, c in zip(days, closes, strict=True)
    ]
    spx = _write(tmp_path, "spx.csv", "\n".join(spx_lines) + "\n")
    vix = _write(
        tmp_path, "vix.csv", VIX_HEADER + "".join(f"{d},{20 + i}\n" for i, d in enumerate(days))
    )
    hist = DailyHistory.from_sources(spx_csv=spx, vix_csv=vix, start=date(2020, 1, 5))
    assert hist.first_day == date(2020, 1, 5) and hist.last_day == date(2020, 1, 31)
    assert hist.bar(date(2020, 1, 5)).close == pytest.approx(closes[3], abs=0.005)
    assert hist.bar(date(2020, 1, 5)).vix_close == 23.0
    assert hist.bar(date(2020, 1, 5)).prev_vix_close == 22.0
    assert hist.vix_proxy_fit is None and hist.first_real_vix_day == date(2020, 1, 2)
    assert all(hist.vix_source(d) == "real" for d in hist.days())
    assert hist.breadth_source == "synthetic"


def test_late_user_vix_is_extended_back_with_the_proxy(
    tmp_path: Path, arch_history: DailyHistory
) -> None:
    late = [d for d in arch_history.days() if d >= date(2016, 1, 1)]
    vix = _vix_csv_of(tmp_path, arch_history, late, "vix.csv")
    hist = DailyHistory.from_sources(vix_csv=vix)
    assert hist.first_day == date(1999, 1, 4)
    assert hist.first_real_vix_day == date(2016, 1, 4)
    assert hist.vix_source(date(2015, 12, 31)) == "proxy"
    assert hist.vix_source(date(2016, 1, 4)) == "real"
    fit = hist.vix_proxy_fit
    assert fit is not None and fit.overlap == (date(2016, 1, 4), date(2018, 12, 31))
    assert fit.in_sample.r2 > 0.7
    assert hist.bar(date(2018, 12, 31)) == arch_history.bar(date(2018, 12, 31))


def test_vix_that_barely_overlaps_spx_is_refused(
    tmp_path: Path, arch_history: DailyHistory
) -> None:
    vix = _vix_csv_of(tmp_path, arch_history, arch_history.days()[-5:], "vix.csv")
    with pytest.raises(DataFileError, match=r"vix\.csv: cannot build the VIX proxy"):
        DailyHistory.from_sources(vix_csv=vix)


def test_user_breadth_replaces_the_synthetic_one(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "breadth.csv",
        BREADTH_HEADER + "2018-12-27,2000,900\n2018-12-31,1200,1700\n2019-01-02,1,1\n",
    )
    hist = DailyHistory.from_sources(breadth_csv=path, start=date(2018, 12, 1))
    assert hist.breadth_source == str(path)
    days, adv, dec = hist.breadth(date(2018, 12, 31), 3)
    assert days == [date(2018, 12, 27), date(2018, 12, 28), date(2018, 12, 31)]
    assert adv[0] == 2000 and dec[0] == 900
    assert np.isnan(adv[1]) and np.isnan(dec[1])  # the file lacks 2018-12-28
    assert (hist.bar(date(2018, 12, 31)).advances, hist.bar(date(2018, 12, 31)).declines) == (
        1200,
        1700,
    )
    assert hist.bar(date(2018, 12, 28)).advances == 0


def test_user_futures_settles_by_day(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "fut.csv",
        FUTURES_HEADER + "2018-12-31,2019-01-16,25.1\n2018-12-31,2019-02-13,24.3\n",
    )
    hist = DailyHistory.from_sources(futures_csv=path, start=date(2018, 12, 1))
    settles = hist.futures_settles(date(2018, 12, 31))
    assert settles == {date(2019, 1, 16): 25.1, date(2019, 2, 13): 24.3}
    assert settles is not None
    settles[date(2019, 1, 16)] = 0.0  # a copy: the history is unchanged
    assert hist.futures_settles(date(2018, 12, 31)) == {
        date(2019, 1, 16): 25.1,
        date(2019, 2, 13): 24.3,
    }
    assert hist.futures_settles(date(2018, 12, 28)) is None


def test_a_bad_user_file_stops_the_build(tmp_path: Path) -> None:
    spx = _write(tmp_path, "spx.csv", "date,open,high,low\n2020-01-02,1,2,1\n")
    with pytest.raises(DataFileError, match=r"spx\.csv: line 1: missing column 'close'"):
        DailyHistory.from_sources(spx_csv=spx)
