"""AliExpress raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <order_dto as order.get lists it>, "address": <receiptinfo result, or null>}.
Quirks undone here: every time is a Pacific wall-clock string (see `resolve_times` for the autumn
hour that happens twice and the spring hour that never happens); money is {amount, currency_code};
quantities are `product_count`; cancelled orders are FINISH with an end reason; the address
spells the United Kingdom "UK"; the listing gives no fee breakdown.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connectors.fields import Doc, canonical_order, identify_order, order_doc
from pipeline.countries import country_code_from_name
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import Address, FulfilledBy, Money, Order, OrderLine, OrderStatus, Totals
from pipeline.ports import BundleIdentity, ShopRef

PACIFIC = ZoneInfo("America/Los_Angeles")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# An order's own clock only moves forward: these are read so that each is <= the next.
ORDERED_TIMES = ("gmt_create", "gmt_pay_time", "gmt_send_goods_time", "gmt_update")

STATUS = {
    "PLACE_ORDER_SUCCESS": OrderStatus.PENDING,  # not paid
    "RISK_CONTROL": OrderStatus.PENDING,  # payment under AliExpress's fraud check
    "WAIT_SELLER_EXAMINE_MONEY": OrderStatus.PENDING,
    "IN_CANCEL": OrderStatus.PENDING,  # the buyer asked to cancel: do not ship while that is open
    "WAIT_SELLER_SEND_GOODS": OrderStatus.READY,
    "SELLER_PART_SEND_GOODS": OrderStatus.PARTIALLY_SHIPPED,
    "WAIT_BUYER_ACCEPT_GOODS": OrderStatus.SHIPPED,
    "FUND_PROCESSING": OrderStatus.DELIVERED,
}
GOODS_SENT = {"SELLER_SEND_GOODS", "SELLER_SEND_PART_GOODS", "BUYER_ACCEPT_GOODS"}
SHIPPED_LINE = {"WAIT_BUYER_ACCEPT_GOODS", "FUND_PROCESSING"}


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "order_id", _updated_at)


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    order = order_doc(bundle)
    external_id = order["order_id"].text()
    raw_status = order["order_status"].text()
    status = _status(order, raw_status)
    times = resolve_times(order)
    pay = order["pay_amount"]
    currency = pay["currency_code"].text()
    lines = tuple(_lines(order["product_list"]["order_product_dto"], status))
    return canonical_order(
        shop, external_id,
        platform_status=raw_status,
        status=status,
        fulfilled_by=FulfilledBy.SELLER,  # AliExpress has no platform-fulfilment programme in our scope
        placed_at=times["gmt_create"],
        updated_at=times["gmt_update"],
        currency=currency,
        lines=lines,
        ship_to=_address(Doc(bundle.get("address"), "address")),
        totals=_totals(lines, _money(pay)),
    )


def _status(order: Doc, raw: str) -> OrderStatus:
    """FINISH covers both a completed and a closed-unfulfilled order; goods sent tells them apart."""
    sent = order["logistics_status"].text_or("") in GOODS_SENT or order["gmt_send_goods_time"].present()
    if raw == "FINISH":
        return OrderStatus.DELIVERED if sent else OrderStatus.CANCELLED
    if raw in ("IN_ISSUE", "IN_FROZEN"):  # a dispute or a freeze: shipped or not, nothing to send now
        return OrderStatus.SHIPPED if sent else OrderStatus.PENDING
    if raw not in STATUS:
        raise MappingError("order.order_status", f"unknown status {raw!r}")
    return STATUS[raw]


# --- Pacific time --------------------------------------------------------------------------------


def pacific_readings(doc: Doc) -> list[datetime]:
    """The UTC instants a Pacific wall-clock string can mean, the default reading first.

    Normally one. In the autumn fall-back hour two (01:30 PDT, then 01:30 PST an hour later);
    in the spring-forward gap (02:30 never shows on a Pacific clock) also two: the pre-jump PST
    reading first, as if the writer's clock had not sprung forward yet, then the PDT one.
    """
    value = doc.value
    if not doc.present():
        raise MappingError(doc.path, "missing")
    if not isinstance(value, str):
        raise MappingError(doc.path, "expected a 'yyyy-MM-dd HH:mm:ss' Pacific time string")
    try:
        wall = datetime.strptime(value.strip(), TIME_FORMAT)
    except ValueError:
        raise MappingError(doc.path, f"not a 'yyyy-MM-dd HH:mm:ss' time: {value[:30]!r}") from None
    readings = [wall.replace(tzinfo=PACIFIC, fold=fold).astimezone(UTC) for fold in (0, 1)]
    return readings[:1] if readings[0] == readings[1] else readings


def resolve_times(order: Doc) -> dict[str, datetime]:
    """Read the order's Pacific times, settling ambiguous ones with what the bundle itself says.

    1. The times are ordered (create ≤ pay ≤ send goods ≤ update): readings that break the order
       are out (e.g. created 01:40, paid 01:05 means created in PDT and paid in PST).
    2. Of what remains, the reading with the shortest wait from placing to paying wins: buyers pay
       at checkout, so created 01:55 and paid 02:02 PST means created 01:55 PST, not an hour earlier.
    3. Still open: the default readings (the first, PDT occurrence of a repeated hour; PST for a
       time in the spring gap). If no reading is in order at all, each time gets its default.
    """
    required = ("gmt_create", "gmt_update")
    names = [name for name in ORDERED_TIMES if name in required or order[name].present()]
    options = [pacific_readings(order[name]) for name in names]
    best: tuple[tuple[float, int], tuple[datetime, ...]] | None = None
    for choice in itertools.product(*(list(enumerate(o)) for o in options)):
        moments = tuple(m for _, m in choice)
        if any(a > b for a, b in itertools.pairwise(moments)):
            continue
        picked = dict(zip(names, moments, strict=True))
        wait = (picked["gmt_pay_time"] - picked["gmt_create"]).total_seconds() if "gmt_pay_time" in picked else 0.0
        rank = (wait, sum(index for index, _ in choice))
        if best is None or rank < best[0]:
            best = (rank, moments)
    chosen = best[1] if best else tuple(o[0] for o in options)
    return dict(zip(names, chosen, strict=True))


def _updated_at(order: Doc) -> datetime:
    try:
        return resolve_times(order)["gmt_update"]
    except MappingError:
        return pacific_readings(order["gmt_update"])[0]  # another time is broken: the update's default


# --- money, lines, address -----------------------------------------------------------------------


def _money(doc: Doc) -> Money:
    try:
        return Money(doc["amount"].decimal_string(), doc["currency_code"].text())
    except InvalidModel as exc:
        raise MappingError(doc.path, exc.message) from None


def _lines(products: Doc, status: OrderStatus) -> list[OrderLine]:
    lines = []
    for product in products.items():
        quantity = product["product_count"].integer()
        line_status = product["son_order_status"].text_or("") or ""
        shipped = quantity if line_status in SHIPPED_LINE or status is OrderStatus.DELIVERED else 0
        lines.append(OrderLine(
            line_ids=(product["child_id"].text(),),
            platform_sku=product["sku_code"].text(),
            title=product["product_name"].text_or("") or "",
            quantity=quantity,
            cancelled_quantity=quantity if status is OrderStatus.CANCELLED else 0,
            shipped_quantity=shipped,
            unit_price=_money(product["product_unit_price"]),
        ))
    return lines


def _totals(lines: tuple[OrderLine, ...], paid: Money) -> Totals:
    """The listing only has each line's price and what the buyer paid: the difference is shipping
    and any added tax (kept together in `shipping`), or a discount when the buyer paid less."""
    currency = paid.currency
    items = Money.zero(currency)
    for line in lines:
        if line.unit_price is not None:
            items = items + line.unit_price.times(line.quantity)
    gap = paid.amount - items.amount
    extra = Money(max(gap, Decimal(0)), currency)
    discount = Money(max(-gap, Decimal(0)), currency)
    return Totals(items=items, shipping=extra, tax=Money.zero(currency), discount=discount, total=paid)


def _address(doc: Doc) -> Address | None:
    if not doc.present():
        return None  # not fetched: unpaid or closed orders, nothing to ship
    raw_country = doc["country"].text()
    country = country_code_from_name(raw_country)
    if country is None:
        raise MappingError(f"{doc.path}.country", f"unknown country {raw_country[:30]!r}")
    name = doc["contact_person"].text_or(None)
    line1 = doc["address"].text_or(None)
    mobile = doc["mobile_no"].text_or(None) or doc["phone_number"].text_or(None)
    phone = f"{doc['phone_country'].text_or('') or ''}{mobile}" if mobile else None
    try:
        return Address(country=country, name=name, phone=phone, line1=line1,
                       line2=doc["address2"].text_or(None), city=doc["city"].text_or(None),
                       region=doc["province"].text_or(None), postal_code=doc["zip"].text_or(None),
                       pii_complete=bool(name and line1))
    except InvalidModel as exc:
        raise MappingError(f"{doc.path}.{exc.path}", exc.message) from None
