"""AliExpress's order listing and receipt info as typed Structs: only the fields the mapping reads,
checked by msgspec.

`mapping.py` decodes a stored bundle straight into `Bundle`; a missing or mistyped field is a
MappingError at its path before any mapping code runs. Optional fields are `None` when absent or null.
Times stay strings here: they are Pacific wall-clock times that `mapping.py` has to interpret.
"""

from __future__ import annotations

import msgspec

from connectors.fields import Id, Text


class Money(msgspec.Struct, gc=False):
    amount: str  # decimal text
    currency_code: Text


class Product(msgspec.Struct, gc=False):
    """One line: a SKU with its count (`product_count`), not one row per unit."""

    child_id: Id
    sku_code: Id
    product_count: int
    product_unit_price: Money
    son_order_status: str | None = None
    product_name: str | None = None


class ProductList(msgspec.Struct, gc=False):
    order_product_dto: list[Product]


class Order(msgspec.Struct, gc=False):
    order_id: Id
    order_status: Text
    gmt_create: str  # "yyyy-MM-dd HH:mm:ss", Pacific
    gmt_update: str
    pay_amount: Money
    product_list: ProductList
    gmt_pay_time: str | None = None
    gmt_send_goods_time: str | None = None
    logistics_status: str | None = None


class Receipt(msgspec.Struct, gc=False):
    country: Text  # a code or an English name; "UK" for the United Kingdom
    contact_person: str | None = None
    address: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    zip: str | None = None
    mobile_no: str | None = None
    phone_number: str | None = None
    phone_country: str | None = None


class Bundle(msgspec.Struct, gc=False):
    order: Order
    address: Receipt | None = None  # not fetched for unpaid or closed orders
