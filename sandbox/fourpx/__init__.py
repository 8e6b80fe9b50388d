"""The 4PX overseas-warehouse WMS emulator (docs/platforms/fourpx.md), all in ``emulator``.

The package imports ``sandbox.core`` and no other platform.
"""
