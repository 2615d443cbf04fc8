"""The one place that imports the IB client library: ib_async, else ib_insync 0.9.86.

Both expose the same names with the same behaviour for what the adapter uses; the adapter and
the mapping import IB names from here only. Type checking always sees ib_async (the two
libraries' conflicting `eventkit` packages keep them in separate environments).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ib_async import (
        IB,
        AccountValue,
        BarData,
        ComboLeg,
        CommissionReport,
        Contract,
        ContractDetails,
        Execution,
        ExecutionFilter,
        Fill,
        Future,
        Index,
        LimitOrder,
        Option,
        OptionChain,
        OptionComputation,
        Order,
        OrderState,
        OrderStatus,
        Position,
        Ticker,
        Trade,
        TradeLogEntry,
    )

    LIBRARY = "ib_async"
else:  # at run time: whichever library is installed, with the names listed in __all__
    import importlib

    try:
        _library = importlib.import_module("ib_async")
    except ImportError:  # pragma: no cover - exercised in the ib_insync environment
        _library = importlib.import_module("ib_insync")
    LIBRARY = _library.__name__

# IB's "no value" markers: UNSET_DOUBLE on the wire, -1/-2 in option computations.
UNSET_DOUBLE = 1.7976931348623157e308

_OWN_NAMES = frozenset({"LIBRARY", "UNSET_DOUBLE"})

__all__ = [
    "IB",
    "LIBRARY",
    "UNSET_DOUBLE",
    "AccountValue",
    "BarData",
    "ComboLeg",
    "CommissionReport",
    "Contract",
    "ContractDetails",
    "Execution",
    "ExecutionFilter",
    "Fill",
    "Future",
    "Index",
    "LimitOrder",
    "Option",
    "OptionChain",
    "OptionComputation",
    "Order",
    "OrderState",
    "OrderStatus",
    "Position",
    "Ticker",
    "Trade",
    "TradeLogEntry",
]

if not TYPE_CHECKING:
    globals().update({name: getattr(_library, name) for name in __all__ if name not in _OWN_NAMES})
