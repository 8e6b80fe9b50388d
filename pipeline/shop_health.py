"""A shop whose credentials failed: its sync stops until an operator fixes them and runs
`orderhub sync now`, instead of retrying (and failing, and alerting) on every beat.

The flag lives in Redis under `keys.auth_failed`; the sync task sets and reads it, the CLI clears it.
"""

from __future__ import annotations

import redis

from pipeline import keys


def auth_failed(client: redis.Redis, prefix: str, seller: str, shop_id: str) -> bool:
    """True when the shop's credentials failed and nobody has cleared that since."""
    return bool(client.exists(keys.auth_failed(prefix, seller, shop_id)))


def mark_auth_failed(client: redis.Redis, prefix: str, seller: str, shop_id: str, detail: str) -> None:
    """Stop the shop's sync, keeping what the platform said."""
    client.set(keys.auth_failed(prefix, seller, shop_id), detail)


def clear_auth_failed(client: redis.Redis, prefix: str, seller: str, shop_id: str) -> None:
    """Let the shop's sync run again (`orderhub sync now`)."""
    client.delete(keys.auth_failed(prefix, seller, shop_id))
