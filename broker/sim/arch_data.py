"""Read the example data files shipped with the ``arch`` package without importing ``arch``.

``import arch.data.sp500`` runs ``arch/__init__``, which loads scipy.stats, statsmodels,
matplotlib and arch's model machinery: about 100 MB of resident memory for a daemon that only
needs two small CSV files. Here the files are located with ``importlib.util.find_spec("arch")``
(which finds the package's folder without executing it) and parsed exactly as arch's own
``arch.data.utility.load_file`` does (arch 6 to 8):

* ``pandas.read_csv`` with default options;
* a ``Date`` column, when present, converted with ``pandas.to_datetime`` and made the index;
* every other column coerced with ``pandas.to_numeric(errors="coerce")``, so the ``.`` that the
  VIX file writes on holidays becomes NaN (rows are kept, as arch keeps them).

The result equals ``arch.data.<name>.load()`` (a test checks it against the installed arch).
The installed distribution's version comes from its metadata, again without importing it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

import pandas as pd

ARCH_PACKAGE = "arch"
SP500_FILE = Path("data") / "sp500" / "sp500.csv.gz"
VIX_FILE = Path("data") / "vix" / "vix.csv.gz"


def arch_package_dir() -> Path:
    """Return the folder of the installed ``arch`` package (found, not imported).

    Raises ModuleNotFoundError when arch is not installed.
    """
    spec = importlib.util.find_spec(ARCH_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {ARCH_PACKAGE!r} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def arch_version() -> str:
    """Return the installed arch distribution's version (from its metadata)."""
    return importlib.metadata.version(ARCH_PACKAGE)


def read_arch_csv(path: Path) -> pd.DataFrame:
    """Parse one of arch's ``.csv.gz`` data files as ``arch.data.utility.load_file`` does."""
    data = pd.read_csv(path)
    if "Date" in data:
        data["Date"] = pd.to_datetime(data["Date"])
        data = data.set_index("Date")
    for column in data:
        data[column] = pd.to_numeric(data[column], errors="coerce")
    return data


def load_sp500() -> pd.DataFrame:
    """Return arch's S&P 500 daily OHLC, Adj Close and Volume, indexed by Date."""
    return read_arch_csv(arch_package_dir() / SP500_FILE)


def load_vix() -> pd.DataFrame:
    """Return arch's VIX daily closes (column ``vix``), indexed by Date; holidays are NaN."""
    return read_arch_csv(arch_package_dir() / VIX_FILE)
