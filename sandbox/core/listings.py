"""Which catalogue SKUs a marketplace emulator will take stock for, under the ids its stock API uses.

Each emulator builds one ``ListingIndex`` from its catalogue (``world.CATALOGUE`` by default, or a
larger one for load tests) and validates every stock push against it with dict lookups, so a
10,000-SKU catalogue costs the same per pushed SKU as the demo one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sandbox.core.world import CatalogueItem


@dataclass(frozen=True)
class Listing:
    """One SKU as a seller's SKU map holds it: what ``StockPush(platform_sku, quantity, listing_id)`` needs."""

    item: CatalogueItem
    platform_sku: str
    listing_id: str | None  # the product / goods the SKU is pushed under, where the API asks for one

    def row(self) -> dict[str, str | None]:
        return {"seller_sku": self.item.sku, "platform_sku": self.platform_sku, "listing_id": self.listing_id}


class ListingIndex:
    """The catalogue looked up by platform SKU and by listing (product), both in O(1)."""

    def __init__(self, catalogue: Iterable[CatalogueItem], platform_sku: Callable[[CatalogueItem], str],
                 listing_id: Callable[[CatalogueItem], str | None] = lambda item: None) -> None:
        self.by_platform_sku: dict[str, Listing] = {}
        self.by_listing: dict[str, list[Listing]] = {}
        for item in catalogue:
            listing = Listing(item, platform_sku(item), listing_id(item))
            clash = self.by_platform_sku.get(listing.platform_sku)
            if clash is not None:  # derived ids are hashes: a huge catalogue must fail loudly, not overwrite
                raise ValueError(f"{item.sku} and {clash.item.sku} derive the same platform SKU {listing.platform_sku}")
            self.by_platform_sku[listing.platform_sku] = listing
            if listing.listing_id is not None:
                self.by_listing.setdefault(listing.listing_id, []).append(listing)

    def get(self, platform_sku: object) -> Listing | None:
        return self.by_platform_sku.get(str(platform_sku))

    def belongs(self, platform_sku: object, listing_id: object) -> bool:
        """Whether the SKU exists and sits under that listing (a SKU pushed under another product is refused)."""
        listing = self.get(platform_sku)
        return listing is not None and listing.listing_id == str(listing_id)

    def rows(self) -> list[dict[str, str | None]]:
        return [listing.row() for listing in self.by_platform_sku.values()]


def levels_of(stock: Mapping[tuple[str, str], int], account: str) -> dict[str, int]:
    """platform SKU -> quantity for one account, from an emulator's ``{(account, platform_sku): quantity}``."""
    return {sku: quantity for (owner, sku), quantity in stock.items() if owner == account}
