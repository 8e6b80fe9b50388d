"""Load seller config files and report every problem in them at once.

msgspec stops at the first error, so the structure is walked field by field here, collecting each
problem as `file: key.path: message`; then the rules no type can say (known platforms, unique ids,
credential references that resolve) are checked. No message ever contains a secret value. Resolving a
reference is config/credentials.py's (re-exported here, with `credentials_for`).
"""

from __future__ import annotations

import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from config.credentials import Secrets as Secrets
from config.credentials import credentials_for as credentials_for
from config.credentials import resolve_credentials as resolve_credentials
from config.credentials import resolve_reference
from config.schema import SANDBOX, SellerConfig, ShopConfig, WarehouseConfig
from connectors.registry import PLATFORMS
from connectors.warehouses.registry import WAREHOUSES
from pipeline.countries import is_country
from pipeline.errors import ConfigError

# The known platforms and warehouse kinds, and the credentials each one's client needs (a missing one is a
# config error), are the connector registries' (PLATFORMS, WAREHOUSES): built in or plugged in.

_SELLER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


# ---------------------------------------------------------------------------------------------
# Structural walk: every unknown key, missing key and mistyped value, each with its key path.


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _struct_type(tp: Any) -> type[msgspec.Struct] | None:
    return tp if isinstance(tp, type) and issubclass(tp, msgspec.Struct) else None


def _walk(value: Any, tp: Any, path: str, problems: list[str]) -> None:
    struct = _struct_type(tp)
    origin = typing.get_origin(tp)
    if struct is not None:
        if not isinstance(value, dict):
            problems.append(f"{path or '(top)'}: expected a table, got {type(value).__name__}")
            return
        fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
        for key in value:
            if key not in fields or key == "source":
                known = ", ".join(sorted(k for k in fields if k != "source"))
                problems.append(f"{_join(path, key)}: unknown key (known: {known})")
        for name, field in fields.items():
            if name in value:
                _walk(value[name], field.type, _join(path, name), problems)
            elif field.required:
                problems.append(f"{_join(path, name)}: missing required key")
        return
    if origin is list and isinstance(value, list):
        (item_type,) = typing.get_args(tp)
        for i, item in enumerate(value):
            _walk(item, item_type, _join(path, i), problems)
        return
    if origin is dict and isinstance(value, dict):
        _, item_type = typing.get_args(tp)
        for key, item in value.items():
            _walk(item, item_type, _join(path, str(key)), problems)
        return
    try:
        msgspec.convert(value, tp, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc).split(" - at ")[0]
        problems.append(f"{path}: {message}")


# ---------------------------------------------------------------------------------------------
# Rules no type can say.


def _check_credentials(refs: Mapping[str, str], required: tuple[str, ...], kind: str, path: str, base_dir: Path,
                       problems: list[str]) -> None:
    for name in required:
        if name not in refs:
            problems.append(f"{path}.credentials.{name}: missing (a {kind} connection needs it)")
    for name, reference in refs.items():
        try:
            resolve_reference(reference, base_dir)
        except ValueError as exc:
            problems.append(f"{path}.credentials.{name}: {exc}")


def _check_base_url(url: str, path: str, problems: list[str]) -> None:
    if url and url != SANDBOX and not re.match(r"^https?://[^\s/]+", url):
        problems.append(f"{path}.base_url: must be empty, \"sandbox\" or an http(s) URL")


def _check_shop(shop: ShopConfig, path: str, base_dir: Path, problems: list[str]) -> None:
    if shop.platform not in PLATFORMS:
        problems.append(f'{path}.platform: unknown platform "{shop.platform}" (known: {", ".join(PLATFORMS)})')
    else:
        _check_credentials(shop.credentials, PLATFORMS[shop.platform].credentials, shop.platform, path,
                           base_dir, problems)
    if shop.poll_interval_seconds < 10:
        problems.append(f"{path}.poll_interval_seconds: must be at least 10")
    _check_base_url(shop.base_url, path, problems)
    for op, limit in shop.rate_limits.items():
        if limit.rate <= 0 or limit.burst < 1:
            problems.append(f"{path}.rate_limits.{op}: rate must be > 0 and burst >= 1")
    for i, country in enumerate(shop.countries):
        if not is_country(country):
            problems.append(f"{path}.countries[{i}]: not an ISO-3166 alpha-2 code: {country!r}")


def _check_warehouse(wh: WarehouseConfig, path: str, base_dir: Path, problems: list[str]) -> None:
    if wh.kind not in WAREHOUSES:
        problems.append(f'{path}.kind: unknown warehouse kind "{wh.kind}" (known: {", ".join(WAREHOUSES)})')
    else:
        _check_credentials(wh.credentials, WAREHOUSES[wh.kind].credentials, wh.kind, path, base_dir,
                           problems)
    for i, country in enumerate(wh.countries):
        if not is_country(country):
            problems.append(f"{path}.countries[{i}]: not an ISO-3166 alpha-2 code: {country!r}")
    if not wh.countries:
        problems.append(f"{path}.countries: a warehouse must serve at least one country")
    _check_base_url(wh.base_url, path, problems)


