"""The SHEIN raw-bundle fields `orderhub order show --raw` may show without `--pii`.

An allow-list, not a deny-list (a field SHEIN adds later stays masked until listed here): order and bill
numbers, statuses and types, times, money, goods (ids, SKUs, titles, attributes, warehouse), packages
(carrier, waybill and package numbers) and the place an order goes (`receiveMsg` and the address's
country, province, city, district, postcode). The buyer's names, phone, e-mail, street lines, tax number
and any customization text are masked. Paths as in tests/fixtures/shein/*.json.
"""

from __future__ import annotations

_GOODS = "order.orderGoodsInfoList"
_PACKAGE = "order.packageWaybillList"
_PLACE = ("country", "province", "city", "district", "postCode")

RAW_SAFE_FIELDS = frozenset({
    *(f"order.{name}" for name in (
        "orderNo", "billNo", "orderType", "orderStatus", "isCod", "performanceType", "orderLogisticsType",
        "salesSite", "salesArea", "stockMode", "storeCode", "orderCurrency", "productTotalPrice",
        "estimatedGrossIncome", "totalSaleTax", "storeDiscountTotalPrice", "promotionDiscountTotalPrice",
        "totalCommission", "sellerShippingFee", "settleActuallyPrice", "orderTime", "paymentTime",
        "orderAllocateTime", "requestDeliveryTime", "requestHandoverTime", "requestSignTime",
        "sellerDeliveryTime", "pickUpTime", "orderMsgUpdateTime", "orderUpdateTime", "addTime",
    )),
    *(f"order.receiveMsg.{name}" for name in _PLACE),
    *(f"{_GOODS}.{name}" for name in (
        "goodsId", "skuCode", "sellerSku", "skc", "goodsSn", "spuName", "goodsTitle", "skuAttribute.attrValueId",
        "skuAttribute.attrName", "skuAttribute.language", "goodsStatus", "newGoodsStatus", "orderCurrency",
        "sellerCurrencyPrice", "sellerCurrencyDiscountPrice", "saleTax", "commission", "estimatedIncome",
        "warehouseCode", "warehouseName", "timeOutList.timeOutType", "timeOutList.timeOutTime",
        "customizationFlag", "goodsWeight",
    )),
    *(f"{_PACKAGE}.{name}" for name in (
        "carrier", "carrierCode", "deliveryNo", "packageNo", "packageLabel", "sortingCode", "waybillNo",
        "productInventoryList.productId",
    )),
    "address.orderNo",
    *(f"address.{name}" for name in _PLACE),
})
