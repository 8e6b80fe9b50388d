"""Seller config as workers see it: loaded from files, re-read when a file changes.

Ops edit a file; the next task picks the change up without a worker restart. A broken file takes only
its own seller out (config/tenancy.py): the others keep running, asking for that seller raises
SellerUnavailable naming the file, and the problem is logged once per change, with the file and its
first problem (never a secret value: config messages hold none).
"""

from __future__ import annotations

import threading
from pathlib import Path

import structlog

from config.loader import load_config, seller_files
from config.schema import SellerConfig
from config.tenancy import ConfigState
from orderhub.runtime.settings import config_path

log = structlog.get_logger()

Fingerprint = tuple[tuple[str, int, int], ...]
_cache: dict[str, tuple[Fingerprint, ConfigState]] = {}
_reloading = threading.Lock()
_logged: dict[str, tuple[dict[str, tuple[str, ...]], set[str]]] = {}  # target -> problems, warnings logged


def _fingerprint(target: Path) -> Fingerprint:
    found = []
    for file in seller_files(target):
        try:
            info = file.stat()
        except OSError:
            continue
        found.append((str(file), info.st_mtime_ns, info.st_size))
    return tuple(found)


def _log_changes(target: str, state: ConfigState) -> None:
    """One line per file whose problems changed since last logged, one when a file is fixed, one per new
    warning."""
    problems, warned = _logged.get(target, ({}, set()))
    owners = {file: seller for seller, (file, _) in state.unavailable.items()}
    for file, found in state.problems.items():
        if problems.get(file) != found:
            log.error("config.file_invalid", file=file, seller=owners.get(file), first=found[0], problems=len(found))
    for file in problems.keys() - state.problems.keys():
        log.info("config.file_valid", file=file)
    for warning in set(state.warnings) - warned:
        log.warning("config.warning", warning=warning)
    _logged[target] = (dict(state.problems), set(state.warnings))


def config_state(target: Path | None = None) -> ConfigState:
    """Every seller that runs and every problem, as of the files' current contents."""
    target = target or config_path()
    fingerprint = _fingerprint(target)
    cached = _cache.get(str(target))
    if cached is None or cached[0] != fingerprint:
        with _reloading:  # the ingress asks from many threads: one reload, one log line per change
            cached = _cache.get(str(target))
            if cached is None or cached[0] != fingerprint:
                cached = (fingerprint, load_config(target))
                _cache[str(target)] = cached
                _log_changes(str(target), cached[1])
    return cached[1]


def all_sellers(target: Path | None = None) -> dict[str, SellerConfig]:
    """Every seller that runs; a seller whose file is broken is not among them."""
    return config_state(target).sellers


def seller_config(seller: str) -> SellerConfig:
    """SellerUnavailable (a ConfigError naming the file) when the seller's file is broken; KeyError when
    no file declares the seller."""
    try:
        return config_state().seller(seller)
    except KeyError:
        raise KeyError(f"no seller {seller!r} in {config_path()} "
                       f"(known: {', '.join(sorted(all_sellers()))})") from None
