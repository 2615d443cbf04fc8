"""structlog set-up: readable console lines on stderr and JSON lines in a file.

The JSON-lines file rotates at midnight UTC: `alvh.jsonl` is today's, `alvh.jsonl.YYYY-MM-DD`
the earlier days', and files older than `keep_days` are deleted.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

import structlog
from structlog.typing import Processor

SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def setup_logging(
    level: str, json_path: str | None, console: bool = True, keep_days: int = 30
) -> None:
    """Route structlog and stdlib logging to the console and to a daily JSON-lines file."""
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    if console:
        to_console = logging.StreamHandler(sys.stderr)
        to_console.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
                ],
                foreign_pre_chain=SHARED,
            )
        )
        root.addHandler(to_console)
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.handlers.TimedRotatingFileHandler(
            json_path, when="midnight", utc=True, backupCount=keep_days, encoding="utf-8"
        )
        to_file.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.dict_tracebacks,
                    structlog.processors.JSONRenderer(),
                ],
                foreign_pre_chain=SHARED,
            )
        )
        root.addHandler(to_file)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
