"""The committed locks are what every install takes (`make demo`, `make test`, `.ci/run`), so they must
say the same as pyproject.toml: every declared dependency pinned within its range, nothing pinned as
a direct dependency that pyproject.toml no longer declares, every pin hashed, and the production lock
and the development lock agreeing on every package they share. When this fails, `make lock` brings
the locks back in line (and is the one way to move to newer releases)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
DEV = [Requirement(r) for r in PROJECT["optional-dependencies"]["dev"]]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


class Pin:
    def __init__(self, name: str, version: str) -> None:
        self.name, self.version = canonicalize_name(name), Version(version)
        self.hashes: list[str] = []
        self.via: list[str] = []


def read_lock(name: str) -> dict[str, Pin]:
    """Each pinned package of a pip-compile'd lock, with its hashes and what it is there for."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for line in (REPO / name).read_text().splitlines():
        found = _PIN.match(line)
        if found:
            current = Pin(*found.groups())
            pins[current.name] = current
        elif current is not None and line.strip().startswith("--hash="):
            current.hashes.append(line.strip().removeprefix("--hash=").rstrip(" \\"))
        elif current is not None and line.strip().startswith("#"):
            current.via.append(line.strip("# \t").removeprefix("via").strip())
    return pins


@pytest.mark.parametrize(("lock", "declared"), [("requirements.lock", RUNTIME),
                                                 ("requirements-dev.lock", RUNTIME + DEV)])
def test_every_declared_dependency_is_pinned_within_its_range_and_nothing_else_is_direct(lock, declared):
    pins = read_lock(lock)
    for requirement in declared:
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{lock} does not pin {requirement.name}: run `make lock`"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{lock} pins {pin.name}=={pin.version}, outside {requirement}: run `make lock`")
    direct = {name for name, pin in pins.items() if "orderhub (pyproject.toml)" in pin.via}
    assert direct == {canonicalize_name(r.name) for r in declared}, "run `make lock`"


def test_every_pin_carries_hashes_and_both_locks_agree():
    runtime, dev = read_lock("requirements.lock"), read_lock("requirements-dev.lock")
    for lock in (runtime, dev):
        assert all(pin.hashes and all(h.startswith("sha256:") for h in pin.hashes) for pin in lock.values())
    assert set(runtime) <= set(dev)
    assert {name: pin.version for name, pin in runtime.items()} == {name: dev[name].version for name in runtime}
