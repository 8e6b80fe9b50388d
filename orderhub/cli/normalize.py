"""`orderhub normalize`: map a recorded platform payload offline, so a connector bug or an odd
payload can be reproduced from a file without Redis, a shop or a sync."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from pipeline.model import encode


@click.command("normalize")
@click.argument("platform")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--seller", default="seller", show_default=True, help="Seller id to put in the order.")
@click.option("--shop", "shop_id", default="shop", show_default=True, help="Shop id to put in the key.")
@click.option("--pii", is_flag=True, help="Show buyer name, phone, email and street lines unmasked.")
def normalize(platform: str, file: Path, seller: str, shop_id: str, pii: bool) -> None:
    """Print the canonical order of a raw bundle FILE, or the mapping error with its field path.

    FILE is platform JSON as the platform sent it (a recorded payload): it is read the way the
    platform's client reads a response body, so it maps exactly as sync would have mapped it.
    Without --pii the buyer is masked; where the order goes (country, region, city, postcode) is shown."""
    import hashlib

    from connectors.registry import get_connector
    from orderhub.runtime.logs import redact_order
    from pipeline.errors import HoldError
    from pipeline.ports import ShopRef

    try:
        connector = get_connector(platform)
    except KeyError as exc:
        click.echo(exc.args[0], err=True)
        sys.exit(2)
    raw = file.read_bytes()
    try:
        bundle = connector.read_payload(raw)
    except ValueError as exc:  # orjson's and json's decode errors are both ValueErrors
        click.echo(f"{file}: not JSON: {exc}", err=True)
        sys.exit(1)
    try:
        order = connector.map_order(bundle, ShopRef(seller=seller, platform=platform, shop_id=shop_id))
    except HoldError as exc:
        click.echo(f"{type(exc).__name__} at {exc.path or '(bundle)'}: {exc.message}", err=True)
        sys.exit(1)
    doc = orjson.loads(encode(order))
    doc["payload_hash"] = hashlib.sha256(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS)).hexdigest()
    click.echo(orjson.dumps(doc if pii else redact_order(doc), option=orjson.OPT_INDENT_2).decode())
