"""Stock pushes grouped by the platform listing (product) their API addresses."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.ports import PushOutcome, StockPush

NO_LISTING_ID = "no_listing_id"
"""The code of a push refused before it was sent: the SKU map gives no listing id for a platform that needs one."""


def by_listing(pushes: Sequence[StockPush], missing: str) -> tuple[dict[str, list[StockPush]], list[PushOutcome]]:
    """Pushes per listing id, in first-seen order, and a refusal (`missing`) for each push that has none."""
    groups: dict[str, list[StockPush]] = {}
    refused = []
    for push in pushes:
        if push.listing_id is None:
            refused.append(PushOutcome(push.platform_sku, False, missing, NO_LISTING_ID))
        else:
            groups.setdefault(push.listing_id, []).append(push)
    return groups, refused
