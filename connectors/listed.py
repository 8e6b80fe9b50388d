"""Skipping the per-order calls for list rows the store already holds whole (see pipeline.ports.ListedRows)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pipeline.ports import ListedRows, RawBundle

Row = dict[str, Any]


def unlisted_pages(pages: Iterable[list[Row]], external_id: Callable[[Any], str | None],
                   listed: ListedRows | None, bundles: Callable[[list[Row]], list[RawBundle]]
                   ) -> Iterator[list[RawBundle]]:
    """Bundles for the rows of each page that `listed` does not know yet; a row without an id is
    always bundled (it will be held, raw kept). The rows are remembered when the consumer asks for
    the next page, that is after it stored this one: a run killed in between only re-reads them."""
    for rows in pages:
        ids = {key: row for row in rows if (key := external_id(row))}
        known = listed.known(ids) if listed is not None and ids else set()
        todo = [row for row in rows if external_id(row) not in known]
        if not todo:
            continue
        yield bundles(todo)
        if listed is not None:
            listed.remember({key: row for key, row in ids.items() if key not in known})
