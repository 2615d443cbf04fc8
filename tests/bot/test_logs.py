"""The JSON-lines log rotates daily and keeps a bounded number of days."""

from __future__ import annotations

import json
import logging
import logging.handlers
from pathlib import Path

import structlog

from bot.logs import setup_logging


def test_json_log_rotates_at_midnight_and_keeps_the_configured_days(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "alvh.jsonl"
    setup_logging("INFO", str(path), console=False, keep_days=3)
    try:
        [handler] = [
            h
            for h in logging.getLogger().handlers
            if isinstance(h, logging.handlers.TimedRotatingFileHandler)
        ]
        assert handler.when == "MIDNIGHT" and handler.utc and handler.backupCount == 3
        structlog.get_logger("t").info("before", intent_id=7)
        handler.doRollover()
        structlog.get_logger("t").info("after", intent_id=8)
        handler.flush()
        rotated = [p for p in path.parent.iterdir() if p.name.startswith("alvh.jsonl.")]
        assert len(rotated) == 1
        assert json.loads(rotated[0].read_text().splitlines()[0])["event"] == "before"
        [line] = path.read_text().splitlines()
        assert json.loads(line)["intent_id"] == 8
    finally:
        setup_logging("INFO", None, console=False)
