"""Stock sync at scale: each emulator takes a catalogue larger than the demo one, lists the ids a
seller's SKU map would hold (``stock_listings``), accepts stock pushed under them, refuses ids it does
not list, and shows what it took (``stock_levels``, the same numbers as the platform's stock read API).

Requests are built with the sandbox tests' own clients, independent of connectors/.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

import pytest
import requests

from sandbox import AmazonEmulator, SandboxClock, TikTokEmulator
from sandbox.aliexpress.emulator import AliExpressEmulator
from sandbox.aliexpress.shapes import PRODUCT_IDS as AE_PRODUCT_IDS
from sandbox.core.world import CATALOGUE, synthetic_catalogue
from sandbox.shein.emulator import SheinEmulator
from sandbox.shein.push import known_sku_codes
from sandbox.temu.emulator import TemuEmulator
from sandbox.temu.shapes import GOODS_IDS as TEMU_GOODS_IDS
from sandbox.temu.shapes import SKU_IDS as TEMU_SKU_IDS
from sandbox.tiktok.shapes import PRODUCT_IDS as TT_PRODUCT_IDS
from sandbox.tiktok.shapes import SKU_IDS as TT_SKU_IDS
from tests.sandbox.conftest import START, US_MARKETPLACE, AmazonClient, TikTokClient
from tests.sandbox.test_aliexpress import STOCK as AE_STOCK
from tests.sandbox.test_aliexpress import call as ae_call
from tests.sandbox.test_aliexpress import result as ae_result
from tests.sandbox.test_shein import Client as SheinClient
from tests.sandbox.test_temu import EU as TEMU_SEMI
from tests.sandbox.test_temu import US as TEMU_LOCAL
from tests.sandbox.test_temu import Client as TemuClient

LARGE = CATALOGUE + synthetic_catalogue(500)
EMULATORS = (AmazonEmulator, TikTokEmulator, TemuEmulator, SheinEmulator, AliExpressEmulator)
SHEIN_INVENTORY, SHEIN_STOCK_QUERY = "/open-api/gsp/goods/change-inventory", "/open-api/stock/stock-query"


def synthetic_rows(emulator: Any) -> list[dict[str, Any]]:
    return [row for row in emulator.stock_listings() if row["seller_sku"].startswith("OH-GEN-")]


def by_listing(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["listing_id"]].append(row)
    return grouped


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(start=START, factor=0)


def test_synthetic_catalogue_is_deterministic_in_families_of_up_to_five():
    items = synthetic_catalogue(12)
    assert items == synthetic_catalogue(12)
    assert items[0].sku == "OH-GEN-00001-A" and items[-1].sku == "OH-GEN-00003-B"
    assert list(Counter(i.family for i in items).values()) == [5, 5, 2]
    assert not {i.sku for i in synthetic_catalogue(10_000)} & {i.sku for i in CATALOGUE}
    assert len({i.sku for i in synthetic_catalogue(10_000)}) == 10_000


def test_demo_catalogue_ids_are_derived_exactly_as_the_order_documents_show_them():
    expected = {
        AmazonEmulator: {i.sku: (i.sku, None) for i in CATALOGUE},
        TikTokEmulator: {i.sku: (TT_SKU_IDS[i.sku], TT_PRODUCT_IDS[i.family]) for i in CATALOGUE},
        TemuEmulator: {i.sku: (TEMU_SKU_IDS[i.sku], TEMU_GOODS_IDS[i.family]) for i in CATALOGUE},
        SheinEmulator: {sku: (code, None) for sku, code in known_sku_codes().items()},
        AliExpressEmulator: {i.sku: (i.sku, str(AE_PRODUCT_IDS[i.family])) for i in CATALOGUE},
    }
    for cls in EMULATORS:
        demo = {r["seller_sku"]: (r["platform_sku"], r["listing_id"]) for r in cls().stock_listings()}
        large = {r["seller_sku"]: (r["platform_sku"], r["listing_id"]) for r in cls(catalogue=LARGE).stock_listings()}
        assert demo == expected[cls], cls.__name__
        assert len(large) == len(LARGE) and {s: large[s] for s in demo} == demo, cls.__name__


def amazon_availability(quantity: int) -> dict[str, Any]:
    return {"productType": "PRODUCT", "patches": [{
        "op": "replace", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity, "marketplace_id": US_MARKETPLACE}]}]}


def test_amazon_takes_stock_for_a_synthetic_sku_and_refuses_an_unknown_one(clock):
    with AmazonEmulator(clock=clock, catalogue=LARGE) as amazon:
        client = AmazonClient(amazon)
        seller = client.creds.seller_id
        row = synthetic_rows(amazon)[-1]
        assert row == {"seller_sku": "OH-GEN-00100-E", "platform_sku": "OH-GEN-00100-E", "listing_id": None}
        path = f"/listings/2021-08-01/items/{seller}/"
        ok = client.send("PATCH", path + row["platform_sku"], amazon_availability(31), marketplaceIds=US_MARKETPLACE)
        assert ok.json()["status"] == "ACCEPTED", ok.text
        unknown = client.send("PATCH", path + "OH-GEN-99999-Z", amazon_availability(4), marketplaceIds=US_MARKETPLACE)
        assert unknown.json()["status"] == "INVALID"
        assert amazon.stock_levels(seller) == amazon.stock_levels() == {"OH-GEN-00100-E": 31}
    with AmazonEmulator(clock=clock) as demo:  # the demo catalogue does not hold the synthetic SKU
        refused = AmazonClient(demo).send("PATCH", path + row["platform_sku"], amazon_availability(31),
                                          marketplaceIds=US_MARKETPLACE)
        assert refused.json()["status"] == "INVALID" and demo.stock_levels() == {}


def test_tiktok_takes_a_whole_synthetic_product_and_refuses_foreign_ids(clock):
    with TikTokEmulator(clock=clock, catalogue=LARGE) as tiktok:
        client = TikTokClient(tiktok)
        products = by_listing(synthetic_rows(tiktok))
        assert Counter(len(skus) for skus in products.values()) == {5: 100}
        product, skus = list(products.items())[-1]
        path = f"/product/202309/products/{product}/inventory/update"
        body = {"skus": [{"id": r["platform_sku"], "inventory": [{"quantity": 10 + n}]} for n, r in enumerate(skus)]}
        reply = client.call("POST", path, body=body).json()
        assert (reply["code"], reply["data"]) == (0, {}), reply
        expected = {r["platform_sku"]: 10 + n for n, r in enumerate(skus)}
        assert tiktok.stock_levels(client.shop.shop_id) == tiktok.stock_levels() == expected
        over_http = requests.get(tiktok.url + "/_sandbox/stock", params={"account": client.shop.shop_id}, timeout=5)
        assert over_http.json() == expected
        other_product_sku = next(iter(products.values()))[0]["platform_sku"]
        foreign = client.call("POST", path, body={"skus": [{"id": other_product_sku, "inventory": [{"quantity": 1}]}]})
        assert foreign.json()["data"]["errors"][0]["code"] == 12052557
        unknown = client.call("POST", "/product/202309/products/1729500000000000000/inventory/update", body=body)
        assert unknown.json()["code"] == 12052032
        assert tiktok.stock_levels() == expected


def test_temu_local_mall_takes_a_synthetic_goods_and_the_sku_list_agrees(clock):
    with TemuEmulator(clock=clock, catalogue=LARGE) as temu:
        client = TemuClient(temu, TEMU_LOCAL)
        goods, skus = list(by_listing(synthetic_rows(temu)).items())[-1]
        targets = [{"skuId": r["platform_sku"], "stockTarget": 20 + n} for n, r in enumerate(skus)]
        edit = client.call("bg.local.goods.stock.edit", goodsId=goods, stockType=0, skuStockTargetList=targets,
                           requestUniqueKey="load-1")
        assert edit["success"], edit
        expected = {r["platform_sku"]: 20 + n for n, r in enumerate(skus)}
        assert temu.stock_levels(TEMU_LOCAL.mall_id) == temu.stock_levels() == expected
        listed = client.call("bg.local.goods.sku.list.query", goodsId=goods)["result"]["skuList"]
        assert {s["skuId"]: s["stock"] for s in listed} == expected
        assert {s["extCode"] for s in listed} == {r["seller_sku"] for r in skus}
        unknown = client.call("bg.local.goods.stock.edit", goodsId="601000000000000", stockType=0,
                              skuStockTargetList=targets, requestUniqueKey="load-2")
        assert not unknown["success"]
        foreign = client.call("bg.local.goods.stock.edit", goodsId=goods, stockType=0, requestUniqueKey="load-3",
                              skuStockTargetList=[{"skuId": TEMU_SKU_IDS["OH-BCB-S"], "stockTarget": 1}])
        assert (foreign["success"], foreign["errorCode"]) == (False, 3000000)
        assert temu.stock_levels() == expected
        with pytest.raises(ValueError, match="SEMI"):
            temu.stock_listings(TEMU_SEMI.mall_id)
        assert temu.stock_listings(TEMU_LOCAL.mall_id) == temu.stock_listings()


def test_shein_takes_a_full_batch_of_synthetic_sku_codes_and_stock_query_agrees(clock):
    with SheinEmulator(clock=clock, catalogue=LARGE) as shein:
        client = SheinClient(shein)
        (warehouse,) = client.ok("/open-api/msc/warehouse/list", method="GET")["list"]
        rows = synthetic_rows(shein)[-99:]
        assert all(r["listing_id"] is None for r in rows)
        entries = [{"skuCode": r["platform_sku"], "warehouseCode": warehouse["warehouseCode"], "saleInventory": n}
                   for n, r in enumerate(rows)]
        stranger = {"skuCode": "I000000000000", "warehouseCode": warehouse["warehouseCode"], "saleInventory": 5}
        info = client.ok(SHEIN_INVENTORY, {"updateSkuInventoryQuantityRequests": [*entries, stranger]})
        assert len(info["successList"]) == 99
        assert [(f["skuCode"], f["code"]) for f in info["failedList"]] == [("I000000000000", "msc-update-stock-001")]
        expected = {r["platform_sku"]: n for n, r in enumerate(rows)}
        assert shein.stock_levels(client.shop.open_key_id) == shein.stock_levels() == expected
        queried = client.ok(SHEIN_STOCK_QUERY, {"skuCodeList": [r["platform_sku"] for r in rows], "warehouseType": "2"})
        assert {s["skuCode"]: s["totalUsableInventory"] for s in queried[0]["goodsInventory"][0]["skuList"]} == expected


def test_aliexpress_takes_twenty_synthetic_products_and_refuses_foreign_skus(clock):
    with AliExpressEmulator(clock=clock, catalogue=LARGE) as aliexpress:
        products = list(by_listing(synthetic_rows(aliexpress)).items())[-20:]
        batch = [{"product_id": int(pid), "multiple_sku_update_list": [
            {"sku_code": r["platform_sku"], "inventory": 40 + n} for n, r in enumerate(skus)]} for pid, skus in products]
        answer = ae_result(ae_call(aliexpress, AE_STOCK, mutiple_product_update_list=batch)[1], AE_STOCK)
        assert answer["update_success"] is True and len(answer["update_successful_list"]) == 100
        expected = {r["platform_sku"]: 40 + n for _, skus in products for n, r in enumerate(skus)}
        assert aliexpress.stock_levels("orderhub_demo_seller") == aliexpress.stock_levels() == expected
        (_, skus), (other_pid, _) = products[0], products[1]
        wrong = [{"product_id": int(other_pid), "multiple_sku_update_list": [{"sku_code": skus[0]["platform_sku"],
                                                                              "inventory": 1}]},
                 {"product_id": 1005000000000000, "multiple_sku_update_list": [{"sku_code": "OH-GEN-99999-Z",
                                                                                "inventory": 1}]}]
        refused = ae_result(ae_call(aliexpress, AE_STOCK, mutiple_product_update_list=wrong)[1], AE_STOCK)
        assert [f["error_code"] for f in refused["update_failed_list"]] == ["SKU_NOT_EXIST", "PRODUCT_NOT_EXIST"]
        assert aliexpress.stock_levels() == expected


def test_full_batches_are_answered_in_milliseconds_against_ten_thousand_skus(clock):
    """A lookup that scanned the catalogue per SKU would take seconds here (4,000 SKUs x 10,040 items)."""
    big = CATALOGUE + synthetic_catalogue(10_000)
    with SheinEmulator(clock=clock, catalogue=big) as shein, AliExpressEmulator(clock=clock, catalogue=big) as ali:
        client = SheinClient(shein)
        (warehouse,) = client.ok("/open-api/msc/warehouse/list", method="GET")["list"]
        entries = [{"skuCode": r["platform_sku"], "warehouseCode": warehouse["warehouseCode"], "saleInventory": 3}
                   for r in shein.stock_listings()[-100:]]
        started = time.perf_counter()
        info = client.ok(SHEIN_INVENTORY, {"updateSkuInventoryQuantityRequests": entries})
        shein_seconds = time.perf_counter() - started
        assert len(info["successList"]) == 100
        # AliExpress's limits: 20 products x 200 SKU entries (each product's five SKUs, forty times over).
        products = list(by_listing(ali.stock_listings()).items())[-20:]
        batch = [{"product_id": int(pid), "multiple_sku_update_list": [
            {"sku_code": skus[n % len(skus)]["platform_sku"], "inventory": n} for n in range(200)]}
            for pid, skus in products]
        started = time.perf_counter()
        answer = ae_result(ae_call(ali, AE_STOCK, mutiple_product_update_list=batch)[1], AE_STOCK)
        ali_seconds = time.perf_counter() - started
        assert len(answer["update_successful_list"]) == 4000
    assert shein_seconds < 0.25 and ali_seconds < 1.0, (shein_seconds, ali_seconds)


@pytest.mark.parametrize("cls", EMULATORS, ids=lambda cls: cls.platform)
def test_listings_and_levels_are_on_the_control_api(clock, cls):
    """A demo or a test in another process reads the same rows and levels over ``/_sandbox/``."""
    with cls(clock=clock, catalogue=LARGE) as emulator:
        listings = requests.get(emulator.url + "/_sandbox/listings", timeout=5)
        assert listings.status_code == 200 and listings.json() == emulator.stock_listings()
        assert requests.get(emulator.url + "/_sandbox/stock", timeout=5).json() == emulator.stock_levels() == {}
        assert emulator.counters.snapshot() == {}  # control calls are never counted as platform calls


def test_control_api_refuses_the_listings_of_a_temu_semi_mall(clock):
    with TemuEmulator(clock=clock) as temu:
        refused = requests.get(temu.url + "/_sandbox/listings", params={"account": TEMU_SEMI.mall_id}, timeout=5)
        assert refused.status_code == 400 and "SEMI" in refused.json()["error"]
