"""AliExpress raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <order_dto as order.get lists it>, "address": <receiptinfo result, or null>}.
Quirks undone here: every time is a Pacific wall-clock string (see `resolve_times` for the autumn
hour that happens twice and the spring hour that never happens); money is {amount, currency_code};
quantities are `product_count`; cancelled orders are FINISH with an end reason; the address
spells the United Kingdom "UK"; the listing gives no fee breakdown.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import orjson

from connectors.aliexpress import wire
from connectors.fields import Doc, canonical_error, decode_bundle, identify_order
from connectors.values import currency_of, line_error, money, money_of, plain_money, quantity_of, within
from pipeline.countries import country_code_from_name
from pipeline.errors import InvalidModel, MappingError
from pipeline.identity import order_key
from pipeline.model import MAX_QUANTITY, Address, FulfilledBy, Money, Order, OrderLine, OrderStatus, Totals
from pipeline.model_checks import TIME_RANGE
from pipeline.ports import BundleIdentity, ShopRef

PACIFIC = ZoneInfo("America/Los_Angeles")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# An order's own clock only moves forward: these are read so that each is <= the next.
ORDERED_TIMES = ("gmt_create", "gmt_pay_time", "gmt_send_goods_time", "gmt_update")
# Wall-clock years read at all: outside them a time is refused before zoneinfo, which overflows on year 1
# or 9999 (the exact bound, 2000 to 2100 UTC, is checked on each reading after it).
WALL_YEARS = range(1999, 2101)
# Where each OrderLine field comes from in a product, for the path of a value the model refuses.
LINE_FIELDS = {"line_ids": "child_id", "platform_sku": "sku_code", "quantity": "product_count"}
PRODUCTS = "order.product_list.order_product_dto"
ITEMS_PATH = f"{PRODUCTS}[*] (product_unit_price × product_count)"

_DECODER = msgspec.json.Decoder(wire.Bundle)

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
    """A bundle as a dict (tests, the CLI): mapped exactly as the stored bytes are."""
    return map_raw(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS), shop)


def map_raw(raw: bytes, shop: ShopRef) -> Order:
    """The pipeline's path: the bundle bytes the store keeps → Order. Flat on purpose: each call, closure
    and f-string here is paid per order (bench/normalize.py)."""
    bundle = decode_bundle(_DECODER, raw)
    order = bundle.order
    status = _status(order)
    pay, send = order.gmt_pay_time, order.gmt_send_goods_time
    placed, updated = _instant(order.gmt_create), _instant(order.gmt_update)
    if (placed is None or updated is None or (pay is not None and _instant(pay) is None)
            or (send is not None and _instant(send) is None)):  # an hour not seen yet, or one that repeats
        times = resolve_times(_readings(order))
        placed, updated = times["gmt_create"], times["gmt_update"]
    products = order.product_list.order_product_dto
    paid = order.pay_amount
    currency = paid.currency_code
    prices = None
    if all(product.product_unit_price.currency_code == currency for product in products):
        prices = plain_money([paid.amount, *[product.product_unit_price.amount for product in products]], currency)
    lines = _lines(products, status, prices)
    currency = currency_of(currency, "order.pay_amount.currency_code")
    ship_to = _address(bundle.address)
    totals = _totals(lines, _paid(paid) if prices is None else prices[0])
    external_id = order.order_id if type(order.order_id) is str else str(order.order_id)
    try:
        return Order(
            key=order_key(shop.platform, shop.shop_id, external_id), seller=shop.seller, platform=shop.platform,
            shop_id=shop.shop_id, external_id=external_id,
            platform_status=order.order_status,
            status=status,
            fulfilled_by=FulfilledBy.SELLER,  # AliExpress has no platform-fulfilment programme in our scope
            placed_at=placed,
            updated_at=updated,
            currency=currency,
            lines=lines,
            ship_to=ship_to,
            totals=totals,
        )
    except InvalidModel as exc:
        raise canonical_error(exc) from None


def _paid(pay_amount: wire.Money) -> Money:
    try:
        return _money(pay_amount)
    except MappingError as exc:
        raise exc.at("order.pay_amount") from None


def _status(order: wire.Order) -> OrderStatus:
    """FINISH covers both a completed and a closed-unfulfilled order; goods sent tells them apart."""
    raw = order.order_status
    sent = order.logistics_status in GOODS_SENT or order.gmt_send_goods_time is not None
    if raw == "FINISH":
        return OrderStatus.DELIVERED if sent else OrderStatus.CANCELLED
    if raw in ("IN_ISSUE", "IN_FROZEN"):  # a dispute or a freeze: shipped or not, nothing to send now
        return OrderStatus.SHIPPED if sent else OrderStatus.PENDING
    if raw not in STATUS:
        raise MappingError("order.order_status", f"unknown status {raw!r}")
    return STATUS[raw]


# --- Pacific time --------------------------------------------------------------------------------


def readings(value: str, path: str = "") -> list[datetime]:
    """The UTC instants a Pacific wall-clock string can mean, the default reading first.

    Normally one. In the autumn fall-back hour two (01:30 PDT, then 01:30 PST an hour later);
    in the spring-forward gap (02:30 never shows on a Pacific clock) also two: the pre-jump PST
    reading first, as if the writer's clock had not sprung forward yet, then the PDT one.
    """
    text = value.strip()
    # The fast path takes wall-clock years 2001-2098 only: every reading of those lies inside 2000 to 2100.
    if ("2000" < text[:4] < "2099" and len(text) == 19 and text[10] == " " and text[4] == text[7] == "-"
            and text[13] == text[16] == ":"):
        offsets = _HOUR_OFFSETS.get(text[:13]) or _hour_offsets(text[:13])
        if offsets:
            try:  # the wall clock read as if it were UTC (fromisoformat is C), then shifted by each offset
                as_if_utc = datetime.fromisoformat(text + "+00:00")
            except ValueError:
                raise MappingError(path, f"not a 'yyyy-MM-dd HH:mm:ss' time: {value[:30]!r}") from None
            return [as_if_utc - offsets[0]] if len(offsets) == 1 else [as_if_utc - offset for offset in offsets]
    try:
        wall = datetime.strptime(text, TIME_FORMAT)  # also takes unpadded fields ("2026-3-8 9:05:00")
    except ValueError:
        raise MappingError(path, f"not a 'yyyy-MM-dd HH:mm:ss' time: {value[:30]!r}") from None
    if wall.year not in WALL_YEARS:  # before zoneinfo, which overflows on year 1 or 9999
        raise MappingError(path, f"time is not {TIME_RANGE}")
    first = within(wall.replace(tzinfo=PACIFIC).astimezone(UTC), path)
    second = within(wall.replace(tzinfo=PACIFIC, fold=1).astimezone(UTC), path)
    return [first] if first == second else [first, second]


def _instant(text: str) -> datetime | None:
    """`readings(text)[0]` when that is the only reading and its hour's offset is memoised (the usual case,
    and then `resolve_times` has nothing to choose); else None, and the caller takes `readings` for every
    time. A memoised hour passed `readings`' checks of the first 13 characters (the year inside 2001 to
    2098, so the reading is inside 2000 to 2100; the dashes, the space); the rest are checked here."""
    offsets = _HOUR_OFFSETS.get(text[:13])
    if offsets is None or len(offsets) != 1 or len(text) != 19 or text[13] != ":" or text[16] != ":":
        return None
    try:
        return datetime.fromisoformat(text + "+00:00") - offsets[0]
    except ValueError:
        return None  # `readings` names it


# Pacific UTC offsets by wall-clock hour ("2026-11-01 01" → PDT then PST), so the zone rules are
# looked up once per hour of orders, not for every time of every order: four zoneinfo conversions
# per time made the times a third of an order's mapping cost. Grows by 24 small entries per day seen.
_HOUR_OFFSETS: dict[str, tuple[timedelta, ...]] = {}
HOUR_MEMO_LIMIT = 100_000  # about eleven years of hours; past it, hours are computed each time


def _hour_offsets(hour: str) -> tuple[timedelta, ...]:
    """The distinct offsets (fold 0 first) of one wall-clock hour, memoised; empty when the offsets
    change inside the hour (no Pacific rule does that: such a time takes the slow path)."""
    try:
        start, end = datetime.fromisoformat(f"{hour}:00:00"), datetime.fromisoformat(f"{hour}:59:59")
    except ValueError:
        return ()
    offsets = [PACIFIC.utcoffset(moment.replace(fold=fold)) for moment in (start, end) for fold in (0, 1)]
    if offsets[:2] != offsets[2:]:
        return ()
    found = tuple(dict.fromkeys(offsets[:2]))
    if len(_HOUR_OFFSETS) < HOUR_MEMO_LIMIT:  # bounded: hostile times must not grow it without end
        _HOUR_OFFSETS[hour] = found
    return found


def pacific_readings(doc: Doc) -> list[datetime]:
    """`readings` of a value in a raw dict (the client's and `identify`'s reads)."""
    if not doc.present():
        raise MappingError(doc.path, "missing")
    if not isinstance(doc.value, str):
        raise MappingError(doc.path, "expected a 'yyyy-MM-dd HH:mm:ss' Pacific time string")
    return readings(doc.value, doc.path)


def resolve_times(options: dict[str, list[datetime]]) -> dict[str, datetime]:
    """Settle the readings of the order's Pacific times (by name, in `ORDERED_TIMES` order) with what
    the bundle itself says.

    1. The times are ordered (create ≤ pay ≤ send goods ≤ update): readings that break the order
       are out (e.g. created 01:40, paid 01:05 means created in PDT and paid in PST).
    2. Of what remains, the reading with the shortest wait from placing to paying wins: buyers pay
       at checkout, so created 01:55 and paid 02:02 PST means created 01:55 PST, not an hour earlier.
    3. Still open: the default readings (the first, PDT occurrence of a repeated hour; PST for a
       time in the spring gap). If no reading is in order at all, each time gets its default.
    """
    defaults = {name: values[0] for name, values in options.items()}
    if all(len(values) == 1 for values in options.values()):
        return defaults  # the usual case: nothing ambiguous, so nothing to choose
    names = list(options)
    best: tuple[tuple[float, int], tuple[datetime, ...]] | None = None
    for choice in itertools.product(*(list(enumerate(o)) for o in options.values())):
        moments = tuple(m for _, m in choice)
        if any(a > b for a, b in itertools.pairwise(moments)):
            continue
        picked = dict(zip(names, moments, strict=True))
        wait = (picked["gmt_pay_time"] - picked["gmt_create"]).total_seconds() if "gmt_pay_time" in picked else 0.0
        rank = (wait, sum(index for index, _ in choice))
        if best is None or rank < best[0]:
            best = (rank, moments)
    return dict(zip(names, best[1], strict=True)) if best else defaults


def _readings(order: wire.Order) -> dict[str, list[datetime]]:
    """The readings of each time the order has, by name in `ORDERED_TIMES` order."""
    options = {}
    for name in ORDERED_TIMES:
        value = getattr(order, name)
        if value is not None:
            try:
                options[name] = readings(value)
            except MappingError as exc:
                raise exc.at(f"order.{name}") from None
    return options


def _updated_at(order: Doc) -> datetime:
    try:
        return resolve_times({name: pacific_readings(order[name]) for name in ORDERED_TIMES
                              if name in ("gmt_create", "gmt_update") or order[name].present()})["gmt_update"]
    except MappingError:
        return pacific_readings(order["gmt_update"])[0]  # another time is broken: the update's default


# --- money, lines, address -----------------------------------------------------------------------


def _money(value: wire.Money) -> Money:
    """An AliExpress Money; a MappingError names the field inside it, for the caller to prefix with `.at()`."""
    return money_of(value.amount, currency_of(value.currency_code, "currency_code"), "amount")


def _lines(products: list[wire.Product], status: OrderStatus, prices: list[Money] | None) -> tuple[OrderLine, ...]:
    """One line per product. A product_count of 0 is held, not dropped: it is the line's quantity
    (docs/platforms/aliexpress.md), and 0 of it is no known shape, so it is never read as "nothing to ship".
    `prices`: the pay amount then each product's unit price, read already (plain_money), or None to read
    each here."""
    delivered, cancelled = status is OrderStatus.DELIVERED, status is OrderStatus.CANCELLED
    lines = []
    for i, product in enumerate(products):
        quantity = product.product_count
        if not 0 < quantity <= MAX_QUANTITY:  # (the wire Struct made it an int)
            quantity_of(quantity, PRODUCTS, i, "product_count")
        shipped = quantity if delivered or product.son_order_status in SHIPPED_LINE else 0
        if prices is not None:
            unit_price = prices[i + 1]
        else:
            try:
                unit_price = _money(product.product_unit_price)
            except MappingError as exc:
                raise exc.at(f"{PRODUCTS}[{i}].product_unit_price") from None
        try:
            lines.append(OrderLine(
                line_ids=(product.child_id if type(product.child_id) is str else str(product.child_id),),
                platform_sku=product.sku_code if type(product.sku_code) is str else str(product.sku_code),
                title=product.product_name or "",
                quantity=quantity,
                cancelled_quantity=quantity if cancelled else 0,
                shipped_quantity=shipped,
                unit_price=unit_price,
            ))
        except InvalidModel as exc:
            raise line_error(exc, PRODUCTS, i, LINE_FIELDS) from None
    return tuple(lines)


def _totals(lines: tuple[OrderLine, ...], paid: Money) -> Totals:
    """The listing only has each line's price and what the buyer paid: the difference is shipping
    and any added tax (kept together in `shipping`), or a discount when the buyer paid less."""
    currency = paid.currency
    items = Decimal(0)
    for line in lines:
        if line.unit_price is not None:
            items += line.unit_price.amount * line.quantity
    gap = paid.amount - items
    zero = Money.zero(currency)
    item_total = money(items, currency, ITEMS_PATH)
    return Totals(items=item_total, shipping=Money(gap, currency) if gap >= 0 else zero, tax=zero,
                  discount=Money(-gap, currency) if gap <= 0 else zero, total=paid)


def _address(doc: wire.Receipt | None) -> Address | None:
    if doc is None:
        return None  # not fetched: unpaid or closed orders, nothing to ship
    country = country_code_from_name(doc.country)
    if country is None:
        raise MappingError("address.country", f"unknown country {doc.country[:30]!r}")
    name, line1 = doc.contact_person or None, doc.address or None
    mobile = doc.mobile_no or doc.phone_number or None
    phone = f"{doc.phone_country or ''}{mobile}" if mobile else None
    try:
        return Address(country=country, name=name, phone=phone, line1=line1, line2=doc.address2 or None,
                       city=doc.city or None, region=doc.province or None, postal_code=doc.zip or None,
                       pii_complete=bool(name and line1))
    except InvalidModel as exc:
        raise MappingError(f"address.{exc.path}", exc.message) from None
