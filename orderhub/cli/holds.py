"""`orderhub holds`: held orders wait for an operator; this is where ops list them and, once the
cause is fixed (config or connector), replay them through mapping and routing."""

from __future__ import annotations

import click

from orderhub.cli.common import configured_sellers, open_store
from orderhub.cli.db import ArchiveReads
from pipeline.model import HoldReason
from pipeline.release import PARCEL_OUT


@click.group("holds")
def holds_group() -> None:
    """Orders held with a reason an operator can act on."""


def _reason(value: str | None) -> HoldReason | None:
    if value is None:
        return None
    try:
        return HoldReason(value.upper())
    except ValueError:
        raise click.BadParameter(f"known: {', '.join(r.value for r in HoldReason)}", param_hint="--reason") from None


@holds_group.command("list")
@click.option("--reason", help="Only this hold reason, e.g. UNKNOWN_SKU.")
@click.option("--seller", help="Only this seller.")
def holds_list(reason: str | None, seller: str | None) -> None:
    """Every held order with its reason and detail, in Redis and in the archive (where an order is held
    only for a parcel that left for an address the buyer changed after it was archived)."""
    from pipeline.archive.reader import held_orders

    store = open_store()
    wanted = _reason(reason)
    sellers = [seller] if seller else store.sellers()
    total = 0
    for name in sellers:
        for held_reason, held in store.holds(name, wanted).items():
            for key in held:
                stored = store.get(name, key)
                detail = stored.hold.detail if stored and stored.hold else ""
                click.echo(f"{name}  {held_reason.value:<24} {key}  {detail}")
                total += 1
    archive = ArchiveReads("archived holds not listed")
    try:
        for held in archive(held_orders, seller, wanted) or ():
            click.echo(f"{held.seller}  {held.reason.value:<24} {held.key}  (archived) {held.detail}")
            total += 1
    finally:
        archive.close()
    click.echo(f"{total} held order(s)")


@holds_group.command("replay")
@click.argument("keys", nargs=-1)
@click.option("--reason", help="Replay every order held for this reason.")
@click.option("--seller", help="Only this seller.")
def holds_replay(keys: tuple[str, ...], reason: str | None, seller: str | None) -> None:
    """Re-run mapping and routing for held orders (after fixing config, or a connector for
    INVALID_PAYLOAD: each kept raw payload is mapped again); report per order what happened."""
    from connectors.registry import get_connector
    from pipeline.identity import parse_order_key
    from pipeline.ports import ShopRef
    from pipeline.release import replay_holds
    from pipeline.stock import StockLedger
    from pipeline.sync import remap_stored

    if not keys and not reason:
        raise click.UsageError("name KEYs or a --reason")
    store = open_store()
    ledger = StockLedger(store.redis, store.prefix)
    for cfg in configured_sellers(seller):
        def remap(key: str, seller_id: str = cfg.seller) -> str:
            ref = parse_order_key(key)
            try:
                connector = get_connector(ref.platform)
            except KeyError:
                return f"skipped: no {ref.platform} connector in this version"
            shop = ShopRef(seller=seller_id, platform=ref.platform, shop_id=ref.shop_id)
            return remap_stored(store, connector, shop, key)

        def each(key: str, held_reason: HoldReason, outcome: str, seller_id: str = cfg.seller) -> None:
            click.echo(f"{seller_id}  {key}  {held_reason.value}: {outcome}")

        report = replay_holds(store, ledger, cfg, reason=_reason(reason), keys=keys or None, remap=remap,
                              each=each)
        for held_reason, outcomes in sorted(report.items()):
            moved = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
            click.echo(f"{cfg.seller}  {held_reason}: {moved}")
        if not report:
            click.echo(f"{cfg.seller}  nothing to replay")


RESOLVABLE = PARCEL_OUT  # every other hold has `replay`


@holds_group.command("resolve")
@click.argument("keys", nargs=-1, required=True)
@click.option("--note", required=True, help="What ops did, for the order's timeline (e.g. 'intercepted, UPS 1Z...').")
@click.option("--seller", help="Only this seller.")
def holds_resolve(keys: tuple[str, ...], note: str, seller: str | None) -> None:
    """Close ADDRESS_CHANGED_AFTER_SUBMIT or CANCEL_TOO_LATE holds that ops settled outside Orderhub, in Redis
    or in the archive; the note goes on the order's timeline. Other holds are refused: replay them."""
    from pipeline.archive.holds import resolve_archived_hold
    from pipeline.archive.reader import sellers_of

    store = open_store()
    archive = ArchiveReads("archived orders not looked at")
    failed = 0
    try:
        for key in keys:
            hot = [(name, stored) for name in ([seller] if seller else store.sellers())
                   if (stored := store.get(name, key)) is not None]
            if hot:
                for name, stored in hot:
                    failed += not _resolve_hot(store, name, key, stored.hold, note)
                continue
            archived_owners = [seller] if seller else (archive(sellers_of, key) or [])
            done = [(name, archive(resolve_archived_hold, name, key, note)) for name in archived_owners]
            done = [(name, reason) for name, reason in done if reason is not None]
            for name, reason in done:
                click.echo(f"{name}  {key}  {reason.value} resolved (archived order)")
            if not done:
                click.echo(f"{key}: no held order by that key, in Redis or the archive", err=True)
                failed += 1
    finally:
        archive.close()
    if failed:
        raise click.exceptions.Exit(1)


def _resolve_hot(store, seller: str, key: str, hold, note: str) -> bool:
    if hold is None:
        click.echo(f"{seller}  {key}: not held", err=True)
        return False
    if hold.reason not in RESOLVABLE:
        click.echo(f"{seller}  {key}: {hold.reason.value} is not settled outside Orderhub: fix the cause, then "
                   "`orderhub holds replay`", err=True)
        return False
    store.release(seller, key, f"{hold.reason.value} resolved by ops: {note}")
    click.echo(f"{seller}  {key}  {hold.reason.value} resolved")
    return True
