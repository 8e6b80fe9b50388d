"""bg.local.goods.stock.edit in both of its published forms, over real HTTP with the independent test client.

Source: TEMU Partner docs, "bg.local.goods.stock.edit" ("Edit product stock with full-update and
diff-update"), https://partner-us.temu.com/documentation?menu_code=fb16b05f7a904765aac4af3a24b87d4a
&sub_menu_code=429ffa60b265451d9421cd5a2004eeef, read from the public copy
https://github.com/linkfox-ai/linkfox-skills/blob/main/skills/linkfox-temu-manage-product-us/references/apis/
bg-local-goods-stock-edit.md (request and response fields) and a public markdown copy of the same page with its
Error Codes table (150013001/2/3, 150010003, 150010005); see docs/platforms/temu.md.
"""

from __future__ import annotations

import pytest

from sandbox.core.demo_accounts import TEMU_DEMO_SHOPS
from sandbox.temu.emulator import TemuEmulator
from sandbox.temu.shapes import GOODS_IDS, SKU_IDS
from tests.sandbox.test_temu import Client

US = TEMU_DEMO_SHOPS[0]
EDIT = "bg.local.goods.stock.edit"
GOODS, SKU, OTHER_SKU = GOODS_IDS["BCB"], SKU_IDS["OH-BCB-S"], SKU_IDS["OH-BCB-M"]


@pytest.fixture
def temu(clock):
    with TemuEmulator(clock=clock, orders=0, seed=7) as emulator:
        yield emulator


def _edit(client: Client, **body):
    return client.call(EDIT, goodsId=GOODS, **body)


def test_a_diff_adds_to_the_stock_and_a_target_sets_it(temu):
    """skuStockChangeList: "if successful, the stock will execute the += stockDiff operation"; skuStockTargetList:
    the SKU's stock "will be updated to the target level". requestUniqueKey is optional (Required: False)."""
    client = Client(temu, US)
    assert _edit(client, skuStockTargetList=[{"skuId": SKU, "stockTarget": 10}])["success"]
    added = _edit(client, skuStockChangeList=[{"skuId": SKU, "stockDiff": 5}, {"skuId": OTHER_SKU, "stockDiff": 4}])
    assert added["success"], added
    assert _edit(client, skuStockChangeList=[{"skuId": SKU, "stockDiff": -3}])["success"]
    assert temu.stock_levels(US.mall_id) == {SKU: 12, OTHER_SKU: 4}
    listed = client.call("bg.local.goods.sku.list.query", goodsId=GOODS)["result"]["skuList"]
    assert {s["skuId"]: s["stock"] for s in listed if s["skuId"] in (SKU, OTHER_SKU)} == {SKU: 12, OTHER_SKU: 4}
    result = added["result"]
    assert (result["goodsId"], result["operateResult"]) == (GOODS, True)
    assert [(r["skuId"], r["stockEditStatus"]) for r in result["skuStockEditStatusInfoList"]] == [
        (SKU, True), (OTHER_SKU, True)]
    assert [(r["content"]["stockDiff"], r["content"]["stockTarget"]) for r in temu.pushed("stock")] == [
        (None, 10), (5, 15), (4, 4), (-3, 12)]


def test_a_repeated_request_unique_key_is_not_applied_twice(temu):
    """"Unique Request Id, if you setted, then it will be rejected for duplicated request": a diff resent with
    its key (a retry after a lost answer) must not add twice. What TEMU answers a repeat is not published; the
    emulator answers the first answer again (or 3000000 for another body under the same key)."""
    client = Client(temu, US)
    body = {"skuStockChangeList": [{"skuId": SKU, "stockDiff": 7}], "requestUniqueKey": "diff-1"}
    first, again = _edit(client, **body), _edit(client, **body)
    assert first["success"] and again["success"] and again["result"] == first["result"]
    assert temu.stock_levels(US.mall_id) == {SKU: 7}
    other = _edit(client, skuStockChangeList=[{"skuId": SKU, "stockDiff": 1}], requestUniqueKey="diff-1")
    assert other["errorCode"] == 3000000 and temu.stock_levels(US.mall_id) == {SKU: 7}


@pytest.mark.parametrize(("body", "code"), [
    ({"skuStockTargetList": [{"skuId": SKU, "stockTarget": 5}], "skuStockChangeList": [{"skuId": SKU, "stockDiff": 1}]},
     150013003),  # "Only one stock adjustment method can be active at a time."
    ({"skuStockTargetList": [{"skuId": SKU, "stockTarget": 5}, {"skuId": SKU, "stockTarget": 6}]},
     150013001),  # "Duplicate SKUs detected. Please remove them and try again"
    ({"skuStockTargetList": [{"skuId": SKU, "stockTarget": 1_000_001}]}, 150013002),  # "between 0 and 1000000"
    ({"skuStockChangeList": [{"skuId": SKU, "stockDiff": -3}]}, 150013002),  # 2 - 3 < 0
    ({"skuStockChangeList": [{"skuId": SKU}]}, 3000000),  # stockDiff is required
    ({"stockType": 2, "skuStockTargetList": [{"skuId": SKU, "stockTarget": 5}]}, 3000000),  # 0 or 1 only
])
def test_what_the_docs_refuse_is_refused_whole(temu, body, code):
    """The Error Codes of the API page; a refused call changes no SKU. (Ill-formed entries get the emulator's
    3000000: TEMU may answer its 150010003 "Invalid Request Parameters" instead, unverified.)"""
    client = Client(temu, US)
    assert _edit(client, skuStockTargetList=[{"skuId": SKU, "stockTarget": 2}])["success"]
    refused = _edit(client, **body)
    assert (refused["success"], refused["errorCode"]) == (False, code)
    assert temu.stock_levels(US.mall_id) == {SKU: 2}


def test_an_empty_second_list_does_not_count_and_stock_type_1_is_the_pre_sale_stock(temu):
    """A public Java SDK's request object (https://github.com/vidaniello/temu-api, BgLocalGoodsStockEditRequest.java)
    starts both lists empty, so one of them may arrive as []: only a non-empty list is a method [our reading of
    150013003]. stockType 1 is "self Pre-sale stock", apart from the ordinary stock (0, the default)."""
    client = Client(temu, US)
    assert _edit(client, stockType=0, skuStockTargetList=[{"skuId": SKU, "stockTarget": 1_000_000}],
                 skuStockChangeList=[])["success"]
    assert _edit(client, stockType=1, skuStockTargetList=[], skuStockChangeList=[{"skuId": SKU, "stockDiff": 3}])[
        "success"]
    assert temu.stock_levels(US.mall_id) == {SKU: 1_000_000}
    assert temu.presale_stock == {(US.mall_id, SKU): 3}
