"""The pure core stays pure: strategies/ never imports I/O or outer layers."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = (
    "ib_async",
    "ib_insync",
    "sqlmodel",
    "sqlalchemy",
    "bot",
    "storage",
    "broker.ib",
    "broker.sim",
    "apscheduler",
    "structlog",
    "asyncio",
    "typer",
    "rich",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def forbidden_imports(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN):
                found.append(f"{path.relative_to(package)} imports {name}")
    return found


def test_strategies_import_no_io_or_outer_layer() -> None:
    assert forbidden_imports(ROOT / "strategies") == []


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import sqlmodel\nfrom bot.engine import TradingEngine\n")
    (tmp_path / "ok.py").write_text("import numpy\nfrom broker.pricing import bs_price\n")
    found = forbidden_imports(tmp_path)
    assert len(found) == 2 and all("bad.py" in line for line in found)


def test_broker_does_not_depend_on_bot_storage_or_strategies() -> None:
    for path in sorted((ROOT / "broker").rglob("*.py")):
        for name in imported_modules(path):
            assert name.split(".")[0] not in {"bot", "storage", "strategies"}, (path, name)
