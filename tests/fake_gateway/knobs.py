"""Test knobs: what the fake gateway does wrong on purpose, armed by a test.

One-shot knobs (a dropped reply, a disconnect) fire once and disarm; rejects are armed for a
number of new orders (or for every one); the delays and the market-data subscription flag stay
until changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class OrderDisconnect(StrEnum):
    """Where the next placeOrder loses its client connection."""

    BEFORE_VENUE = "before_venue"  # received, then the socket closes: the venue never sees it
    BEFORE_ACK = "before_ack"  # the venue has it (and may have filled it); no reply was sent
    AFTER_ACK = "after_ack"  # openOrder and orderStatus sent; the executions are not


@dataclass
class Knobs:
    """The armed faults (mutable: tests arm them through FakeGateway's methods)."""

    live_data_subscribed: bool = True
    reject_reason: str | None = None
    reject_status: str = "Inactive"
    rejects_left: int | None = 0  # new orders still to refuse; None: every one
    order_disconnect: OrderDisconnect | None = None
    drops: Counter[int] = field(default_factory=Counter)
    disconnects: Counter[int] = field(default_factory=Counter)
    delays: dict[int | None, float] = field(default_factory=dict)

    def take_drop(self, msg_id: int) -> bool:
        """Return True (once per arming) when this request must go unanswered."""
        if self.drops[msg_id] > 0:
            self.drops[msg_id] -= 1
            return True
        return False

    def take_disconnect(self, msg_id: int) -> bool:
        """Return True (once per arming) when this request must close the connection."""
        if self.disconnects[msg_id] > 0:
            self.disconnects[msg_id] -= 1
            return True
        return False

    def delay_for(self, msg_id: int) -> float:
        """Return the wall seconds to wait before answering this request."""
        return self.delays.get(msg_id, self.delays.get(None, 0.0))

    def take_reject(self) -> tuple[str, str] | None:
        """Return (reason, final status) while new orders must be refused."""
        if self.reject_reason is None:
            return None
        armed = (self.reject_reason, self.reject_status)
        if self.rejects_left is not None:
            self.rejects_left -= 1
            if self.rejects_left <= 0:
                self.reject_reason, self.reject_status, self.rejects_left = None, "Inactive", 0
        return armed

    def take_order_disconnect(self) -> OrderDisconnect | None:
        point, self.order_disconnect = self.order_disconnect, None
        return point
