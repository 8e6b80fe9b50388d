"""The Amazon SP-API emulator (docs/platforms/amazon.md).

``emulator`` is the ``Emulator`` subclass (auth, routes, rate headers), ``tokens`` the LWA and Restricted
Data Tokens and the ``Grant`` each opens, ``orders`` the Orders v0 reads, ``shapes`` the wire shapes, ids
and errors, ``push`` the write side (listings stock, shipment confirmation).

The package imports ``sandbox.core`` and no other platform. The emulator imports its sibling modules; they
never import it back, but name what they use of it with a Protocol.
"""
