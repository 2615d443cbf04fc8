"""TWS wire framing: length-prefixed NUL-separated text fields, both directions.

Outgoing: u32 big-endian length, then the fields joined by NUL with a trailing NUL. The
handshake reply is the same frame with exactly two fields (version, connection time) and no
message id. Incoming after the "API\\0" prefix: the same frames. Values are text: an empty
field means "default"; IB's unset double and unset int are sent as the literals below.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

Fields = list[str]

UNSET_DOUBLE = "1.7976931348623157E308"
UNSET_INTEGER = "2147483647"
_UNSET_FLOAT_VALUE = float(UNSET_DOUBLE)
_LENGTH = struct.Struct(">I")


def frame(fields: Sequence[str]) -> bytes:
    """Return one framed message: length prefix, NUL-joined fields, trailing NUL."""
    payload = ("\0".join(fields) + "\0").encode()
    return _LENGTH.pack(len(payload)) + payload


def unpack_length(prefix: bytes) -> int:
    """Return the payload length carried by a 4-byte prefix."""
    return int(_LENGTH.unpack(prefix)[0])


def split_payload(payload: bytes) -> Fields:
    """Return the text fields of one message payload (the trailing NUL dropped)."""
    fields = payload.decode(errors="backslashreplace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


def num(value: float, digits: int = 10) -> str:
    """Format a finite number compactly (no float noise, integers without '.0')."""
    if not math.isfinite(value):
        raise ValueError(f"cannot send {value} as a number")
    rounded = round(value, digits)
    if rounded == int(rounded) and abs(rounded) < 1e15:
        return str(int(rounded))
    return f"{rounded:.{digits}f}".rstrip("0").rstrip(".")


def num_or(value: float, missing: str, digits: int = 10) -> str:
    """Format a number, or return `missing` when it is NaN or infinite."""
    return num(value, digits) if math.isfinite(value) else missing


def flag(value: bool) -> str:
    return "1" if value else "0"


class FieldReader:
    """Reads the fields of one incoming message in order, with IB's defaults for blanks."""

    def __init__(self, fields: Sequence[str], start: int = 0) -> None:
        self._fields = list(fields)
        self._pos = start

    @property
    def remaining(self) -> int:
        return len(self._fields) - self._pos

    def text(self) -> str:
        """Return the next field as text ("" once the message is exhausted)."""
        if self._pos >= len(self._fields):
            self._pos += 1
            return ""
        value = self._fields[self._pos]
        self._pos += 1
        return value

    def integer(self, default: int = 0) -> int:
        value = self.text().strip()
        if not value:
            return default
        return int(float(value))

    def number(self, default: float = math.nan) -> float:
        """Return the next field as a float; blank or IB's unset double gives `default`."""
        value = self.text().strip()
        if not value:
            return default
        if value == "Infinite":
            return math.inf
        parsed = float(value)
        return default if parsed == _UNSET_FLOAT_VALUE else parsed

    def boolean(self) -> bool:
        value = self.text().strip()
        return value not in ("", "0", "false", "False")

    def skip(self, count: int = 1) -> None:
        self._pos += count
