"""`orderhub order`: ops look at one order end to end (payload, hold, timeline) when a seller asks
about it, with buyer PII masked unless they ask for it."""

from __future__ import annotations

import sys

import click
import msgspec
import orjson

from orderhub.cli.common import open_store
from orderhub.runtime.logs import redact_address, redact_order
from orderhub.runtime.raw_view import mask_unlisted
from pipeline.model import encode
from pipeline.store import OrderStore


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
    """An order, its hold and its timeline (KEY is platform:shop:external_id)."""
    store = open_store()
    found = _find_seller(store, key, seller)
    if found is None:
        click.echo(f"no order {key}" + (f" for seller {seller}" if seller else ""), err=True)
        sys.exit(1)
    stored = store.get(found, key)
    assert stored is not None
    click.echo(f"order {key}  seller {found}  stage {stored.stage or '-'}")
    if stored.hold:
        click.echo(f"HELD {stored.hold.reason.value}: {stored.hold.detail}")
    if stored.order is not None:
        doc = orjson.loads(encode(stored.order))
        click.echo(orjson.dumps(doc if pii else redact_order(doc), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo("(payload never mapped: no canonical order)")
    if show_raw:
        raw = orjson.loads(stored.raw) if stored.raw else None
        click.echo("raw bundle:" if pii else "raw bundle (only fields its connector declares safe; --pii shows all):")
        click.echo(orjson.dumps(raw if pii else mask_unlisted(raw, _raw_safe_fields(key)),
                                option=orjson.OPT_INDENT_2).decode())
    click.echo("timeline:")
    for event in store.timeline(found, key):
        click.echo(f"  {event.at.isoformat(timespec='seconds')}  {event.kind.value:<16} {event.detail}")
        for name, address in event.addresses.items():
            doc = msgspec.to_builtins(address)
            shown = doc if pii else redact_address(doc)
            click.echo(f"      {name}: " + ", ".join(f"{k}={v}" for k, v in shown.items() if v not in (None, "", False)))
