"""One platform push, from request to enqueued fetch: verify, check (pipeline/push_guard.py), enqueue.

The HTTP side (limits, timeouts, the 503 when this is slow) is workers/ingress.py. A push only says
"order X changed"; the order itself is always fetched through the API, so a forged push can at most
cause one harmless fetch, and a bad signature is refused with 401 before anything is stored or enqueued.
Polling remains the safety net for pushes that never arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis as redis_py
import structlog

from config.loader import credentials_for
from connectors.registry import get_connector
from orderhub.runtime.redisconn import get_redis
from orderhub.runtime.settings import key_prefix
from pipeline.push_guard import PushMemory, admit, refusal
from workers.config_cache import seller_config
from workers.tasks import fetch_order

log = structlog.get_logger()

Enqueue = Callable[[str, str, str], None]


def _default_enqueue(seller: str, shop_id: str, external_id: str) -> None:
    fetch_order.apply_async((seller, shop_id, external_id), queue="ingest")


def handle_push(seller: str, shop_id: str, headers: dict[str, str], body: bytes,
                enqueue: Enqueue = _default_enqueue, redis: redis_py.Redis | None = None,
                prefix: str | None = None) -> tuple[int, Any]:
    """Status code and reply for one push: 401 unless it verifies, is fresh and names the URL shop; 400 for
    an order id that cannot be one; else 200 with one fetch enqueued per order not just fetched, or none
    for a push already taken (pipeline/push_guard.py). Raises on a Redis or enqueue error: no 200 then."""
    try:
        cfg = seller_config(seller)
        shop = cfg.shop(shop_id)
    except KeyError:
        return 404, {"error": "unknown seller or shop"}
    receiver = get_connector(shop.platform).capabilities.webhooks
    if receiver is None or not shop.webhook:
        return 404, {"error": "webhooks not enabled for this shop"}
    secrets = credentials_for(cfg, shop.credentials, f"shops[{shop_id}].credentials")
    push = receiver.verify(secrets, headers, body)
    bound = log.bind(seller=seller, platform=shop.platform, shop=shop_id)
    if push is None:
        bound.warning("webhook.rejected", reason="signature does not verify", size=len(body))
        return 401, {"error": "signature does not verify"}
    refused = refusal(push, shop.options.get("platform_shop_id"), datetime.now(UTC))
    if refused is not None:
        bound.warning("webhook.rejected", reason=refused.reason, size=len(body))
        return refused.status, {"error": refused.reason}
    memory = PushMemory(redis or get_redis(), prefix or key_prefix(), seller, shop_id)
    admitted = admit(memory, push, lambda external_id: enqueue(seller, shop_id, external_id))
    if admitted.replayed:
        bound.info("webhook.replayed")
    else:
        bound.info("webhook.accepted", orders=admitted.enqueued, coalesced=admitted.coalesced)
    return 200, receiver.ok_reply  # what the platform expects back
