"""The ShipBob warehouse emulator (docs/platforms/shipbob.md), all in ``emulator``.

The package imports ``sandbox.core`` and no other platform.
"""
