"""The rules of a seller file no type can say: known platforms, id charset, https, references that resolve.

Each rule runs on a section as far as its fields are sound: `bad` names the fields whose type was
wrong (already reported by config/loader.py's walk), and only the rules that read one of those are
skipped, so a type error no longer hides the section's other problems. No message holds a secret value,
and none quotes a `base_url` (one may carry a password).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config.credentials import resolve_reference
from config.schema import ID_PATTERN, SANDBOX, ShopConfig, WarehouseConfig
from config.secret_files import UnresolvedReference
from connectors.registry import PLATFORMS
from connectors.warehouses.registry import WAREHOUSES
from pipeline.countries import is_country
from pipeline.push_guard import webhook_binding_problems

_ID = re.compile(ID_PATTERN)
_NO = frozenset[str]()


@dataclass
class Findings:
    """What checking one seller file found; `base_dir` is the file's folder (relative references).
    `references_needed` False (a config only replayed, never connected) turns a reference whose secret is
    absent here into a warning; a malformed, inline or unsafe one stays a problem."""

    base_dir: Path
    references_needed: bool = True
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def id_problem(value: Any) -> str | None:
    if isinstance(value, str) and _ID.match(value):
        return None
    shown = repr(value) if len(repr(value)) <= 70 else repr(value)[:67] + "..."
    return f"{shown} must match {ID_PATTERN} (lower-case letters, digits, '.', '_', '-'; at most 64)"


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_problem(url: str) -> str | None:
    """Why `url` cannot be a base_url, or None. Plain http only reaches a loopback host: over anything
    else the client would send the credentials unencrypted to whoever answers."""
    if not url or url == SANDBOX:
        return None
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or not host:
        return 'must be empty, "sandbox" or an https URL'
    if parts.username is not None or parts.password is not None:
        return "must not hold a user or password (credentials are references)"
    if parts.scheme == "http" and not _loopback(host):
        return "must be https (plain http only to a loopback host: 127.0.0.0/8, ::1, localhost)"
    return None


def _credentials(refs: Mapping[str, str], required: tuple[str, ...] | None, kind: str, path: str,
                 found: Findings) -> None:
    for name in required or ():
        if name not in refs:
            found.problems.append(f"{path}.credentials.{name}: missing (a {kind} connection needs it)")
    for name, reference in refs.items():
        try:
            resolve_reference(reference, found.base_dir, found.warnings)
        except UnresolvedReference as exc:
            if found.references_needed:
                found.problems.append(f"{path}.credentials.{name}: {exc}")
            else:
                found.warnings.append(f"{path}.credentials.{name}: {exc} (not needed: nothing connects)")
        except ValueError as exc:
            found.problems.append(f"{path}.credentials.{name}: {exc}")


def _countries(countries: list[str], path: str, found: Findings) -> None:
    for i, country in enumerate(countries):
        if not is_country(country):
            found.problems.append(f"{path}.countries[{i}]: not an ISO-3166 alpha-2 code: {country!r}")


def check_shop(shop: ShopConfig, path: str, found: Findings, bad: frozenset[str] = _NO) -> None:
    problems = found.problems
    known = "platform" not in bad and shop.platform in PLATFORMS
    if "platform" not in bad and not known:
        problems.append(f'{path}.platform: unknown platform "{shop.platform}" (known: {", ".join(PLATFORMS)})')
    if "credentials" not in bad:
        required = PLATFORMS[shop.platform].credentials if known else None
        _credentials(shop.credentials, required, shop.platform, path, found)
    if "shop_id" not in bad and (why := id_problem(shop.shop_id)):
        problems.append(f"{path}.shop_id: {why}")
    if "poll_interval_seconds" not in bad and shop.poll_interval_seconds < 10:
        problems.append(f"{path}.poll_interval_seconds: must be at least 10")
    if "base_url" not in bad and (why := base_url_problem(shop.base_url)):
        problems.append(f"{path}.base_url: {why}")
    for op, limit in shop.rate_limits.items():
        if limit.rate <= 0 or limit.burst < 1:
            problems.append(f"{path}.rate_limits.{op}: rate must be > 0 and burst >= 1")
    if known and not {"webhook", "options"} & bad:
        receiver = PLATFORMS[shop.platform].capabilities.webhooks
        problems.extend(f"{path}.{why}" for why in
                        webhook_binding_problems(shop, receiver is not None and receiver.names_account))
    _countries(shop.countries, path, found)


def check_warehouse(wh: WarehouseConfig, path: str, found: Findings, bad: frozenset[str] = _NO) -> None:
    problems = found.problems
    known = "kind" not in bad and wh.kind in WAREHOUSES
    if "kind" not in bad and not known:
        problems.append(f'{path}.kind: unknown warehouse kind "{wh.kind}" (known: {", ".join(WAREHOUSES)})')
    if "credentials" not in bad:
        _credentials(wh.credentials, WAREHOUSES[wh.kind].credentials if known else None, wh.kind, path, found)
    if "id" not in bad and (why := id_problem(wh.id)):
        problems.append(f"{path}.id: {why}")
    _countries(wh.countries, path, found)
    if "countries" not in bad and not wh.countries:
        problems.append(f"{path}.countries: a warehouse must serve at least one country")
    if "base_url" not in bad and (why := base_url_problem(wh.base_url)):
        problems.append(f"{path}.base_url: {why}")
    if "country" not in bad and wh.country and not is_country(wh.country):
        problems.append(f"{path}.country: {wh.country!r} is not an ISO 3166-1 alpha-2 country code")
    if "handling_days" not in bad and not 0 <= wh.handling_days <= 365:
        problems.append(f"{path}.handling_days: must be between 0 and 365")


def check_stock(stock: Any, shop_ids: set[str], problems: list[str]) -> None:
    if stock.safety_buffer < 0:
        problems.append("stock.safety_buffer: must be >= 0")
    if stock.interval_seconds < 10:
        problems.append("stock.interval_seconds: must be at least 10")
    if stock.feed_threshold < 1:
        problems.append("stock.feed_threshold: must be at least 1 (a large number keeps every push per listing)")
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


def check_risk(stock: Any, lanes: Any, warehouse_ids: set[str], problems: list[str]) -> None:
    """Replenishment terms and transfer lanes: positive days, a probability threshold, known warehouses."""
    terms = [("stock", stock)] + [(f"stock.warehouses.{wh}", own) for wh, own in stock.warehouses.items()]
    for where, own in terms:
        for name in ("lead_time_days", "safety_days"):
            value = getattr(own, name)
            if value is not None and not 0 <= value <= 3650:
                problems.append(f"{where}.{name}: must be between 0 and 3650 days")
        if own.risk_threshold is not None and not 0 < own.risk_threshold < 1:
            problems.append(f"{where}.risk_threshold: must be a probability above 0 and below 1")
    for wh in stock.warehouses:
        if wh not in warehouse_ids:
            problems.append(f"stock.warehouses.{wh}: no warehouse of this seller has that id")
    for i, lane in enumerate(lanes):
        where = f"transfer_lanes[{i}]"
        for end, wh in (("from", lane.from_), ("to", lane.to)):
            if wh not in warehouse_ids:
                problems.append(f"{where}.{end}: no warehouse of this seller has the id {wh!r}")
        if lane.from_ == lane.to:
            problems.append(f"{where}: from and to are the same warehouse")
        if not 0 <= lane.days <= 3650:
            problems.append(f"{where}.days: must be between 0 and 3650")
        if lane.cost_per_unit < 0:
            problems.append(f"{where}.cost_per_unit: must be 0 or more")


def check_retention(retention: Any, problems: list[str]) -> None:
    """Orders must stay hot for a day at least, and a tombstone outlive the move it marks."""
    if retention.hot_days < 0:  # 0: a closed order moves at the next archive run
        problems.append("retention.hot_days: must be 0 or more")
    if retention.tombstone_days < retention.hot_days:
        problems.append("retention.tombstone_days: must be at least retention.hot_days")
    if retention.pii_days < retention.hot_days:
        problems.append("retention.pii_days: must be at least retention.hot_days (buyer data leaves Redis only "
                        "with the order, so it would outlive pii_days there)")
    if retention.archive_days < retention.tombstone_days:
        problems.append("retention.archive_days: must be at least retention.tombstone_days (an order listed "
                        "again is looked up in the archive once its tombstone is gone)")
