"""Skipping the per-order calls for list rows the store already holds whole (see pipeline.ports.ListedRows)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pipeline.ports import ListedRows, RawBundle

Row = dict[str, Any]


CHUNK = 25


def unlisted_pages(pages: Iterable[list[Row]], external_id: Callable[[Any], str | None],
                   listed: ListedRows | None, bundles: Callable[[list[Row]], list[RawBundle]]
                   ) -> Iterator[list[RawBundle]]:
    """Bundles for the rows of each page that `listed` does not know yet; a row without an id is
    always bundled (it will be held, raw kept).

    A page's rows are completed `CHUNK` at a time, each chunk handed on (and stored) before the
    next one's calls start: a sync killed mid-page (a deploy, a crash) loses one chunk's calls, not
    a whole page's, and the next run skips what was stored. The rows are remembered when the
    consumer asks for the next chunk, that is after it stored this one: a run killed in between
    only re-reads them."""
    for rows in pages:
        keyed = [(external_id(row), row) for row in rows]
        ids = {key: row for key, row in keyed if key}
        known = listed.known(ids) if listed is not None and ids else set()
        todo = [(key, row) for key, row in keyed if key not in known]
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            yield bundles([row for _, row in chunk])
            if listed is not None:
                listed.remember({key: row for key, row in chunk if key})
