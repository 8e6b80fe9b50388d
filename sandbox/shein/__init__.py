"""The SHEIN Open Platform emulator (docs/platforms/shein.md).

``emulator`` is the ``Emulator`` subclass (signing, auth, routes), ``orders`` the order reads (list, detail,
export-address), ``shapes`` the wire shapes, error codes and crypto, ``push`` the write side (inventory,
tracking), ``webhook`` the encrypted, signed webhooks.

The package imports ``sandbox.core`` and no other platform. The emulator imports its sibling modules; they
never import it back, but name what they use of it with a Protocol.
"""
