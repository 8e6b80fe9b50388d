"""The ShipBob warehouse emulator (docs/platforms/shipbob.md).

``emulator`` is the ``Emulator`` subclass (auth, the rate window, routes, stock, test levers), ``orders``
the orders: their record, how they move over sandbox time, their endpoints and ground-truth rows.

The package imports ``sandbox.core`` and no other platform. The emulator imports ``orders``; it never
imports the emulator back, but names what it uses of it with a Protocol.
"""
