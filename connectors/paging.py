"""Paginators as explicit objects: walk to the end, and refuse to loop forever.

A platform that hands back a token it already gave is broken; following it would re-read the
same pages forever, so that is an error, not a retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pipeline.errors import ListingMoved, NeedsReview

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


def steady_walks(walk: Callable[[set[int]], Iterator[Page]], key: Callable[[Any], str | None], *,
                 max_walks: int, what: str) -> Iterator[Page]:
    """Pages of one window, walked again (at most `max_walks` times) while its total moved mid-walk.

    Page numbers over a live sort have no snapshot: an order that changes during a walk and leaves
    the window shifts every row behind it by one, so the row at the next page's edge is read by
    neither page. A total that differs between pages of one walk is the sign; the walk then starts
    over. (A move within the window that keeps the total, one order out and another in, goes unseen
    here; a caught-up shop's next sync re-reads the overlap and finds it, a shop catching up does
    not.) `walk(totals)` adds each page's total to `totals`. A row already yielded exactly as listed
    now is dropped from later walks, so a walk again costs only its list pages.

    A window still moving after `max_walks` raises ListingMoved rather than end: the sync retries,
    and its window shrinks after each unfinished run until a walk is one page, which cannot shift.
    """
    yielded: dict[str, Any] = {}

    def fresh(page: Page) -> Page:
        rows = [row for row in page if key(row) is None or yielded.get(key(row)) != row]
        yielded.update((key(row), row) for row in rows if key(row) is not None)
        return rows

    for _ in range(max_walks):
        totals: set[int] = set()
        yield from (fresh(page) for page in walk(totals))
        if len(totals) <= 1:
            return
    raise ListingMoved(f"{what}: the listing's total moved during each of {max_walks} walks")
