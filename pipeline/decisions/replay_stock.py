"""The stock a routing what-if starts each day from: the stock as it stood, from the archive's daily snapshots.

A snapshot row is the ledger's last reading of its UTC day (pipeline/archive/snapshots.py), so the stock
at the start of day D is the snapshot of D - 1; when that day has none, the latest earlier snapshot; when
there is none at all, the ledger's current totals (said in the output: that is today's stock, not the
day's). Available units are computed as the ledger computes them, on_hand - shipped - in_doubt -
reserved (floored at 0): every unit an earlier order took is then counted once, as reserved if it had not
left, as shipped or in doubt if it left after the warehouse's last report, or gone from on_hand if before.
Only orders placed after the reading are missing from it, and those the replay subtracts itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, timedelta

from sqlalchemy import Engine, func, select

from pipeline.archive import schema
from pipeline.stock import available_of

Available = dict[tuple[str, str], int]
"""(warehouse, seller SKU) → units free to route."""

PREVIOUS_DAY = "the previous day's snapshot"
OLDER = "an older snapshot"
LEDGER = "the ledger's current totals (no snapshot before the day)"


def snapshot_days(engine: Engine, seller: str, first: date, last: date) -> dict[date, Available]:
    """Available units per snapshot day, for every snapshot that can start a replayed day from `first` to
    `last` (both included): the last one before `first` and those up to the day before `last`.
    Index: the stock_snapshots primary key (seller, day, ...)."""
    stock = schema.stock_snapshots
    with engine.connect() as conn:
        start = conn.scalar(select(func.max(stock.c.day)).where(stock.c.seller == seller, stock.c.day < first))
        rows = conn.execute(select(stock.c.day, stock.c.warehouse, stock.c.seller_sku, stock.c.on_hand,
                                   stock.c.shipped, stock.c.in_doubt, stock.c.reserved)
                            .where(stock.c.seller == seller, stock.c.day >= (start or first), stock.c.day < last))
        days: dict[date, Available] = {}
        for day, warehouse, sku, on_hand, shipped, in_doubt, reserved in rows:
            days.setdefault(day, {})[(warehouse, sku)] = available_of(on_hand, shipped, in_doubt, reserved)
    return days


class DayStock(dict):
    """One day's available units, (warehouse, SKU) → units; at a warehouse in `assumed` a SKU with no
    reading has `assumed[warehouse]` units: a warehouse the seller does not stock yet, stocked as ops plan
    to (`orderhub routing whatif --assume-stock`), or the what-if could only show it empty."""

    def __init__(self, stock: Mapping[tuple[str, str], int], assumed: Mapping[str, int]) -> None:
        super().__init__(stock)
        self.assumed = assumed

    def get(self, key: tuple[str, str], default: int | None = None) -> int | None:  # type: ignore[override]
        return self[key] if key in self else self.assumed.get(key[0], default)


class StartingStock:
    """The stock each replayed day starts from (module docstring); `sources` counts the days by where their
    stock came from, for the report; `assumed` units of every SKU at warehouses with no reading of it."""

    def __init__(self, snapshots: Mapping[date, Available], ledger_now: Callable[[], Available],
                 assumed: Mapping[str, int] | None = None) -> None:
        self.assumed = dict(assumed or {})
        self._days = sorted(snapshots)
        self._snapshots = snapshots
        self._ledger_now = ledger_now
        self._ledger: Available | None = None
        self.sources: Counter[str] = Counter()
        self._seen: set[date] = set()

    def start_of(self, day: date) -> Available:
        """A fresh copy of the stock at the start of `day` (the caller subtracts what it routes)."""
        before = [d for d in self._days if d < day]
        if before:
            source = PREVIOUS_DAY if before[-1] == day - timedelta(days=1) else OLDER
            stock = self._snapshots[before[-1]]
        else:
            source = LEDGER
            if self._ledger is None:
                self._ledger = dict(self._ledger_now())
            stock = self._ledger
        if day not in self._seen:
            self._seen.add(day)
            self.sources[source] += 1
        return DayStock(stock, self.assumed)
