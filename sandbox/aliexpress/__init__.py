"""The AliExpress IOP emulator (docs/platforms/aliexpress.md).

``emulator`` is the ``Emulator`` subclass (the gateway, reads, routes), ``shapes`` the wire shapes, ids and
errors, ``push`` the write side (inventory, fulfil).

The package imports ``sandbox.core`` and no other platform. The emulator imports its sibling modules; they
never import it back, but name what they use of it with a Protocol.
"""
