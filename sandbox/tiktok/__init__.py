"""The TikTok Shop emulator (docs/platforms/tiktok.md).

``emulator`` is the ``Emulator`` subclass (signing, auth, routes), ``tokens`` the token refresh and the shops
a grant opens, ``orders`` the order reads (search, detail), ``shapes`` the wire shapes, ids and errors,
``push`` the write side (inventory, shipping providers, mark-as-shipped), ``webhook`` the signed order and
address webhooks.

The package imports ``sandbox.core`` and no other platform. The emulator imports its sibling modules; they
never import it back, but name what they use of it with a Protocol.
"""
