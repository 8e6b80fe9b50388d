"""Mapping under hostile input: every platform's published wire shape (its fixtures), mutated, either maps
to an order inside the model's bounds or fails as a MappingError naming a field path. Nothing else.

The pipeline holds a MappingError as INVALID_PAYLOAD with the raw payload kept and the path in the hold;
any other exception loses the path (and an Order outside the bounds would go on as READY). Mutations
replace any leaf or container with hostile values (huge, negative, NaN and infinite numbers as ints,
floats and strings, very long strings, null, lists, objects, booleans, out-of-range epoch times), delete
keys and change container types; the bundle is serialised as the store does (orjson), or, for integers
orjson cannot write, as plain JSON text. `identify` (what a held bundle is filed under) must never raise.
Bounded: derandomized, 300 examples per platform, a few seconds in all.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import msgspec
import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from connectors.aliexpress import mapping as aliexpress_mapping
from connectors.aliexpress import wire as aliexpress_wire
from connectors.amazon import mapping as amazon_mapping
from connectors.amazon import wire as amazon_wire
from connectors.registry import PLATFORMS
from connectors.shein import mapping as shein_mapping
from connectors.shein import wire as shein_wire
from connectors.shein.client import decode_exact
from connectors.temu import mapping as temu_mapping
from connectors.temu import wire as temu_wire
from connectors.tiktok import mapping as tiktok_mapping
from connectors.tiktok import wire as tiktok_wire
from pipeline.errors import MappingError
from pipeline.model import EventKind, HoldReason, Order, OrderStatus
from pipeline.money import MAX_AMOUNT
from pipeline.ports import BundleIdentity
from pipeline.store import UpsertResult
from pipeline.sync import store_bundles
from tests.connectors.fixtures import FIXTURES, bundle, shop

MAPPINGS = {"amazon": amazon_mapping, "tiktok": tiktok_mapping, "temu": temu_mapping, "shein": shein_mapping,
            "aliexpress": aliexpress_mapping}
WIRE = {"amazon": amazon_wire, "tiktok": tiktok_wire, "temu": temu_wire, "shein": shein_wire,
        "aliexpress": aliexpress_wire}
# The bounds, written out here rather than read from the model, so the model cannot loosen them.
MAX_QUANTITY = 1_000_000
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
Path = tuple[str | int, ...]


class Mutation(NamedTuple):
    op: str  # "set", "delete" or "retype"
    path: Path
    value: Any = None


class Case(NamedTuple):
    fixture: str
    mutations: tuple[Mutation, ...]


def fixture_names(platform: str) -> list[str]:
    return sorted(p.stem for p in (FIXTURES / platform).glob("*.json"))


def load(platform: str, name: str) -> Any:
    """A fixture as its client hands it on: SHEIN's floats kept as their exact decimal text."""
    if platform == "shein":
        return decode_exact((FIXTURES / platform / f"{name}.json").read_bytes())
    return bundle(platform, name)


# --- hostile values ------------------------------------------------------------------------------

EPOCHS = [0, -1, 1, 946684799, 946684800, 4102444799, 4102444800, 253402300800, 10**20, -(10**20), 2**62,
          2**63 - 1, -(2**63), 2**64 - 1, 1e20, -1e20, 1.5e9]
NUMBERS = st.one_of(
    st.sampled_from([*EPOCHS, 2, 10**6, 10**6 + 1, 10**15, 10**30, -5, -0.01, 0.1, 1e308, float("nan"),
                     float("inf"), float("-inf"), -0.0]),
    st.integers(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
)
NUMBER_TEXT = ["1e400", "-1e400", "1E+999999999", "1e-400", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf",
               "-0", "-0.01", "-19.99", "0", "0.00", "1e30", "99999999999999999999999999999.99", "9" * 5000,
               "1" + "0" * 30, " 12.5 ", "12,50", "0x1F", "1_000", "١٢", "", " "]
TIME_TEXT = ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "1970-01-01T00:00:00Z",
             "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "2026-03-01T09:15:02", "0001-01-01 00:00:00",
             "9999-12-31 23:59:59", "1969-12-31 16:00:00", "2100-01-01 00:00:00", "2026-02-30 10:00:00",
             "0001-01-01T00:00:00.000+0800", "9999-12-31T23:59:59.000-0800", "2026-13-01T00:00:00.000+0800"]
