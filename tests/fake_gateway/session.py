"""One client connection: handshake, version negotiation, reading requests, sending replies.

The client opens with "API\\0" and a length-prefixed "v<min>..<max>" (maybe " +PACEAPI");
the session announces min(client max, gateway version), as TWS does, so ib_insync (up to
176) and ib_async (up to 178) each get a version they decode. Every request is recorded,
then the knobs may close the socket or drop the reply or delay it; otherwise its handler runs
under the gateway lock, followed by a report of any order activity it caused. A handler
that fails is logged and the connection goes on; an unknown message id is logged and ignored.
"""

from __future__ import annotations

import asyncio
import logging
import re

from broker.calendar import NY

from .core import GatewayCore, Received
from .dispatch import HANDLERS
from .executions import report_activity
from .messages import handshake
from .ticks import Subscription
from .wire import FieldReader, Fields, frame, split_payload, unpack_length

log = logging.getLogger("fake_gateway")
API_PREFIX = b"API\0"
_VERSIONS = re.compile(r"v(\d+)(?:\.\.(\d+))?")


def negotiate(offer: str, server_version: int) -> int:
    """Return the version to announce for a client's "v<min>..<max>" offer."""
    match = _VERSIONS.search(offer)
    if not match:
        return server_version
    high = int(match.group(2) or match.group(1))
    return min(high, server_version)


class Session:
    """A connected client (implements tests.fake_gateway.core.Client)."""

    def __init__(
        self, core: GatewayCore, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.core = core
        self.client_id: int | None = None
        self.version = core.server_version
        self.market_data_type = 1
        self.subscriptions: dict[int, Subscription] = {}
        self.wants_positions = False
        self.wants_account = False
        self._reader = reader
        self._writer = writer
        self._closed = False

    @property
    def is_open(self) -> bool:
        return not self._closed and not self._writer.is_closing()

    def send(self, fields: Fields) -> None:
        if self.is_open:
            self._writer.write(frame(fields))

    def close(self) -> None:
        """Close the socket (what was written is still delivered first)."""
        self._closed = True
        self._writer.close()

    async def run(self) -> None:
        """Serve the client until it leaves or the gateway closes the socket."""
        try:
            await self._handshake()
            while self.is_open:
                length = unpack_length(await self._reader.readexactly(4))
                await self._handle(split_payload(await self._reader.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self.close()

    async def _handshake(self) -> None:
        if await self._reader.readexactly(len(API_PREFIX)) != API_PREFIX:
            raise ValueError("not a TWS API client")
        length = unpack_length(await self._reader.readexactly(4))
        offer = (await self._reader.readexactly(length)).decode(errors="replace")
        self.version = negotiate(offer, self.core.server_version)
        stamp = self.core.now().astimezone(NY).strftime("%Y%m%d %H:%M:%S %Z")
        self.send(handshake(self.version, stamp))

    async def _handle(self, fields: list[str]) -> None:
        try:
            msg_id = int(fields[0])
        except (IndexError, ValueError):
            log.warning("fake gateway: unreadable message %r ignored", fields)
            return
        self.core.received.append(Received(self.client_id, msg_id, tuple(fields), self.version))
        knobs = self.core.knobs
        if knobs.take_disconnect(msg_id):
            self.close()
            return
        if knobs.take_drop(msg_id):
            return
        delay = knobs.delay_for(msg_id)
        if delay > 0:
            await asyncio.sleep(delay)
        handler = HANDLERS.get(msg_id)
        if handler is None:
            log.warning("fake gateway: message id %d is not supported, ignored", msg_id)
            return
        async with self.core.lock:
            try:
                await handler(self.core, self, FieldReader(fields, 1))
                await report_activity(self.core)
            except Exception:
                log.exception("fake gateway: request %r failed", fields)
