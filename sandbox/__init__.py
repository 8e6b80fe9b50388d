"""Orderhub's platform sandbox: faithful local emulators of marketplace APIs on loopback HTTP.

    from sandbox import AmazonEmulator, SandboxClock
    with AmazonEmulator(clock=SandboxClock(factor=0), orders=200, seed=7) as amazon:
        amazon.url, amazon.clock.advance(3600), amazon.configure_faults(error_rate=0.1)
        amazon.counters.snapshot(), amazon.pushed(), amazon.ground_truth()

Modules: server (base + routing), control (/_sandbox/ API), clock, buckets, faults, generator
and world (orders), listings (the ids stock pushes may name), demo (shops and credentials), one module family per platform (amazon*, tiktok*,
temu*, shein*, aliexpress*) and warehouse (fourpx*, shipbob*), serve (standing world).
"""

from __future__ import annotations

from sandbox.aliexpress import AliExpressEmulator
from sandbox.amazon import AmazonEmulator
from sandbox.buckets import RateLimit
from sandbox.clock import SandboxClock
from sandbox.demo import DEMO_SHOPS, AmazonCredentials, TikTokCredentials
from sandbox.serve import EMULATORS, serve, start_emulators
from sandbox.server import Emulator
from sandbox.shein import SheinEmulator
from sandbox.temu import TemuEmulator
from sandbox.tiktok import TikTokEmulator

__all__ = [
    "DEMO_SHOPS", "EMULATORS", "AliExpressEmulator", "AmazonCredentials", "AmazonEmulator", "Emulator",
    "RateLimit", "SandboxClock", "SheinEmulator", "TemuEmulator", "TikTokCredentials", "TikTokEmulator", "serve", "start_emulators",
]
