"""Run the platform emulators as a standing local world (``orderhub sandbox serve`` calls ``serve``).

All emulators share one sandbox clock, so "advance an hour" on one moves every platform.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sandbox.aliexpress.emulator import AliExpressEmulator
from sandbox.amazon.emulator import AmazonEmulator
from sandbox.core.clock import SandboxClock
from sandbox.core.server import Emulator
from sandbox.fourpx.emulator import FourPXEmulator
from sandbox.shein.emulator import SheinEmulator
from sandbox.shipbob.emulator import ShipBobEmulator
from sandbox.temu.emulator import TemuEmulator
from sandbox.tiktok.emulator import TikTokEmulator

# The sandbox's own lists (it never imports connectors/): tests check every registered connector has one.
# A marketplace emulator also serves sandbox.core.control.MarketplaceStock (the SKU map rows, the levels).
MARKETPLACES: dict[str, type[Emulator]] = {"amazon": AmazonEmulator, "tiktok": TikTokEmulator, "temu": TemuEmulator,
                                           "shein": SheinEmulator, "aliexpress": AliExpressEmulator}
WAREHOUSES: dict[str, type[Emulator]] = {"fourpx": FourPXEmulator, "shipbob": ShipBobEmulator}
EMULATORS: dict[str, type[Emulator]] = MARKETPLACES | WAREHOUSES


def start_emulators(platforms: Iterable[str], seed: int = 1, orders: int = 200, host: str = "127.0.0.1",
                    clock: SandboxClock | None = None, ports: dict[str, int] | None = None) -> dict[str, Emulator]:
    """Start one emulator per platform name (each gets ``orders`` orders); raises on an unknown name."""
    names = list(platforms)
    unknown = [name for name in names if name not in EMULATORS]
    if unknown:
        raise ValueError(f"unknown sandbox platform(s) {unknown}; known: {sorted(EMULATORS)}")
    clock = clock or SandboxClock()
    started: dict[str, Emulator] = {}
    try:
        for name in names:
            emulator = EMULATORS[name](clock=clock, seed=seed, orders=orders, host=host,
                                       port=(ports or {}).get(name, 0))
            started[name] = emulator.start()
    except Exception:
        for emulator in started.values():
            emulator.stop()
        raise
    return started


def serve(platforms: Iterable[str] = tuple(EMULATORS), seed: int = 1, orders: int = 200,
          host: str = "127.0.0.1", ports: dict[str, int] | None = None) -> None:
    """Start the emulators, print one ``<platform> <url>`` line each, block until Ctrl-C."""
    emulators = start_emulators(platforms, seed, orders, host, ports=ports)
    for name, emulator in emulators.items():
        print(f"{name:<8} {emulator.url}  (control: {emulator.url}/_sandbox/)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for emulator in emulators.values():
            emulator.stop()
