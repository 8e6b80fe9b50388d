"""The TEMU Open Platform emulator (docs/platforms/temu.md).

``emulator`` is the ``Emulator`` subclass (the signed router, auth, routes), ``orders`` the order reads
(list, detail, ship-to, amounts), ``shapes`` the wire shapes, ids and status codes, ``push`` the write side
(stock edits, shipment confirmation), ``webhook`` the encrypted, signed webhooks.

The package imports ``sandbox.core`` and no other platform. The emulator imports its sibling modules; they
never import it back, but name what they use of it with a Protocol.
"""
