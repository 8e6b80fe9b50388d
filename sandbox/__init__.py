"""Orderhub's platform sandbox: faithful local emulators of marketplace APIs on loopback HTTP.

    from sandbox import AmazonEmulator, SandboxClock
    with AmazonEmulator(clock=SandboxClock(factor=0), orders=200, seed=7) as amazon:
        amazon.url, amazon.clock.advance(3600), amazon.configure_faults(error_rate=0.1)
        amazon.counters.snapshot(), amazon.pushed(), amazon.ground_truth()

Layout (no import cycles; see each package's docstring):
    core/            platform-neutral: server (the Emulator base), http_types, control (/_sandbox/ API),
                     clock, buckets, faults, orders (the neutral order), generator and world (the seeded
                     order book), listings (the ids stock pushes may name), webhooks, demo_accounts (shops
                     and credentials); imports no platform
    amazon/ tiktok/ temu/ shein/ aliexpress/    one package per marketplace: emulator, shapes, orders
                                                (reads), tokens, push, webhook (as each platform needs)
    fourpx/ shipbob/                            one package per warehouse: emulator, its outbound orders
    serve            the standing world of every emulator (``python -m sandbox``, ``orderhub sandbox serve``)
A platform package imports the core and never another platform; only this facade and ``serve`` see them all.
"""

from __future__ import annotations

from sandbox.aliexpress.emulator import AliExpressEmulator
from sandbox.amazon.emulator import AmazonEmulator
from sandbox.core.buckets import RateLimit
from sandbox.core.clock import SandboxClock
from sandbox.core.demo_accounts import DEMO_SHOPS, AmazonCredentials, TikTokCredentials
from sandbox.core.server import Emulator
from sandbox.serve import EMULATORS, serve, start_emulators
from sandbox.shein.emulator import SheinEmulator
from sandbox.temu.emulator import TemuEmulator
from sandbox.tiktok.emulator import TikTokEmulator

__all__ = [
    "DEMO_SHOPS", "EMULATORS", "AliExpressEmulator", "AmazonCredentials", "AmazonEmulator", "Emulator",
    "RateLimit", "SandboxClock", "SheinEmulator", "TemuEmulator", "TikTokCredentials", "TikTokEmulator", "serve",
    "start_emulators",
]
