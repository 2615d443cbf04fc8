"""The client library under the IB end-to-end suite: one per environment, never both.

ib_async (in .venv) and ib_insync 0.9.86 (in .venv-insync, `make test-ib-insync`) install
conflicting `eventkit` packages (aeventkit and eventkit both provide the top-level `eventkit`),
so a venv holding both would silently run one library on the other's event kit.
"""

from __future__ import annotations

import importlib.util
import tomllib
from importlib import metadata
from pathlib import Path

from broker.ib import ib_api

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).with_name("requirements-insync.txt")
EVENTKIT_OF = {"ib_async": "aeventkit", "ib_insync": "eventkit"}
INSYNC = "ib_insync==0.9.86"


def installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def requirement_lines() -> list[str]:
    lines = REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_one_ib_library_per_environment_with_its_own_eventkit() -> None:
    importable = {name for name in EVENTKIT_OF if importlib.util.find_spec(name) is not None}
    assert importable == {ib_api.LIBRARY}
    assert type(ib_api.IB()).__module__.split(".")[0] == ib_api.LIBRARY
    kits = {kit for kit in EVENTKIT_OF.values() if installed(kit)}
    assert kits == {EVENTKIT_OF[ib_api.LIBRARY]}


def test_insync_requirements_are_the_runtime_dependencies_but_ib_async() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [d for d in project["dependencies"] if not d.lower().startswith("ib_async")]
    tools = [
        d
        for d in project["optional-dependencies"]["dev"]
        if d.split(">")[0] in ("pytest", "pytest-asyncio", "hypothesis")
    ]
    assert requirement_lines() == [*runtime, INSYNC, *tools]