STRINGS = st.one_of(
    st.sampled_from(NUMBER_TEXT + TIME_TEXT + ["x" * 100_000, "*", "***", "UNKNOWN", "US", "USD", "XXX", "null"]),
    st.text(max_size=40), st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
SHAPES = st.sampled_from([None, True, False, [], {}, [1], [None], {"a": 1}, [{}], {"": None}])
HOSTILE = st.one_of(NUMBERS, STRINGS, SHAPES)


# --- mutations -----------------------------------------------------------------------------------


def paths(doc: Any, prefix: Path = ()) -> list[Path]:
    """Every path inside `doc` (containers and leaves), the root excluded."""
    found: list[Path] = []
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def retyped(value: Any) -> Any:
    """The same content in another container type (or a scalar wrapped in one)."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return [value]


def apply(doc: Any, mutation: Mutation) -> None:
    """Apply one mutation in place; a path an earlier mutation removed is skipped."""
    *parents, last = mutation.path
    node = doc
    for key in parents:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return
    try:
        current = node[last]
    except (KeyError, IndexError, TypeError):
        return
    if mutation.op == "delete":
        del node[last]
    elif mutation.op == "retype":
        node[last] = retyped(current)
    else:
        node[last] = copy.deepcopy(mutation.value)  # a list or object value must stay the strategy's own


def read_paths(doc: Any, info: msgspec.inspect.Type, prefix: Path = ()) -> list[Path]:
    """The paths inside `doc` that the platform's wire Structs declare: the fields the mapping reads."""
    if isinstance(info, msgspec.inspect.UnionType):
        inner = [t for t in info.types if isinstance(t, msgspec.inspect.StructType | msgspec.inspect.ListType)]
        info = inner[0] if inner else info
    found: list[Path] = []
    if isinstance(info, msgspec.inspect.StructType) and isinstance(doc, dict):
        for field in info.fields:
            if field.encode_name in doc:
                path = (*prefix, field.encode_name)
                found.append(path)
                found.extend(read_paths(doc[field.encode_name], field.type, path))
    elif isinstance(info, msgspec.inspect.ListType) and isinstance(doc, list):
        for i, item in enumerate(doc):
            found.append((*prefix, i))
            found.extend(read_paths(item, info.item_type, (*prefix, i)))
    return found


@st.composite
def cases(draw: st.DrawFn, platform: str) -> Case:
    """A fixture and 1-3 mutations; most of them hit a field the mapping reads, the rest anything."""
    name = draw(st.sampled_from(fixture_names(platform)))
    doc = load(platform, name)
    wire_type = msgspec.inspect.type_info(WIRE[platform].Bundle)
    mutations = []
    for _ in range(draw(st.integers(1, 3))):
        candidates = read_paths(doc, wire_type) if draw(st.integers(0, 3)) else paths(doc)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        op = draw(st.sampled_from(["set", "set", "set", "delete", "retype"]))
        mutation = Mutation(op, path, draw(HOSTILE) if op == "set" else None)
        apply(doc, mutation)
        mutations.append(mutation)
    return Case(name, tuple(mutations))


def wire_bytes(doc: Any) -> bytes:
    """The bundle as the store keeps it (orjson); integers past 64 bits, which orjson cannot write, as
    plain JSON text: a platform could send them, and the mapping must still answer."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(doc, sort_keys=True).encode()


# --- the property --------------------------------------------------------------------------------


def assert_within_bounds(order: Order) -> None:
    for moment in (order.placed_at, order.updated_at, order.ship_by):
        assert moment is None or EARLIEST <= moment < LATEST, moment
    assert order.lines or order.status is OrderStatus.CANCELLED
    for line in order.lines:
        assert 1 <= line.quantity <= MAX_QUANTITY, line.quantity
        assert 0 <= line.cancelled_quantity + line.shipped_quantity <= line.quantity
        assert line.unit_price is None or Decimal(0) <= line.unit_price.amount < MAX_AMOUNT, line.unit_price
    if order.totals is not None:
        for money in (order.totals.items, order.totals.shipping, order.totals.tax, order.totals.discount,
                      order.totals.total):
            assert Decimal(0) <= money.amount < MAX_AMOUNT, money


def check_case(platform: str, case: Case) -> None:
    module = MAPPINGS[platform]
    doc = load(platform, case.fixture)
    for mutation in case.mutations:
        apply(doc, mutation)
    try:
        order = module.map_raw(wire_bytes(doc), shop(platform))
    except MappingError as exc:
        assert exc.path, f"no field path: {exc}"
        assert str(exc).startswith(f"{exc.path}: ")
    else:
        assert_within_bounds(order)
    identity = module.identify(doc)  # must never raise: a held bundle is filed under it
    assert isinstance(identity, BundleIdentity)


def fuzz(platform: str, *examples: Case) -> Callable[..., None]:
    """The property test of one platform, with its explicit regression examples."""

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(case=cases(platform))
    def test(case: Case) -> None:
        check_case(platform, case)

    for case in examples:
        test = example(case=case)(test)
    test.__name__ = f"test_{platform}_mapping_is_total"
    return test


def one(fixture: str, op: str, path: Path, value: Any = None) -> Case:
    return Case(fixture, (Mutation(op, path, value),))


AMAZON_ITEM = ("items", 0)
TIKTOK_ORDER = ("order",)
TEMU_CHILD = ("order", "orderList", 0)
SHEIN_ORDER = ("order",)
ALI_PRODUCT = ("order", "product_list", "order_product_dto", 0)

test_amazon_mapping_is_total = fuzz(
    "amazon",
    one("mfn_unshipped_us", "set", ("order", "OrderTotal", "Amount"), "1e400"),
    one("mfn_unshipped_us", "set", (*AMAZON_ITEM, "ItemPrice", "Amount"), "NaN"),
    one("mfn_unshipped_us", "set", (*AMAZON_ITEM, "ItemPrice", "Amount"), "-39.98"),
    one("mfn_unshipped_us", "set", (*AMAZON_ITEM, "QuantityOrdered"), 2**62),
    one("mfn_unshipped_us", "set", (*AMAZON_ITEM, "QuantityOrdered"), 0),
    one("mfn_unshipped_us", "set", (*AMAZON_ITEM, "QuantityShipped"), -1),
    one("mfn_unshipped_us", "set", ("order", "PurchaseDate"), "0001-01-01T00:00:00+08:00"),
    one("mfn_unshipped_us", "set", ("order", "LastUpdateDate"), "9999-12-31T23:59:59-08:00"),
)
test_tiktok_mapping_is_total = fuzz(
    "tiktok",
    one("as_sent", "set", (*TIKTOK_ORDER, "update_time"), 10**20),
    one("as_sent", "set", (*TIKTOK_ORDER, "create_time"), -1),
    one("as_sent", "set", (*TIKTOK_ORDER, "rts_sla_time"), 253402300800),
    one("as_sent", "set", (*TIKTOK_ORDER, "payment", "total_amount"), "1e400"),
    one("as_sent", "set", (*TIKTOK_ORDER, "line_items", 0, "sale_price"), "-1"),
    one("as_sent", "set", (*TIKTOK_ORDER, "payment", "shipping_fee"), "Infinity"),
)
test_temu_mapping_is_total = fuzz(
    "temu",
    one("usd_local_ready", "set", (*TEMU_CHILD, "originalOrderQuantity"), 2**62),
    one("usd_local_ready", "set", (*TEMU_CHILD, "quantity"), 2**62),
    one("usd_local_ready", "set", (*TEMU_CHILD, "originalOrderQuantity"), 0),
    one("usd_local_ready", "set", ("amount", "orderList", 0, "unitBasePrice", "amount"), -1999),
    one("usd_local_ready", "set", ("amount", "parentOrderMap", "customerPaid", "amount"), 2**63 - 1),
    one("usd_local_ready", "set", ("order", "parentOrderMap", "updateTime"), 10**20),
    one("usd_local_ready", "set", ("order", "parentOrderMap", "expectShipLatestTime"), -1),
)
test_shein_mapping_is_total = fuzz(
    "shein",
    one("as_sent", "set", (*SHEIN_ORDER, "productTotalPrice"), "1e400"),
    one("as_sent", "set", (*SHEIN_ORDER, "orderGoodsInfoList", 0, "sellerCurrencyPrice"), "-12.98"),
    one("as_sent", "set", (*SHEIN_ORDER, "orderGoodsInfoList", 0, "sellerCurrencyPrice"), "9" * 5000),
    one("as_sent", "set", (*SHEIN_ORDER, "sellerShippingFee"), 10**30),
    one("as_sent", "set", (*SHEIN_ORDER, "orderTime"), "0001-01-01T00:00:00.000+0800"),
    one("as_sent", "set", (*SHEIN_ORDER, "orderMsgUpdateTime"), "9999-12-31T23:59:59.000-0800"),
)
test_aliexpress_mapping_is_total = fuzz(
    "aliexpress",
    one("as_sent", "set", ("order", "pay_amount", "amount"), "1e400"),
    one("as_sent", "set", (*ALI_PRODUCT, "product_unit_price", "amount"), "-5.00"),
    one("as_sent", "set", (*ALI_PRODUCT, "product_count"), 2**62),
    one("as_sent", "set", (*ALI_PRODUCT, "product_count"), 0),
    one("as_sent", "set", ("order", "gmt_create"), "0001-01-01 00:00:00"),
    one("as_sent", "set", ("order", "gmt_update"), "9999-12-31 23:59:59"),
)


# --- the known failures, each with the path it must name -----------------------------------------


@pytest.mark.parametrize(("platform", "case", "path"), [
    ("amazon", one("mfn_unshipped_us", "set", ("order", "OrderTotal", "Amount"), "1e400"), "order.OrderTotal.Amount"),
    ("amazon", one("mfn_unshipped_us", "set", (*AMAZON_ITEM, "QuantityOrdered"), 2**62),
     "items[0].QuantityOrdered"),
    ("amazon", one("mfn_unshipped_us", "set", (*AMAZON_ITEM, "ItemPrice", "Amount"), "-39.98"),
     "items[0].ItemPrice.Amount"),
    ("tiktok", one("as_sent", "set", (*TIKTOK_ORDER, "update_time"), 10**20), "order.update_time"),
    ("tiktok", one("as_sent", "set", (*TIKTOK_ORDER, "create_time"), -1), "order.create_time"),
    ("tiktok", one("as_sent", "set", (*TIKTOK_ORDER, "line_items", 0, "sale_price"), "-1"),
     "order.line_items[0].sale_price"),
    ("temu", one("usd_local_ready", "set", (*TEMU_CHILD, "originalOrderQuantity"), 2**62),
     "order.orderList[0].originalOrderQuantity"),
    ("temu", one("usd_local_ready", "set", ("amount", "orderList", 0, "unitBasePrice", "amount"), -1999),
     "amount.orderList[0].unitBasePrice.amount"),
    ("temu", one("usd_local_ready", "set", ("order", "parentOrderMap", "updateTime"), 10**20),
     "order.parentOrderMap.updateTime"),
    ("shein", one("as_sent", "set", (*SHEIN_ORDER, "productTotalPrice"), "1e400"), "order.productTotalPrice"),
    ("shein", one("as_sent", "set", (*SHEIN_ORDER, "orderTime"), "0001-01-01T00:00:00.000+0800"),
     "order.orderTime"),
    ("aliexpress", one("as_sent", "set", ("order", "pay_amount", "amount"), "1e400"), "order.pay_amount.amount"),
    ("aliexpress", one("as_sent", "set", (*ALI_PRODUCT, "product_count"), 2**62),
     "order.product_list.order_product_dto[0].product_count"),
    ("aliexpress", one("as_sent", "set", (*ALI_PRODUCT, "product_unit_price", "amount"), "-5.00"),
     "order.product_list.order_product_dto[0].product_unit_price.amount"),
    ("aliexpress", one("as_sent", "set", ("order", "gmt_update"), "9999-12-31 23:59:59"), "order.gmt_update"),
])
def test_known_hostile_values_are_mapping_errors_at_their_path(platform, case, path):
    doc = load(platform, case.fixture)
    for mutation in case.mutations:
        apply(doc, mutation)
    with pytest.raises(MappingError) as err:
        MAPPINGS[platform].map_raw(wire_bytes(doc), shop(platform))
    assert err.value.path == path


# --- a dropped 0-quantity line is on the timeline; an order of nothing but them is held ------------


def test_a_dropped_zero_quantity_line_is_a_timeline_note_written_once(store):
    doc = bundle("amazon", "mfn_unshipped_us")
    doc["items"][1]["QuantityOrdered"] = 0
    ((item, result),) = store_bundles(store, PLATFORMS["amazon"], shop("amazon"), [doc])
    assert result is UpsertResult.NEW and item.error is None
    stored = store.get("acme", item.key)
    assert [line.platform_sku for line in stored.order.lines] == ["ACME-MUG-01-FBM"] and stored.hold is None
    notes = [e.detail for e in store.timeline("acme", item.key) if e.kind is EventKind.NOTE]
    assert notes == ["items[1] (OrderItemId 12345678905678, SKU ACME-TRAY-02) has QuantityOrdered 0: no line for it"]
    ((_, again),) = store_bundles(store, PLATFORMS["amazon"], shop("amazon"), [doc])
    assert again is UpsertResult.UNCHANGED
    assert [e.kind for e in store.timeline("acme", item.key)].count(EventKind.NOTE) == 1  # nothing rewritten


def test_an_open_order_of_zero_quantity_lines_only_is_held_with_its_raw_kept(store):
    doc = bundle("amazon", "mfn_unshipped_us")
    for line in doc["items"]:
        line["QuantityOrdered"] = 0
    ((item, _),) = store_bundles(store, PLATFORMS["amazon"], shop("amazon"), [doc])
    stored = store.get("acme", item.key)
    assert stored.hold.reason is HoldReason.INVALID_PAYLOAD and stored.hold.detail.startswith("items: ")
    assert orjson.loads(stored.raw) == doc


def test_a_hostile_value_is_held_with_its_field_path_and_raw(store):
    doc = bundle("tiktok", "as_sent")
    doc["order"]["update_time"] = 10**20 // 10**2  # 10**18: orjson writes it, datetime cannot hold it
    ((item, _),) = store_bundles(store, PLATFORMS["tiktok"], shop("tiktok"), [doc])
    stored = store.get("acme", item.key)
    assert item.key == "tiktok:acme-tiktok:576461413038785752"  # filed under its own id, not "unidentified"
    assert stored.hold.reason is HoldReason.INVALID_PAYLOAD
    assert stored.hold.detail.startswith("order.update_time: unix time 1000000000000000000 is not between")
    assert orjson.loads(stored.raw) == doc
