"""The TikTok Shop raw-bundle fields `orderhub order show --raw` may show without `--pii`.

An allow-list, not a deny-list (a field TikTok adds later stays masked until listed here): order, line,
package, SKU, product and warehouse ids, statuses, epoch times, shipping provider and tracking number,
delivery option, flags, every amount, and the place an order goes (`postal_code`, `region_code`,
`district_info`). The recipient's name, phone, street lines and full address, the buyer's e-mail,
user id and message, and the seller's note (free text that may quote the buyer) are masked. Paths as in
tests/fixtures/tiktok/*.json.
"""

from __future__ import annotations

_LINE = "order.line_items"
_ADDRESS = "order.recipient_address"

RAW_SAFE_FIELDS = frozenset({
    *(f"order.{name}" for name in (
        "id", "status", "shipping_provider", "shipping_provider_id", "create_time", "paid_time", "update_time",
        "rts_time", "rts_sla_time", "tts_sla_time", "cancel_order_sla_time", "delivery_due_time", "cancel_time",
        "cancel_reason", "cancellation_initiator", "shipping_type", "tracking_number", "packages.id",
        "has_updated_recipient_address", "fulfillment_type", "warehouse_id", "payment_method_name", "is_cod",
        "delivery_option_id", "delivery_option_name", "delivery_type", "is_sample_order",
        "is_buyer_request_cancel", "is_replacement_order", "is_on_hold_order", "split_or_combine_tag",
        "commerce_platform",
    )),
    *(f"order.payment.{name}" for name in (
        "currency", "sub_total", "shipping_fee", "seller_discount", "platform_discount", "total_amount",
        "original_total_product_price", "original_shipping_fee", "shipping_fee_seller_discount",
        "shipping_fee_platform_discount", "tax", "small_order_fee", "shipping_fee_tax", "product_tax",
        "retail_delivery_fee", "buyer_service_fee",
    )),
    *(f"{_ADDRESS}.{name}" for name in (
        "postal_code", "region_code", "district_info.address_level", "district_info.address_level_name",
        "district_info.address_name",
    )),
    *(f"{_LINE}.{name}" for name in (
        "id", "sku_id", "display_status", "product_name", "seller_sku", "sku_image", "sku_name", "product_id",
        "sale_price", "platform_discount", "seller_discount", "sku_type", "cancel_reason", "original_price",
        "rts_time", "package_status", "currency", "shipping_provider_name", "cancel_user", "shipping_provider_id",
        "is_gift", "item_tax.tax_type", "item_tax.tax_amount", "item_tax.tax_rate", "tracking_number", "package_id",
    )),
})
