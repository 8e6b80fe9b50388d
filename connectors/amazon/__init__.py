"""Amazon SP-API connector: `client.py` (LWA, Orders v0, RDT, pushes) and `mapping.py` (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from connectors.amazon import mapping
from connectors.amazon.client import AmazonClient
from connectors.http import read_json


@dataclass(frozen=True)
class AmazonConnector:
    name: str = "amazon"
    # Amazon publishes some changes minutes after their LastUpdateDate; re-read half an hour back.
    overlap: timedelta = timedelta(minutes=30)
    webhooks: Any = None  # notifications come through SQS/EventBridge, not HTTP pushes

    read_payload = staticmethod(read_json)  # the transport's own body reader

    def map_raw(self, raw: bytes, shop: Any):
        return mapping.map_raw(raw, shop)

    def map_order(self, bundle: dict[str, Any], shop: Any):
        return mapping.map_order(bundle, shop)

    def identify(self, bundle: dict[str, Any]):
        return mapping.identify(bundle)

    def client(self, shop: Any, secrets: Mapping[str, str], limiter: Any) -> AmazonClient:
        return AmazonClient(shop, secrets, limiter)


CONNECTOR = AmazonConnector()
