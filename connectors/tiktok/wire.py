"""TikTok Shop's order JSON as typed Structs: only the fields the mapping reads, checked by msgspec.

`mapping.py` decodes a stored bundle straight into `Bundle`; a missing or mistyped field is a
MappingError at its path before any mapping code runs. Optional fields are `None` when absent or null.
The fields are those of both order versions the client reads: search 202309 and detail 202507.
"""

from __future__ import annotations

import msgspec

from connectors.fields import Id, Text


class LineItem(msgspec.Struct, gc=False):
    """One unit: TikTok sends a row per unit, even for three of one SKU."""

    id: Id
    sku_id: Id
    seller_sku: str | None = None
    product_name: str | None = None
    display_status: str | None = None
    package_status: str | None = None
    sale_price: str | None = None  # decimal text


class Payment(msgspec.Struct, gc=False):
    currency: Text
    total_amount: str  # decimal text; the other amounts are optional
    sub_total: str | None = None
    shipping_fee: str | None = None
    tax: str | None = None
    seller_discount: str | None = None
    platform_discount: str | None = None


class District(msgspec.Struct, gc=False):
    address_level: str | None = None
    address_name: str | None = None


class RecipientAddress(msgspec.Struct, gc=False):
    region_code: Text
    name: str | None = None
    phone_number: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_line3: str | None = None
    post_town: str | None = None
    postal_code: str | None = None
    district_info: list[District] | None = None


class Order(msgspec.Struct, gc=False):
    id: Id
    status: Text
    create_time: int
    update_time: int
    payment: Payment
    line_items: list[LineItem]
    fulfillment_type: str | None = None
    rts_sla_time: int | None = None
    recipient_address: RecipientAddress | None = None


class Bundle(msgspec.Struct, gc=False):
    order: Order
