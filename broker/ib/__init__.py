"""The Interactive Brokers venue: the Broker protocol on IB Gateway or TWS.

- settings.py      `IbSettings`, the `[ib]` config section (no IB import: cheap to load)
- ib_api.py        the only import of the IB library (ib_async, else ib_insync 0.9.86)
- mapping.py       pure translation between domain types and IB objects
- local_greeks.py  greeks from broker.pricing when IB sends none
- adapter.py       `IbBroker`, the I/O

This package imports nothing at load time, so reading `IbSettings` never imports ib_async.
"""
