"""The Interactive Brokers venue: the Broker protocol on IB Gateway or TWS.

- settings.py      `IbSettings`, the `[ib]` config section (no IB import: cheap to load)
- ib_api.py        the only import of the IB library (ib_async, else ib_insync 0.9.86)
- mapping.py       pure translation between domain types and IB objects
- local_greeks.py  greeks from broker.pricing when IB sends none
- session.py       `IbSession`: connect, reconnect, IB's error messages, request wrappers
- contract_cache.py `ContractCache`: contracts qualified once, an order's contract
- market_data.py   `IbMarketData`: snapshot quotes, local greeks, daily bars
- listings.py      `IbListings`: option expiries and strikes, futures listed
- orders.py        `IbOrders`: orders and executions
- account.py       `IbAccount`: balances, positions, what-if margin
- adapter.py       `IbBroker`, the Broker protocol as a facade over the above

This package imports nothing at load time, so reading `IbSettings` never imports ib_async.
"""
