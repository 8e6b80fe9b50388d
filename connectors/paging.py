"""Paginators as explicit objects: walk to the end, and refuse to loop forever.

A platform that hands back a token it already gave is broken; following it would re-read the
same pages forever, so that is an error, not a retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pipeline.errors import NeedsReview

Page = list[Any]


def token_pages(fetch: Callable[[str | None], tuple[Page, str | None]], *, what: str) -> Iterator[Page]:
    """Pages from `fetch(token) -> (items, next_token)` until the token is empty."""
    seen: set[str] = set()
    token: str | None = None
    while True:
        items, token = fetch(token)
        yield items
        if not token:
            return
        if token in seen:
            raise NeedsReview(f"{what}: loop detected, page token repeated")
        seen.add(token)


def numbered_pages(fetch: Callable[[int], tuple[Page, int]], *, page_size: int, what: str,
                   max_pages: int = 10_000) -> Iterator[Page]:
    """Pages 1, 2, ... from `fetch(n) -> (items, total_count)` until every item counted is read."""
    number, read = 1, 0
    while number <= max_pages:
        items, total = fetch(number)
        yield items
        read += len(items)
        if not items or read >= total or len(items) < page_size:
            return
        number += 1
    raise NeedsReview(f"{what}: more than {max_pages} pages")
