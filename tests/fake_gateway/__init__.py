"""A fake IB Gateway speaking the TWS wire protocol, backed by the simulated exchange.

Tests run the real ib_async (or ib_insync) client over loopback against it. Start one with
`port = await FakeGateway(exchange).start()`; see server.py for the knobs.
"""

from .knobs import OrderDisconnect
from .server import FakeGateway

__all__ = ["FakeGateway", "OrderDisconnect"]
