"""Seller config across files: which sellers run, which are out and why, and the rules between files.

One broken seller file used to stop every seller: every webhook answered 500 and every task that read
config failed, with a bare `ConfigError` in the log. Now each file is judged on its own
(config/loader.py) and a broken one takes only its own seller out: asking for that seller raises
`SellerUnavailable`, naming the file and its first problem; every other seller runs on.

Two rules span files, and each is reported in every file involved:
- a seller declared in two files: neither file runs (nothing says which one is meant);
- one platform shop (config/accounts.py) configured twice, under two sellers or under one: both would
  import its orders and one could submit an order the other holds. Nothing says which is right, so at
  run time that shop is left out wherever it appears, and the rest of each seller runs on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import msgspec

from config.accounts import platform_account
from config.credentials import resolve_reference
from config.schema import SellerConfig, ShopConfig
from connectors.registry import PLATFORMS
from pipeline.errors import ConfigError


class SellerUnavailable(ConfigError):
    """The seller's config file has a problem, so the seller is not running; `file` names the file."""

    def __init__(self, seller: str, file: str, first: str) -> None:
        super().__init__([f"seller {seller!r} is not running, its config file has a problem: {first}"])
        self.seller, self.file, self.first = seller, file, first


@dataclass(frozen=True)
class FileReport:
    """One seller file as checked on its own: its config when sound, else every problem in it."""

    path: Path
    seller: str  # as the file declares it; the file name's stem when it declares none readable
    config: SellerConfig | None
    problems: tuple[str, ...]  # each "file: key.path: message"
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigState:
    sellers: dict[str, SellerConfig]  # every seller that runs (a shop configured twice left out)
    unavailable: dict[str, tuple[str, str]]  # seller -> (its file, the first problem in it)
    problems: dict[str, tuple[str, ...]]  # file -> every problem in it, for files with any
    warnings: tuple[str, ...]
    files: int

    def all_problems(self) -> list[str]:
        return [problem for found in self.problems.values() for problem in found]

    def seller(self, name: str) -> SellerConfig:
        """The config of seller `name`; SellerUnavailable when its file is broken, KeyError when unknown."""
        if name in self.sellers:
            return self.sellers[name]
        if name in self.unavailable:
            raise SellerUnavailable(name, *self.unavailable[name])
        raise KeyError(f"no seller {name!r} (known: {', '.join(sorted(self.sellers))})")


def _account(cfg: SellerConfig, shop: ShopConfig) -> str | None:
    base = Path(cfg.source).parent
    try:
        resolved = {name: resolve_reference(ref, base) for name, ref in shop.credentials.items()}
    except ValueError:  # reported by the file's own check already
        return None
    spec = PLATFORMS.get(shop.platform)
    return platform_account(shop, resolved, spec.account_credentials if spec is not None else ())


def _shared_shops(configs: list[SellerConfig], problems: dict[str, list[str]]) -> set[tuple[str, str]]:
    """(seller, shop id) of every enabled shop that is the same platform shop as another one."""
    owners: dict[str, list[tuple[SellerConfig, int]]] = defaultdict(list)
    for cfg in configs:
        for i, shop in enumerate(cfg.shops):
            account = _account(cfg, shop) if shop.enabled else None
            if account is not None:
                owners[account].append((cfg, i))
    left_out: set[tuple[str, str]] = set()
    for group in (g for g in owners.values() if len(g) > 1):
        for cfg, i in group:
            shop = cfg.shops[i]
            others = "; ".join(f"{o.source} shops[{j}] (seller {o.seller}, shop {o.shops[j].shop_id})"
                               for o, j in group if o is not cfg or j != i)
            problems[cfg.source].append(f"{cfg.source}: shops[{i}]: the same {shop.platform} shop as {others}; "
                                        "it is left out under every seller until only one file keeps it")
            left_out.add((cfg.seller, shop.shop_id))
    return left_out


def combine(reports: list[FileReport]) -> ConfigState:
    """The runnable sellers of files checked one by one, after the rules between files."""
    problems = {str(r.path): list(r.problems) for r in reports}
    by_seller: dict[str, list[FileReport]] = defaultdict(list)
    for report in reports:
        by_seller[report.seller].append(report)
    unavailable: dict[str, tuple[str, str]] = {}
    runnable: list[SellerConfig] = []
    for seller, group in by_seller.items():
        for report in group if len(group) > 1 else ():
            others = ", ".join(str(o.path) for o in group if o is not report)
            problems[str(report.path)].append(f"{report.path}: seller: {seller!r} is also declared in {others}")
        if len(group) == 1 and group[0].config is not None:
            runnable.append(group[0].config)
            continue
        first = next(r for r in group if problems[str(r.path)])
        unavailable[seller] = (str(first.path), problems[str(first.path)][0])
    left_out = _shared_shops(runnable, problems)
    sellers = {cfg.seller: msgspec.structs.replace(
        cfg, shops=[s for s in cfg.shops if (cfg.seller, s.shop_id) not in left_out]) for cfg in runnable}
    warnings = tuple(w for r in reports for w in r.warnings)
    return ConfigState(sellers, unavailable, {f: tuple(p) for f, p in problems.items() if p}, warnings, len(reports))
