"""`orderhub order`: ops look at one order end to end (payload, hold, timeline) when a seller asks
about it, with buyer PII masked unless they ask for it."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click
import msgspec
import orjson

from orderhub.cli.common import open_store
from orderhub.cli.db import _database_trouble
from orderhub.runtime.logs import redact_address, redact_order
from orderhub.runtime.raw_view import mask_unlisted
from pipeline.model import Hold, Order, TimelineEvent, encode
from pipeline.store import OrderStore

if TYPE_CHECKING:
    from pipeline.archive import ArchivedOrder


@click.group("order")
def order_group() -> None:
    """Single orders."""


def _find_seller(store: OrderStore, key: str, seller: str | None) -> str | None:
    for candidate in [seller] if seller else store.sellers():
        if store.get(candidate, key) is not None:
            return candidate
    return None


def _raw_safe_fields(key: str) -> frozenset[str]:
    """The raw fields the order's platform connector declares safe; none for a platform this version
    does not know (every raw value is then masked)."""
    from connectors.registry import get_connector
    from pipeline.identity import parse_order_key

    try:
        return get_connector(parse_order_key(key).platform).raw_safe_fields
    except (KeyError, ValueError):
        return frozenset()


@order_group.command("show")
@click.argument("key")
@click.option("--seller", help="Seller id (default: search every seller).")
@click.option("--pii", is_flag=True, help="Show buyer name, phone, email and street lines unmasked.")
@click.option("--raw", "show_raw", is_flag=True, help="Also print the raw platform bundle.")
def order_show(key: str, seller: str | None, pii: bool, show_raw: bool) -> None:
    """An order, its hold and its timeline (KEY is platform:shop:external_id); an order no longer in Redis
    is read from the archive, shown the same way."""
    store = open_store()
    found = _find_seller(store, key, seller)
    if found is None:
        archived = _find_archived(key, seller)
        if archived is None:
            click.echo(f"no order {key}" + (f" for seller {seller}" if seller else ""), err=True)
            sys.exit(1)
        click.echo(f"order {key}  seller {archived.seller}  stage {archived.stage or '-'}  "
                   f"{_archived_when(store, archived)}")
        _show(key, archived.hold, archived.to_order(), archived.raw, archived.timeline, pii, show_raw)
        return
    stored = store.get(found, key)
    assert stored is not None
    click.echo(f"order {key}  seller {found}  stage {stored.stage or '-'}")
    _show(key, stored.hold, stored.order, stored.raw, store.timeline(found, key), pii, show_raw)


def _show(key: str, hold: Hold | None, order: Order | None, raw: bytes | None, timeline: Iterable[TimelineEvent],
          pii: bool, show_raw: bool) -> None:
    """Hold, canonical order, raw bundle (if asked) and timeline, buyer PII masked unless `pii`: the same
    for an order in Redis and one in the archive."""
    if hold:
        click.echo(f"HELD {hold.reason.value}: {hold.detail}")
    if order is not None:
        doc = orjson.loads(encode(order))
        click.echo(orjson.dumps(doc if pii else redact_order(doc), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo("(payload never mapped: no canonical order)")
    if show_raw and not raw:
        click.echo("raw bundle: none kept (an archived order's buyer data is scrubbed after retention.pii_days)")
    elif show_raw:
        bundle = orjson.loads(raw)
        click.echo("raw bundle:" if pii else "raw bundle (only fields its connector declares safe; --pii shows all):")
        click.echo(orjson.dumps(bundle if pii else mask_unlisted(bundle, _raw_safe_fields(key)),
                                option=orjson.OPT_INDENT_2).decode())
    click.echo("timeline:")
    for event in timeline:
        click.echo(f"  {event.at.isoformat(timespec='seconds')}  {event.kind.value:<16} {event.detail}")
        for name, address in event.addresses.items():
            doc = msgspec.to_builtins(address)
            shown = doc if pii else redact_address(doc)
            click.echo(f"      {name}: " + ", ".join(f"{k}={v}" for k, v in shown.items() if v not in (None, "", False)))


def _find_archived(key: str, seller: str | None) -> ArchivedOrder | None:
    """The order from the archive (its raw payload decompressed), or None: not there, or no archive yet.
    A database that cannot be reached ends the command with one line and exit 2."""
    from pipeline import archive
    from pipeline.archive.engine import open_existing
    from pipeline.archive.reader import sellers_of

    url = archive.database_url()
    with _database_trouble(url):
        engine = open_existing(url)
        if engine is None:
            return None
        try:
            for candidate in [seller] if seller else sellers_of(engine, key):
                record = archive.get_order(engine, candidate, key)
                if record is not None:
                    return record
            return None
        finally:
            engine.dispose()


def _archived_when(store: OrderStore, record: ArchivedOrder) -> str:
    """"archived at <time>" from the order's tombstone in Redis; past the tombstone window that time is no
    longer kept, and when it closed is said instead."""
    from pipeline.archive.tombstones import find, tombstone_time

    at = tombstone_time(find(store.redis, store.prefix, record.seller, platform=record.platform,
                             shop_id=record.shop_id, external_id=record.external_id, placed_at=record.placed_at))
    if at is not None:
        return f"archived at {at:%Y-%m-%d %H:%M:%S}Z"
    closed = f", closed {record.closed_at:%Y-%m-%d %H:%M:%S}Z" if record.closed_at else ""
    return f"archived (when is no longer kept{closed})"
