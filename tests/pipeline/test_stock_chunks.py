"""Stock pushes go out in chunks that keep each listing's SKUs together, so a platform that takes a
product's SKUs in one call (TikTok, TEMU, AliExpress) makes one call per product, not one per SKU."""

from __future__ import annotations

from pipeline.ports import StockPush
from pipeline.stock_sync import listing_chunks


def test_a_listing_is_never_split_across_chunks_and_every_push_goes_out_once():
    # Platform-SKU order interleaves the products, as hashed platform ids do in a real catalogue.
    pushes = [StockPush(f"sku-{(n * 7919) % 1000:04d}", n % 9, f"product-{n % 200:03d}") for n in range(1000)]
    chunks = list(listing_chunks(pushes, 64))
    assert sorted(p.platform_sku for chunk in chunks for p in chunk) == sorted(p.platform_sku for p in pushes)
    owner = {}
    for number, chunk in enumerate(chunks):
        for push in chunk:
            assert owner.setdefault(push.listing_id, number) == number
    assert all(len(chunk) < 64 + 5 for chunk in chunks)  # a chunk closes at the first listing edge past 64


def test_pushes_without_a_listing_are_chunked_by_size():
    pushes = [StockPush(f"sku-{n}", n, None) for n in range(10)]
    assert [len(chunk) for chunk in listing_chunks(pushes, 4)] == [4, 4, 2]
