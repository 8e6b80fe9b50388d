"""The Amazon raw-bundle fields `orderhub order show --raw` may show without `--pii`.

An allow-list, not a deny-list (a field Amazon adds later stays masked until listed here): ids,
statuses, dates, channel and service level, flags, money, SKUs and quantities, and the place an
address names (city, state or region, postcode, country, district, county, address type). The buyer's
name, company, phone, street lines and e-mail (`BuyerInfo`), and the free-text cancel reason are
masked. The ship-from address is the seller's, but it is masked the same way: nobody needs it to explain
an order. Paths as in tests/fixtures/amazon/*.json; the RDT address comes bare or wrapped in
`ShippingAddress`, so both are listed.
"""

from __future__ import annotations

_PLACE = ("City", "StateOrRegion", "PostalCode", "CountryCode", "District", "County", "AddressType")
_ITEM_MONEY = ("ItemPrice", "ItemTax", "PromotionDiscount", "PromotionDiscountTax", "ShippingPrice", "ShippingTax",
               "ShippingDiscount", "ShippingDiscountTax", "PointsGranted.PointsMonetaryValue")


def _money(path: str) -> set[str]:
    return {f"{path}.Amount", f"{path}.CurrencyCode"}


def _place(path: str) -> set[str]:
    return {f"{path}.{name}" for name in _PLACE}


RAW_SAFE_FIELDS = frozenset({
    *(f"order.{name}" for name in (
        "AmazonOrderId", "SellerOrderId", "OrderStatus", "PurchaseDate", "LastUpdateDate", "EarliestShipDate",
        "LatestShipDate", "EarliestDeliveryDate", "LatestDeliveryDate", "FulfillmentChannel", "SalesChannel",
        "ShipServiceLevel", "ShipmentServiceLevelCategory", "OrderType", "MarketplaceId", "NumberOfItemsShipped",
        "NumberOfItemsUnshipped", "PaymentMethod", "PaymentMethodDetails", "IsReplacementOrder", "IsBusinessOrder",
        "IsPrime", "IsGlobalExpressEnabled", "IsPremiumOrder", "IsSoldByAB", "IsIBA", "IsISPU",
        "IsAccessPointOrder", "HasRegulatedItems", "EasyShipShipmentStatus", "ElectronicInvoiceStatus",
        "AutomatedShippingSettings.HasAutomatedShippingSettings",
        "FulfillmentInstruction.FulfillmentSupplySourceId", "BuyerRequestedCancel.IsBuyerRequestedCancel",
    )),
    *_money("order.OrderTotal"),
    *_place("order.ShippingAddress"),
    *_place("order.DefaultShipFromLocationAddress"),
    *(f"items.{name}" for name in (
        "ASIN", "OrderItemId", "SellerSKU", "Title", "QuantityOrdered", "QuantityShipped", "ConditionId",
        "ConditionSubtypeId", "IsGift", "IsTransparency", "SerialNumberRequired", "PromotionIds",
        "ProductInfo.NumberOfItems", "PointsGranted.PointsNumber",
    )),
    *(path for money in _ITEM_MONEY for path in _money(f"items.{money}")),
    "address.AmazonOrderId",
    *_place("address"),
    *_place("address.ShippingAddress"),
})
