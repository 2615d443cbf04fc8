"""How a test tells that a client library could not decode a message of the fake gateway.

ib_async and ib_insync decoders catch their own exceptions: a message with a wrong layout is
logged ("Error handling fields: ..." or "Error for <method>(...)") and dropped, so the test
would only time out. Tests assert that no such record was logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

CLIENT_LOGGERS = ("ib_async", "ib_insync")
LAYOUT_ERRORS = ("Error handling fields", "Error for ")


def layout_errors(records: Iterable[logging.LogRecord]) -> list[str]:
    """Return the client log lines that say a message could not be decoded."""
    return [
        record.getMessage()
        for record in records
        if record.name.split(".")[0] in CLIENT_LOGGERS
        and any(marker in record.getMessage() for marker in LAYOUT_ERRORS)
    ]
