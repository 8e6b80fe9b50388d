"""The AliExpress raw-bundle fields `orderhub order show --raw` may show without `--pii`.

An allow-list, not a deny-list: AliExpress names its buyer in fields no list of sensitive names foresaw
(`buyer_signer_fullname`), so only what an operator needs to explain an order (ids, statuses, Pacific
times, money, SKUs and quantities, logistics service, and the place it goes: country, province, city,
zip) is listed; everything else (the buyer's login id, name, phone, street lines, memo, and any field
AliExpress adds later) is masked. Paths as in tests/fixtures/aliexpress/*.json.
"""

from __future__ import annotations

_LINE = "order.product_list.order_product_dto"


def _money(path: str) -> set[str]:
    return {f"{path}.amount", f"{path}.currency_code"}


RAW_SAFE_FIELDS = frozenset({
    *(f"order.{name}" for name in (
        "order_id", "order_status", "logistics_status", "fund_status", "frozen_status", "issue_status",
        "gmt_create", "gmt_update", "gmt_pay_time", "gmt_send_goods_time", "left_send_good_day",
        "left_send_good_hour", "left_send_good_min", "timeout_left_time", "payment_type", "biz_type",
        "end_reason", "has_request_loan", "seller_login_id",
    )),
    *_money("order.pay_amount"),
    *(f"{_LINE}.{name}" for name in (
        "child_id", "order_id", "product_id", "sku_code", "product_name", "product_count", "logistics_type",
        "logistics_service_name", "send_goods_operator", "son_order_status", "show_status",
        "goods_prepare_time", "freight_commit_day", "money_back3x",
    )),
    *_money(f"{_LINE}.product_unit_price"),
    *_money(f"{_LINE}.total_product_amount"),
    *(f"address.{name}" for name in ("country", "province", "city", "zip")),
})
