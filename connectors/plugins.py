"""Connector records from installed packages: Python entry points, checked like the built-in ones.

A package outside Orderhub adds a platform by declaring, in its own pyproject.toml,

    [project.entry-points."orderhub.connectors"]
    examplemart = "orderhub_examplemart:CONNECTOR"      # a pipeline.ports.ConnectorSpec

(`orderhub.warehouses` for a pipeline.ports.WarehouseSpec). The entry point's name is the record's
name; a record that is not of the group's type, or whose name is taken, stops the registry from
being built, naming the package: a platform silently missing would strand its shops' orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import TypeVar

from pipeline.ports import ConnectorSpec, WarehouseSpec

Spec = TypeVar("Spec", ConnectorSpec, WarehouseSpec)


class PluginError(RuntimeError):
    """An installed package declares a connector that cannot be registered."""


def collect(group: str, built_in: Iterable[Spec], kind: type[Spec]) -> Mapping[str, Spec]:
    """The built-in records plus every entry point of `group`, read-only, by name (sorted)."""
    found: dict[str, Spec] = {}
    origin: dict[str, str] = {}
    for spec in built_in:
        _add(found, origin, spec, "orderhub (built in)")
    for entry in entry_points(group=group):
        where = f"{entry.dist.name if entry.dist else 'an installed package'}: {group} {entry.name} = {entry.value}"
        try:
            spec = entry.load()
        except Exception as exc:
            raise PluginError(f"{where}: failed to load ({type(exc).__name__}: {exc})") from exc
        if not isinstance(spec, kind):
            raise PluginError(f"{where}: is a {type(spec).__name__}, not a {kind.__name__}")
        if spec.name != entry.name:
            raise PluginError(f"{where}: the entry point is named {entry.name!r}, its record {spec.name!r}")
        _add(found, origin, spec, where)
    return MappingProxyType(dict(sorted(found.items())))


def _add(found: dict[str, Spec], origin: dict[str, str], spec: Spec, where: str) -> None:
    if spec.name in found:
        raise PluginError(f"{where}: {spec.name!r} is already registered by {origin[spec.name]}")
    found[spec.name], origin[spec.name] = spec, where