def _valid_part(raw: Any, tp: Any, path: str, problems: list[str]) -> Any | None:
    """`raw` converted to `tp` when its structure is sound, else None (its problems recorded)."""
    _walk(raw, tp, path, problems)
    if not isinstance(raw, dict):
        return None
    # Unknown keys are already reported; the rest is still checked by the rules if it converts.
    known = {f.encode_name for f in msgspec.structs.fields(tp)}
    try:
        return msgspec.convert({k: v for k, v in raw.items() if k in known}, tp)
    except msgspec.ValidationError:
        return None


def _check_seller(raw: dict[str, Any], base_dir: Path, problems: list[str]) -> None:
    """Each part is checked on its own, so a mistake in one shop still lets every other rule run."""
    fields = {f.encode_name: f for f in msgspec.structs.fields(SellerConfig) if f.name != "source"}
    for key in raw:
        if key not in fields:
            problems.append(f"{key}: unknown key (known: {', '.join(sorted(fields))})")
    seller = raw.get("seller")
    if seller is None:
        problems.append("seller: missing required key")
    elif not isinstance(seller, str) or not _SELLER_ID.match(seller):
        problems.append(f"seller: {seller!r} must be lower-case letters, digits, - or _")
    for section, tp in (("name", str), ("sku_map", fields["sku_map"].type), ("routing", fields["routing"].type)):
        if section in raw:
            _valid_part(raw[section], tp, section, problems)
    for section, check in (("shops", _check_shop), ("warehouses", _check_warehouse)):
        items = raw.get(section, [])
        if not isinstance(items, list):
            problems.append(f"{section}: expected an array of tables")
            continue
        item_type = typing.get_args(fields[section].type)[0]
        ids: set[Any] = set()
        for i, item in enumerate(items):
            part = _valid_part(item, item_type, f"{section}[{i}]", problems)
            if part is None:
                continue
            check(part, f"{section}[{i}]", base_dir, problems)
            ident = (part.platform, part.shop_id) if section == "shops" else part.id
            if ident in ids:
                problems.append(f"{section}[{i}]: {ident!r} appears twice")
            ids.add(ident)
    sku_map = raw.get("sku_map")
    if isinstance(sku_map, dict):
        for group in ("platforms", "listings"):
            for platform in sku_map.get(group, {}) or {}:
                if platform not in PLATFORMS:
                    problems.append(f'sku_map.{group}.{platform}: unknown platform (known: {", ".join(PLATFORMS)})')
    if "stock" in raw:
        stock = _valid_part(raw["stock"], fields["stock"].type, "stock", problems)
        if stock is not None:
            shop_ids = {s.get("shop_id") for s in raw.get("shops") or [] if isinstance(s, dict)}
            _check_stock(stock, shop_ids, problems)


def _check_stock(stock: Any, shop_ids: set[str], problems: list[str]) -> None:
    if stock.safety_buffer < 0:
        problems.append("stock.safety_buffer: must be >= 0")
    if stock.interval_seconds < 10:
        problems.append("stock.interval_seconds: must be at least 10")
    for platform, channel in stock.platforms.items():
        where = f"stock.platforms.{platform}"
        if platform not in PLATFORMS and platform not in shop_ids:
            problems.append(f'{where}: neither a platform ({", ".join(PLATFORMS)}) nor a shop id of this seller')
        if channel.safety_buffer is not None and channel.safety_buffer < 0:
            problems.append(f"{where}.safety_buffer: must be >= 0")
        if not 0 <= channel.share <= 1:
            problems.append(f"{where}.share: must be between 0 and 1")
        if channel.min_shown < 0 or (channel.max_shown is not None and channel.max_shown < channel.min_shown):
            problems.append(f"{where}: need 0 <= min_shown <= max_shown")


def check_file(path: Path) -> tuple[SellerConfig | None, list[str]]:
    """The seller config in `path` and every problem found in it (each prefixed with the file name)."""
    problems: list[str] = []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return None, [f"{path}: cannot read: {exc.strerror}"]
    except tomllib.TOMLDecodeError as exc:
        return None, [f"{path}: not valid TOML: {exc}"]
    _check_seller(raw, path.parent, problems)
    if problems:
        return None, [f"{path}: {p}" for p in problems]
    return msgspec.convert(raw | {"source": str(path)}, SellerConfig), []


def seller_files(target: Path) -> list[Path]:
    return sorted(target.glob("*.toml")) if target.is_dir() else [target]


def load_sellers(target: Path | str) -> list[SellerConfig]:
    """Every seller config under `target` (a file or a folder), or ConfigError listing all problems."""
    configs, problems = [], []
    files = seller_files(Path(target))
    if not files:
        raise ConfigError([f"{target}: no seller config files (*.toml) found"])
    for file in files:
        cfg, found = check_file(file)
        problems.extend(found)
        if cfg is not None:
            configs.append(cfg)
    seen: dict[str, str] = {}
    for cfg in configs:
        if cfg.seller in seen:
            problems.append(f"{cfg.source}: seller: {cfg.seller!r} is also declared in {seen[cfg.seller]}")
        seen[cfg.seller] = cfg.source
    if problems:
        raise ConfigError(problems)
    return configs
