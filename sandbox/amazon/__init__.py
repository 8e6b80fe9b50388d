"""The Amazon SP-API emulator (docs/platforms/amazon.md).

``emulator`` is the ``Emulator`` subclass (tokens, auth, reads, routes), ``shapes`` the wire shapes, ids and
errors, ``push`` the write side (listings stock, shipment confirmation).

The package imports ``sandbox.core`` and no other platform. The emulator imports its sibling modules; they
never import it back, but name what they use of it with a Protocol.
"""
