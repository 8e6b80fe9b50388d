"""SHEIN's order detail and address export as typed Structs: only the fields the mapping reads,
checked by msgspec.

`mapping.py` decodes a stored bundle straight into `Bundle`; a missing or mistyped field is a
MappingError at its path before any mapping code runs. Optional fields are `None` when absent or null.
Amounts are `Amount`: the client keeps SHEIN's JSON floats as their decimal text, so a JSON float
here means the exact text was lost, and msgspec refuses it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from connectors.fields import Id, IsoTime, Text

Amount = str | int
"""SHEIN's float kept as its decimal text ("12.98"), or a whole number; never a binary float."""


class Goods(msgspec.Struct, gc=False):
    """One unit: SHEIN sends a goods row per unit."""

    goodsId: Id
    skuCode: Id
    sellerCurrencyPrice: Amount
    sellerSku: str | None = None
    goodsTitle: str | None = None


class Packed(msgspec.Struct, gc=False):
    productId: Id  # the goodsId of a unit in the package


class Package(msgspec.Struct, gc=False):
    waybillNo: str | None = None  # unverified: that a waybill means the goods left (docs/platforms/shein.md)
    productInventoryList: list[Packed] | None = None


class Summary(msgspec.Struct, gc=False):
    """The detail's own, partial address."""

    country: Text  # an English name
    province: str | None = None
    city: str | None = None
    postCode: str | None = None


class Order(msgspec.Struct, gc=False):
    orderNo: Id
    orderStatus: int
    orderCurrency: Text
    orderTime: IsoTime  # "2025-07-25T17:22:11.000+0800"
    orderMsgUpdateTime: IsoTime
    orderGoodsInfoList: list[Goods]
    requestDeliveryTime: IsoTime | None = None
    performanceType: Any = None  # meaning unverified: read only by mapping's review hold
    packageWaybillList: list[Package] | None = None
    receiveMsg: Summary | None = None
    productTotalPrice: Amount | None = None
    sellerShippingFee: Amount | None = None
    totalSaleTax: Amount | None = None
    storeDiscountTotalPrice: Amount | None = None
    promotionDiscountTotalPrice: Amount | None = None


class Export(msgspec.Struct, gc=False):
    """An entry of the address export: the full address."""

    country: Text  # an English name
    firstName: str | None = None
    middleName: str | None = None
    lastName: str | None = None
    street: str | None = None
    address: str | None = None
    addressExt: str | None = None
    phone: str | None = None
    email: str | None = None
    city: str | None = None
    province: str | None = None
    district: str | None = None
    postCode: str | None = None


class Bundle(msgspec.Struct, gc=False):
    order: Order
    address: Export | None = None
