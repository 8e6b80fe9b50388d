"""Amazon SP-API documents as typed Structs: only the fields the mapping reads, checked by msgspec.

`mapping.py` decodes a stored bundle straight into `Bundle`; a missing or mistyped field is a
MappingError at its path before any mapping code runs. Optional fields are `None` when absent or null.
Field names are Amazon's own, so each one can be looked up in the Orders v0 reference.
"""

from __future__ import annotations

import msgspec

from connectors.fields import Id, IsoTime, Text


class Money(msgspec.Struct, gc=False):
    CurrencyCode: Text
    Amount: str  # decimal text


class Address(msgspec.Struct, gc=False):
    """A shipping address; the RDT-fetched one may instead wrap it in `ShippingAddress`."""

    CountryCode: str | None = None
    Name: str | None = None
    CompanyName: str | None = None
    Phone: str | None = None
    AddressLine1: str | None = None
    AddressLine2: str | None = None
    AddressLine3: str | None = None
    City: str | None = None
    StateOrRegion: str | None = None
    District: str | None = None
    County: str | None = None
    PostalCode: str | None = None
    ShippingAddress: Address | None = None


class Buyer(msgspec.Struct, gc=False):
    BuyerEmail: str | None = None


class Order(msgspec.Struct, gc=False):
    AmazonOrderId: Id
    OrderStatus: Text
    PurchaseDate: IsoTime
    LastUpdateDate: IsoTime
    LatestShipDate: IsoTime | None = None
    FulfillmentChannel: str | None = None
    MarketplaceId: str | None = None
    OrderTotal: Money | None = None
    ShippingAddress: Address | None = None  # without an RDT: city, region, postcode and country only
    BuyerInfo: Buyer | None = None


class Item(msgspec.Struct, gc=False):
    OrderItemId: Id
    QuantityOrdered: int
    QuantityShipped: int | None = None
    SellerSKU: str | None = None
    ASIN: str | None = None
    Title: str | None = None
    ItemPrice: Money | None = None  # the line total, not a unit price
    ShippingPrice: Money | None = None
    ItemTax: Money | None = None
    ShippingTax: Money | None = None
    PromotionDiscount: Money | None = None
    ShippingDiscount: Money | None = None


class Bundle(msgspec.Struct, gc=False):
    order: Order
    items: list[Item]
    address: Address | None = None  # fetched with a Restricted Data Token, when there is one
