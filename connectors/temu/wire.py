"""TEMU's order, shipping-info and amount documents as typed Structs: only the fields the mapping
reads, checked by msgspec.

`mapping.py` decodes a stored bundle straight into `Bundle`; a missing or mistyped field is a
MappingError at its path before any mapping code runs. Optional fields are `None` when absent or null.
"""

from __future__ import annotations

import msgspec

from connectors.fields import Id, Text


class Money(msgspec.Struct, gc=False):
    """TEMU's `{currency, amount}`: `amount` is a LONG of the currency's minor units (docs/platforms/temu.md)."""

    currency: Text
    amount: int  # minor units: USD 1999 is 19.99, JPY 1980 is 1980


class Product(msgspec.Struct, gc=False):
    productSkuId: Id | None = None  # the platform SKU on SEMI malls
    extCode: str | None = None  # the seller's own SKU


class Child(msgspec.Struct, gc=False):
    """One child order: one SKU of the parent order, TEMU's line."""

    orderSn: Id
    goodsId: Id  # needed to confirm shipment: a child without it cannot be fulfilled
    originalOrderQuantity: int
    quantity: int  # what is left after cancellations before shipment
    orderStatus: int
    canceledQuantityBeforeShipment: int | None = None
    skuId: Id | None = None  # the platform SKU on LOCAL malls
    productList: list[Product] | None = None
    goodsName: str | None = None
    fulfillmentType: str | None = None


class Parent(msgspec.Struct, gc=False):
    parentOrderSn: Id
    parentOrderStatus: int
    parentOrderTime: int
    updateTime: int
    expectShipLatestTime: int | None = None
    regionId: int | None = None  # the currency's only hint while the amounts are still being calculated


class Order(msgspec.Struct, gc=False):
    parentOrderMap: Parent
    orderList: list[Child]


class ChildAmount(msgspec.Struct, gc=False):
    """One `result.orderList[]` row of bg.order.amount.query: a child order's money."""

    orderSn: Id
    unitBasePrice: Money | None = None


class ParentAmount(msgspec.Struct, gc=False):
    """`result.parentOrderMap` of bg.order.amount.query (not the order list's parentOrderMap)."""

    customerPaid: Money
    basePriceTotal: Money | None = None
    shippingAmountTotal: Money | None = None
    taxTotal: Money | None = None
    discountFromSeller: Money | None = None
    discountFromTEMU: Money | None = None


class Amount(msgspec.Struct, gc=False):
    """`result` of bg.order.amount.query: parent totals, one row per child, and TEMU's warnings."""

    parentOrderMap: ParentAmount
    orderList: list[ChildAmount]
    warning: list[str] | None = None


class Shipping(msgspec.Struct, gc=False):
    regionName1: Text  # the country, by its English name
    regionName2: str | None = None
    regionName3: str | None = None
    regionName4: str | None = None
    receiptName: str | None = None
    mobile: str | None = None
    mail: str | None = None
    addressLine1: str | None = None
    addressLine2: str | None = None
    addressLine3: str | None = None
    postCode: str | None = None


class Bundle(msgspec.Struct, gc=False):
    order: Order
    amount: Amount | None = None  # null while TEMU is still calculating the amounts (140020008)
    shipping: Shipping | None = None  # not fetched while PENDING
