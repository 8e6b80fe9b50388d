"""Load seller config files and report every problem in them at once, each file on its own.

Each file is read, walked (config/structure.py) and checked by the rules (config/rules.py) by itself,
collecting each problem as `file: key.path: message`; a broken file takes only its own seller out.
`load_config` then puts the sound files together under the cross-file rules (config/tenancy.py): a
seller declared twice, one platform shop configured twice. No message ever contains a secret value.
Resolving a reference is config/credentials.py's (re-exported here, with `credentials_for`).
"""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Any

import msgspec

from config.credentials import Secrets as Secrets
from config.credentials import credentials_for as credentials_for
from config.credentials import resolve_credentials as resolve_credentials
from config.credentials import resolve_reference as resolve_reference
from config.rules import (
    Findings,
    check_retention,
    check_risk,
    check_shop,
    check_stock,
    check_warehouse,
    id_problem,
)
from config.schema import SellerConfig, StockConfig
from config.structure import fields_of, salvage, unknown_keys, walk
from config.tenancy import ConfigState, FileReport, combine
from connectors.registry import PLATFORMS
from pipeline.errors import ConfigError

# The known platforms and warehouse kinds, and the credentials each one's client needs (a missing one is a
# config error), are the connector registries' (PLATFORMS, WAREHOUSES): built in or plugged in.


def _items(raw: dict[str, Any], section: str, found: Findings) -> list[Any]:
    items = raw.get(section, [])
    if not isinstance(items, list):
        found.problems.append(f"{section}: expected an array of tables")
        return []
    return items


def _check_parts(raw: dict[str, Any], fields: dict[str, Any], found: Findings) -> None:
    """Shops and warehouses, each on its own: a mistake in one still lets every other rule run."""
    for section, check in (("shops", check_shop), ("warehouses", check_warehouse)):
        item_type = typing.get_args(fields[section].type)[0]
        ids: set[Any] = set()
        for i, item in enumerate(_items(raw, section, found)):
            where = f"{section}[{i}]"
            part, bad = salvage(item, item_type, where, found.problems)
            if part is None:
                continue
            check(part, where, found, bad)
            # a shop id is unique per seller, whatever the platform: cursors and locks are keyed by it
            ident = part.shop_id if section == "shops" else part.id
            if bad & {"shop_id", "id"}:
                continue
            if ident in ids:
                found.problems.append(f"{where}: {ident!r} appears twice")
            ids.add(ident)


def _check_seller(raw: dict[str, Any], found: Findings) -> None:
    fields = fields_of(SellerConfig)
    unknown_keys(raw, fields, "", found.problems)
    problems = found.problems
    if "seller" not in raw:
        problems.append("seller: missing required key")
    elif why := id_problem(raw["seller"]):
        problems.append(f"seller: {why}")
    for section in ("name", "sku_map", "routing"):
        if section in raw:
            salvage(raw[section], fields[section].type, section, problems)
    _check_parts(raw, fields, found)
    sku_map = raw.get("sku_map")
    if isinstance(sku_map, dict):
        for group in ("platforms", "listings"):
            named = sku_map.get(group)
            for platform in named if isinstance(named, dict) else ():
                if platform not in PLATFORMS:
                    problems.append(f'sku_map.{group}.{platform}: unknown platform (known: {", ".join(PLATFORMS)})')
    stock = StockConfig()  # absent: the defaults, which the risk rules below check against lanes too
    if "stock" in raw:
        stock, _ = salvage(raw["stock"], fields["stock"].type, "stock", problems)
        if stock is not None:
            check_stock(stock, _ids(raw, "shops", "shop_id"), problems)
    if stock is not None and ("stock" in raw or "transfer_lanes" in raw):
        _check_risk(raw, fields, stock, problems)
    if "retention" in raw:
        retention, _ = salvage(raw["retention"], fields["retention"].type, "retention", problems)
        if retention is not None:
            check_retention(retention, problems)


def _check_risk(raw: dict[str, Any], fields: dict[str, Any], stock: StockConfig, problems: list[str]) -> None:
    """Replenishment terms and transfer lanes against the seller's warehouse ids."""
    found: list[str] = []
    walk(raw.get("transfer_lanes", []), fields["transfer_lanes"].type, "transfer_lanes", found)
    problems.extend(found)
    if not found:
        lanes = msgspec.convert(raw.get("transfer_lanes", []), fields["transfer_lanes"].type)
        check_risk(stock, lanes, _ids(raw, "warehouses", "id"), problems)


def _ids(raw: dict[str, Any], section: str, field: str) -> set[str]:
    """The ids a section's tables declare as text (those that do not are reported by the walk)."""
    items = raw.get(section)
    return {item[field] for item in items if isinstance(item, dict) and isinstance(item.get(field), str)} \
        if isinstance(items, list) else set()


def _read(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The file's TOML, or None and the one-line reason it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read: {exc.strerror}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (first bad byte at offset {exc.start}): save the file as UTF-8"
    try:
        return tomllib.loads(text), ""
    except tomllib.TOMLDecodeError as exc:
        return None, f"not valid TOML: {exc}"
    except RecursionError:
        return None, "not valid TOML: nested too deeply"


def inspect_file(path: Path, base_dir: Path | None = None, references_needed: bool = True) -> FileReport:
    """The seller config in `path`, every problem found in it and every warning (each prefixed with the
    file name). `base_dir` (default: the file's folder) anchors relative `file:` references: a candidate
    copy elsewhere is checked as if it stood beside the original; `references_needed` False lets
    references whose secret is absent here pass as warnings (config/rules.py `Findings`)."""
    raw, why = _read(path)
    if raw is None:
        return FileReport(path, path.stem, None, (f"{path}: {why}",))
    declared = raw.get("seller")
    seller = declared if isinstance(declared, str) and declared else path.stem
    found = Findings(base_dir or path.parent, references_needed=references_needed)
    _check_seller(raw, found)
    warnings = tuple(dict.fromkeys(f"{path}: {w}" for w in found.warnings))
    if found.problems:
        return FileReport(path, seller, None, tuple(f"{path}: {p}" for p in found.problems), warnings)
    return FileReport(path, seller, msgspec.convert(raw | {"source": str(path)}, SellerConfig), (), warnings)


def check_file(path: Path) -> tuple[SellerConfig | None, list[str]]:
    """The seller config in `path` and every problem found in it (each prefixed with the file name)."""
    report = inspect_file(path)
    return report.config, list(report.problems)


def seller_files(target: Path) -> list[Path]:
    return sorted(target.glob("*.toml")) if target.is_dir() else [target]


def load_config(target: Path | str) -> ConfigState:
    """Every seller under `target` (a file or a folder) that can run, and every problem, per file. Never
    raises for a broken file: that file's seller is left out and the others run."""
    files = seller_files(Path(target))
    if not files or not all(f.exists() for f in files):
        return ConfigState({}, {}, {str(target): (f"{target}: no seller config files (*.toml) found",)}, (), 0)
    return combine([inspect_file(file) for file in files])


def load_sellers(target: Path | str) -> list[SellerConfig]:
    """Every seller config under `target`, or ConfigError listing every problem in every file (for the
    demo and tools that want all or nothing; workers use `load_config` through workers/config_cache.py)."""
    state = load_config(target)
    if state.all_problems():
        raise ConfigError(state.all_problems())
    return list(state.sellers.values())
