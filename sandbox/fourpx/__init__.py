"""The 4PX overseas-warehouse WMS emulator (docs/platforms/fourpx.md).

``emulator`` is the ``Emulator`` subclass (the signed router, stock, test levers), ``outbound`` the outbound
orders: their record, how they move over sandbox time, their methods and ground-truth rows; ``shapes`` the
router's answer envelope, paging and request body, which both use.

The package imports ``sandbox.core`` and no other platform. The emulator imports ``outbound`` and
``shapes``; neither imports the emulator back (``outbound`` names what it uses of it with a Protocol).
"""
