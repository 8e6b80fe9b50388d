"""TEMU's request signature against the worked example TEMU publishes.

Source: TEMU Partner docs, developer guide, "Signature" (https://partner-us.temu.com/documentation?menu_code=
38e79b35d2cb463d85619c1c786dd303&sub_menu_code=4a821c90d06442a09e061b0d4316fbf3), as extracted in
temu-partner-documentation.md of https://github.com/vanky2viva/temu-omni: a bg.logistics.shipment.confirm body, the
app secret c7e0a1a63542be4de3cb5488f9fba8149e8fc290 and the resulting sign 4CCF219942D4180C6DDA3CE36C1B838F; and
TEMU's Python sample TestSign.py on the same guide (each value json.dumps'ed compactly, quotes stripped).
"""

from __future__ import annotations

import pytest

from connectors.temu.client import sign as connector_sign
from sandbox.temu.emulator import sign as emulator_sign

SECRET = "c7e0a1a63542be4de3cb5488f9fba8149e8fc290"
PUBLISHED = {
    "access_token": "2nifvmpyymvypwmcms5ct4uqqudrwgpmzbcnmkt1jzjkuaf3x56iixym",
    "app_key": "f9d5cc9313893a20d5aa85c654e8f503",
    "data_type": "JSON",
    "sendRequestList": [{"orderSendInfoList": [{"quantity": 1, "orderSn": "211-21905473070712792",
                                                "parentOrderSn": "PO-211-21905452099192792",
                                                "goodsId": 601099548666279, "skuId": 17592352673534}],
                         "carrierId": "699272611", "trackingNumber": "270324232756"}],
    "sendType": 0,
    "timestamp": 1711009072,
    "type": "bg.logistics.shipment.confirm",
}


@pytest.mark.parametrize("sign", [emulator_sign, connector_sign], ids=["emulator", "connector"])
def test_both_sides_reproduce_temus_published_signature(sign):
    assert sign(PUBLISHED, SECRET) == "4CCF219942D4180C6DDA3CE36C1B838F"
    assert sign({**PUBLISHED, "sign": "ignored"}, SECRET) == "4CCF219942D4180C6DDA3CE36C1B838F"
    assert sign({**PUBLISHED, "sendType": 1}, SECRET) != "4CCF219942D4180C6DDA3CE36C1B838F"
