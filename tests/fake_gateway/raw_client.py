"""A bare TWS API client for tests that check bytes and fields the libraries hide."""

from __future__ import annotations

import asyncio
import contextlib

from .wire import Fields, frame, split_payload, unpack_length


class RawClient:
    """Speaks the framing only: the handshake offer, then framed messages both ways."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, port: int, offer: str = "v157..178") -> RawClient:
        """Connect and send "API\\0" plus the version offer (not NUL-terminated)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        payload = offer.encode()
        writer.write(b"API\0" + len(payload).to_bytes(4, "big") + payload)
        return cls(reader, writer)

    def send(self, *fields: str) -> None:
        self._writer.write(frame(fields))

    async def read(self, timeout: float = 2.0) -> Fields:
        """Return the next message's fields."""
        length = unpack_length(await asyncio.wait_for(self._reader.readexactly(4), timeout))
        payload = await asyncio.wait_for(self._reader.readexactly(length), timeout)
        return split_payload(payload)

    async def read_until(self, msg_id: str, timeout: float = 2.0) -> Fields:
        """Return the next message with this id, skipping the others."""
        while True:
            fields = await self.read(timeout)
            if fields and fields[0] == msg_id:
                return fields

    async def at_eof(self, timeout: float = 2.0) -> bool:
        """Return True when the gateway closed the socket (after any pending messages)."""
        try:
            while await asyncio.wait_for(self._reader.read(65536), timeout):
                pass
        except (ConnectionError, TimeoutError):
            return False
        return True

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
