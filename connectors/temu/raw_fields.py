"""The TEMU raw-bundle fields `orderhub order show --raw` may show without `--pii`.

An allow-list, not a deny-list: TEMU spells the whole street address once more in
`shipping.addressLineAll`, which a list of sensitive names missed (issue 21), so only what an operator
needs is listed: parent and child order numbers, statuses, epoch times, goods and SKU ids, quantities,
every amount, and the place an order goes (`regionName1`-`4`, `postCode`). Names, phones, the e-mail
relay, street lines, `addressLineAll`, `addressExtra`, the restriction reason and any field TEMU adds
later are masked. Paths as in tests/fixtures/temu/*.json.
"""

from __future__ import annotations

_LINE = "order.orderList"
# The amount document: every money field is {amount, currency}.
_LINE_MONEY = ("basePrice", "discountFromSeller", "discountFromTEMU", "productTaxAmount", "retailPriceTotalTaxIncl",
               "shipAmountTotalTaxIncl", "shipTaxAmount", "unitBasePrice", "unitRetailPrice",
               "unitRetailPriceVatExcl", "unitRetailPriceVatIncl")
_PARENT_MONEY = ("basePriceTotal", "customerPaid", "discountFromSeller", "discountFromTEMU", "estimatedRevenue",
                 "estimatedRevenueDeduction", "productTaxAmount", "refundsTotal", "retailPriceTotal",
                 "retailPriceTotalTaxExcl", "retailPriceTotalTaxIncl", "shipAmountTotalTaxIncl", "shipTaxAmount",
                 "shippingAmountTotal", "taxTotal", "taxTotalAfterDiscount", "temuTaxTotal", "totalDiscount")


def _money(path: str, names: tuple[str, ...]) -> set[str]:
    return {f"{path}.{name}.{part}" for name in names for part in ("amount", "currency")}


RAW_SAFE_FIELDS = frozenset({
    *(f"order.parentOrderMap.{name}" for name in (
        "parentOrderSn", "parentOrderStatus", "parentOrderTime", "updateTime", "expectShipLatestTime",
        "latestDeliveryTime", "parentShippingTime", "parentConfirmTime", "parentOrderPendingFinishTime",
        "regionId", "siteId", "hasShippingFee", "orderPaymentType", "shippingMethod",
    )),
    *(f"{_LINE}.{name}" for name in (
        "orderSn", "orderStatus", "quantity", "originalOrderQuantity", "canceledQuantityBeforeShipment",
        "isCancelledDuringPending", "goodsId", "goodsName", "originalGoodsName", "spec", "originalSpecName",
        "thumbUrl", "fulfillmentType", "inventoryDeductionWarehouseId", "inventoryDeductionWarehouseName",
        "orderCreateTime", "orderShippingTime", "skuId", "productList.productId", "productList.productSkuId",
        "productList.soldFactor", "productList.extCode",
    )),
    *(f"shipping.{name}" for name in (
        "regionName1", "regionName2", "regionName3", "regionName4", "postCode", "warning.isRestriction",
    )),
    *(f"amount.orderList.{name}" for name in ("orderSn", "quantity", "productTaxRate", "shipTaxRate")),
    *_money("amount.orderList", _LINE_MONEY),
    "amount.parentOrderMap.parentOrderSn",
    *_money("amount.parentOrderMap", _PARENT_MONEY),
})
