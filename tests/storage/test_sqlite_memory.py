"""Every journal connection bounds SQLite's page cache and maps no file into memory, and keeps
the durability pragmas; an in-memory journal keeps all its rows whatever the cache size."""

from __future__ import annotations

import _sqlite3
import ctypes
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.journal import Journal

PAGE_CACHE_KIB = 512


def sqlite_heap_bytes() -> int:
    used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    used.restype = ctypes.c_int64
    return int(used())


def pragmas(journal: Journal) -> dict[str, object]:
    names = ("cache_size", "mmap_size", "journal_mode", "foreign_keys", "busy_timeout")
    with journal.engine.connect() as connection:
        values = {n: connection.execute(text(f"PRAGMA {n}")).scalar() for n in names}
        values["synchronous"] = connection.execute(text("PRAGMA synchronous")).scalar()
    return values


def test_a_file_journal_connection_has_a_bounded_cache_and_the_durability_pragmas(
    tmp_path: Path,
) -> None:
    journal = Journal(f"sqlite:///{tmp_path / 'journal.sqlite'}")
    try:
        assert pragmas(journal) == {
            "cache_size": -PAGE_CACHE_KIB,  # negative: KiB, not pages
            "mmap_size": 0,
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 5000,
            "synchronous": 1,  # NORMAL
        }
    finally:
        journal.dispose()


def test_reading_a_large_journal_file_leaves_at_most_the_bounded_cache_behind(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    journal = Journal(url)
    with journal.engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (body TEXT)"))
        connection.execute(
            text("INSERT INTO filler VALUES (:body)"),
            [{"body": f"{n:04d}" * 1000} for n in range(4000)],  # about 16 MB of pages
        )
    journal.dispose()
    reader = Journal(url)
    try:
        with reader.engine.connect() as connection:
            before = sqlite_heap_bytes()
            total = connection.execute(text("SELECT sum(length(body)) FROM filler")).scalar()
            grown = sqlite_heap_bytes() - before
        assert total == 4000 * 4000
        assert grown < 2 * PAGE_CACHE_KIB * 1024  # the default cache would keep 2,000 KiB
    finally:
        reader.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_journal_keeps_every_row_beyond_the_cache_size(url: str) -> None:
    journal = Journal(url)
    try:
        with journal.engine.begin() as connection:
            connection.execute(text("CREATE TABLE filler (body TEXT)"))
            connection.execute(
                text("INSERT INTO filler VALUES (:body)"),
                [{"body": f"{n:04d}" * 1000} for n in range(1000)],  # 4 MB > 512 KiB
            )
        with journal.engine.connect() as connection:
            count = connection.execute(text("SELECT count(DISTINCT body) FROM filler")).scalar()
        assert count == 1000
    finally:
        journal.dispose()
