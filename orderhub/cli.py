"""The `orderhub` command: what ops run to check config, look at orders and see the state of things.

Each subcommand is a thin shell over pipeline/config functions; output is plain text for people.
Buyer PII is masked unless `--pii` is given.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import msgspec
import orjson

from config.loader import check_file, load_sellers, seller_files
from orderhub.runtime.logs import ensure_logging, redact, redact_address, redact_order
from orderhub.runtime.redisconn import get_redis
from orderhub.runtime.settings import config_path, key_prefix
from pipeline import keys, shop_health
from pipeline.errors import ConfigError
from pipeline.model import encode
from pipeline.store import OrderStore


def open_store() -> OrderStore:
    return OrderStore(get_redis(), key_prefix())


@click.group()
def main() -> None:
    """Orderhub: marketplace orders to overseas warehouses, and tracking and stock back."""
    ensure_logging()


@main.group("config")
def config_group() -> None:
    """Seller config files."""


@config_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def config_check(path: Path | None) -> None:
    """Validate seller config (a file or a folder); print every problem, exit 1 if any."""
    target = path or config_path()
    files = seller_files(target)
    if not files or not all(f.exists() for f in files):
        click.echo(f"{target}: no seller config files found", err=True)
        sys.exit(1)
    problems: list[str] = []
    for file in files:
        problems.extend(check_file(file)[1])
    if not problems:
        try:
            load_sellers(target)  # cross-file rules (a seller declared twice)
        except ConfigError as exc:
            problems = exc.problems
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"{len(problems)} problem(s) in {len(files)} file(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(files)} seller file(s) valid")


@main.group("order")
def order_group() -> None:
    """Single orders."""


def _find_seller(store: OrderStore, key: str, seller: str | None) -> str | None:
    for candidate in [seller] if seller else store.sellers():
        if store.get(candidate, key) is not None:
            return candidate
    return None


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
        click.echo("raw bundle:")
        click.echo(orjson.dumps(raw if pii else redact(raw), option=orjson.OPT_INDENT_2).decode())
    click.echo("timeline:")
    for event in store.timeline(found, key):
        click.echo(f"  {event.at.isoformat(timespec='seconds')}  {event.kind.value:<16} {event.detail}")
        for name, address in event.addresses.items():
            doc = msgspec.to_builtins(address)
            shown = doc if pii else redact_address(doc)
            click.echo(f"      {name}: " + ", ".join(f"{k}={v}" for k, v in shown.items() if v not in (None, "", False)))


@main.command("status")
def status() -> None:
    """Orders per seller, platform and state; holds per reason; queues, sync lag, throttles."""
    from connectors.ratelimit import RateLimiter
    from pipeline.model import utc_now
    from workers.app import QUEUES

    store = open_store()
    now = utc_now()
    depths = {q: store.redis.llen(q) for q in QUEUES}
    click.echo("queues: " + ", ".join(f"{q} {n}" for q, n in depths.items())
               + f", unacked {store.redis.hlen('unacked')}")
    throttles = RateLimiter(store.redis, store.prefix).throttle_counts()
    if throttles:
        click.echo("throttled calls: " + ", ".join(f"{k} {n}" for k, n in sorted(throttles.items())))
    sellers = store.sellers()
    if not sellers:
        click.echo("no orders stored yet")
        return
    for seller in sellers:
        click.echo(f"seller {seller}")
        counts = store.status_counts(seller)
        for (platform, state), n in sorted(counts.items()):
            click.echo(f"  {platform:<11} {state:<18} {n:>8}")
        for key in sorted(store.redis.scan_iter(match=keys.cursor_pattern(store.prefix, seller, "orders"))):
            shop = keys.cursor_owner(store.prefix, seller, "orders", key)
            cursor = store.cursor(seller, shop)
            lag = (now - cursor).total_seconds() if cursor else None
            click.echo(f"  sync {shop}: orders read up to {cursor:%Y-%m-%d %H:%M:%S}Z, lag {lag:.0f}s")
        oldest = store.oldest_unsubmitted(seller)
        if oldest:
            click.echo(f"  oldest READY not yet at a warehouse: {oldest[0]} (placed {oldest[1]:%Y-%m-%d %H:%M}Z)")
        holds = {r: held for r, held in store.holds(seller).items() if held}
        if holds:
            click.echo("  holds:")
            for reason, held in sorted(holds.items()):
                click.echo(f"    {reason.value:<26} {len(held):>8}")


@main.group("sandbox")
def sandbox_group() -> None:
    """The local emulators of the platforms and warehouses."""


@sandbox_group.command("serve")
@click.option("--seed", default=1, show_default=True, help="Seed of the order generator.")
@click.option("--orders", default=200, show_default=True, help="Orders per emulator.")
@click.option("--platform", "platforms", multiple=True, help="Only these emulators (repeatable).")
def sandbox_serve(seed: int, orders: int, platforms: tuple[str, ...]) -> None:
    """Run the emulators on loopback until Ctrl-C; their URLs are printed and registered in Redis."""
    import signal
    import threading

    from sandbox import EMULATORS, start_emulators

    emulators = start_emulators(platforms or tuple(EMULATORS), seed=seed, orders=orders)
    client = get_redis()
    key = keys.sandbox_endpoints(key_prefix())
    client.hset(key, mapping={name: emu.url for name, emu in emulators.items()})
    for name, emulator in emulators.items():
        click.echo(f"{name:<11} {emulator.url}  (control: {emulator.url}/_sandbox/)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        client.hdel(key, *emulators)
        for emulator in emulators.values():
            emulator.stop()


@sandbox_group.command("listings")
@click.argument("platform")
@click.option("--account", help="The emulator shop whose ids to print (TEMU: a LOCAL mall id).")
def sandbox_listings(platform: str, account: str | None) -> None:
    """Print the SKU map (TOML) that ties the sandbox's listings of PLATFORM to seller SKUs, with the
    platform ids its stock API needs: paste it into a seller file to rehearse stock sync."""
    from sandbox.serve import MARKETPLACES

    if platform not in MARKETPLACES:
        raise click.BadParameter(f"no sandbox marketplace {platform!r}", param_hint="PLATFORM")
    rows = MARKETPLACES[platform]().stock_listings(account)
    click.echo(f"[sku_map.platforms.{platform}]")
    for row in rows:
        click.echo(f'"{row["platform_sku"]}" = "{row["seller_sku"]}"')
    if any(row["listing_id"] for row in rows):
        click.echo(f"[sku_map.listings.{platform}]")
        for row in rows:
            if row["listing_id"]:
                click.echo(f'"{row["platform_sku"]}" = "{row["listing_id"]}"')


@main.command("normalize")
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


@main.group("webhooks")
def webhooks_group() -> None:
    """Platform push notifications."""


@webhooks_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def webhooks_serve(host: str, port: int) -> None:
    """Receive pushes at POST /webhooks/{seller}/{shop_id}; bad signatures get 401."""
    from workers.webhooks import make_server

    server = make_server(host, port)
    click.echo(f"webhooks on http://{host}:{server.server_address[1]}/webhooks/{{seller}}/{{shop_id}}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.group("sync")
def sync_group() -> None:
    """Order sync."""


@sync_group.command("now")
@click.option("--seller", required=True)
@click.option("--shop", "shop_id", help="One shop (default: every enabled shop of the seller).")
def sync_now(seller: str, shop_id: str | None) -> None:
    """Enqueue a sync now (and clear an earlier authentication failure of those shops)."""
    from workers.config_cache import seller_config
    from workers.tasks import sync_shop

    cfg = seller_config(seller)
    shops = [cfg.shop(shop_id)] if shop_id else [s for s in cfg.shops if s.enabled]
    client = get_redis()
    for shop in shops:
        shop_health.clear_auth_failed(client, key_prefix(), seller, shop.shop_id)
        sync_shop.apply_async((seller, shop.shop_id), queue="ingest")
        click.echo(f"sync enqueued: {seller} {shop.shop_id}")


@main.group("holds")
def holds_group() -> None:
    """Orders held with a reason an operator can act on."""


def _sellers(seller: str | None):
    from workers.config_cache import all_sellers

    configs = all_sellers()
    if seller and seller not in configs:
        raise click.BadParameter(f"no seller {seller!r} (known: {', '.join(sorted(configs))})", param_hint="--seller")
    return [configs[seller]] if seller else list(configs.values())


def _reason(value: str | None):
    from pipeline.model import HoldReason

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
    """Every held order with its reason and detail."""
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
    for cfg in _sellers(seller):
        def remap(key: str, seller_id: str = cfg.seller) -> str:
            ref = parse_order_key(key)
            try:
                connector = get_connector(ref.platform)
            except KeyError:
                return f"skipped: no {ref.platform} connector in this version"
            shop = ShopRef(seller=seller_id, platform=ref.platform, shop_id=ref.shop_id)
            return remap_stored(store, connector, shop, key)

        def each(key: str, held_reason, outcome: str, seller_id: str = cfg.seller) -> None:
            click.echo(f"{seller_id}  {key}  {held_reason.value}: {outcome}")

        report = replay_holds(store, ledger, cfg, reason=_reason(reason), keys=keys or None, remap=remap,
                              each=each)
        for held_reason, outcomes in sorted(report.items()):
            moved = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
            click.echo(f"{cfg.seller}  {held_reason}: {moved}")
        if not report:
            click.echo(f"{cfg.seller}  nothing to replay")


@main.group("stock")
def stock_group() -> None:
    """What each platform is told about stock, and why."""


@stock_group.command("show")
@click.argument("sku")
@click.option("--seller", help="Only this seller.")
def stock_show(sku: str, seller: str | None) -> None:
    """Explain the number pushed for seller SKU `SKU` (or the platform SKU mapped to it) to every platform shop: on hand, shipped and
    reserved per warehouse (and shipments too close to the last report to know whether it counted
    them), the buffer, the share and the clamps, what was last pushed, and for a listing whose last push
    was refused, the platform's reason and when the number is tried again."""
    from connectors.registry import get_connector
    from pipeline.model import utc_now
    from pipeline.ports import StockPush
    from pipeline.stock import StockLedger
    from pipeline.stock_refusals import read_refusals
    from pipeline.stock_sync import plan

    store = open_store()
    ledger = StockLedger(store.redis, store.prefix)
    now = utc_now()
    found = False
    asked = sku
    for cfg in _sellers(seller):
        named = cfg.sku_map.explicit()  # what ops see in a platform's refusal is the platform SKU
        sku = named.get(asked, asked)
        rows = []
        for wh in cfg.warehouses:
            row = ledger.totals(cfg.seller, wh.id).get(sku)
            if row is not None:
                available = ledger.view(cfg.seller, [(wh.id, sku)])[(wh.id, sku)]
                rows.append(f"    {wh.id:<16} on hand {row['on_hand']:>6}  shipped since {row['shipped']:>5}  "
                            f"in doubt {row['in_doubt']:>4}  reserved {row['reserved']:>5}  available {available:>6}")
        if not rows and sku not in named.values():
            continue  # no warehouse holds it and the seller's map never names it: not this seller's SKU
        listings = []
        for shop in cfg.shops:
            if not shop.enabled:
                continue
            needs = get_connector(shop.platform).capabilities.stock_needs_listing
            planned = plan(cfg, shop, ledger, store.redis, store.prefix, only={sku}, needs_listing_id=needs)
            refusals = read_refusals(store.redis, store.prefix, cfg.seller, shop.shop_id,
                                     [p.listing.platform_sku for p in planned])
            for p in planned:
                push = StockPush(p.listing.platform_sku, p.availability.quantity, p.listing.listing_id)
                refusal = refusals.get(push.platform_sku)
                last = "never" if p.last_pushed is None else str(p.last_pushed)
                flag = "" if not p.changed else "  (changed: pushed at the next sync)"
                if p.changed and refusal is not None and refusal.waiting(push, now):
                    flag = "  (changed, but refused: see below)"
                listings.append(f"    {shop.shop_id:<22} {p.listing.platform_sku:<20} {p.availability.explain()}  "
                                f"last pushed {last}{flag}")
                if refusal is not None and p.changed:  # unchanged: the platform shows it; the next sync forgets it
                    listings.extend(f"      {line}" for line in refusal.explain(push, now))
        found = True
        click.echo(f"{cfg.seller}  {sku}" + (f" (platform SKU {asked})" if asked != sku else ""))
        click.echo("  warehouses:")
        click.echo("\n".join(rows) if rows else "    (no warehouse reports this SKU)")
        click.echo("  platforms (shop, platform SKU, computation, last pushed):")
        click.echo("\n".join(listings) if listings else "    (no listing of this SKU)")
    if not found:
        click.echo(f"no seller knows SKU {asked!r}", err=True)
        sys.exit(1)


@main.command("demo")
@click.option("--orders", default=60, show_default=True, help="Orders each platform emulator generates.")
@click.option("--seed", default=7, show_default=True, help="Seed of the order generator.")
@click.option("--max-seconds", default=300.0, show_default=True, help="Give up (exit 1) after this long.")
@click.option("--config", "config", type=click.Path(exists=True, path_type=Path), default=None,
              help="Seller config (default: config/sellers, the demo sellers).")
def demo(orders: int, seed: int, max_seconds: float, config: Path | None) -> None:
    """Run the whole pipeline against the sandbox until it is quiet, then print a summary."""
    from orderhub.demo import run_demo

    sys.exit(run_demo(orders, seed, max_seconds, config or config_path()))


@main.group("metrics")
def metrics_group() -> None:
    """Prometheus metrics."""


@metrics_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9108, show_default=True, type=int)
def metrics_serve(host: str, port: int) -> None:
    """Expose /metrics for Prometheus (counts read from Redis at each scrape)."""
    import threading

    from prometheus_client import REGISTRY, start_http_server

    from orderhub.metrics import RedisCollector

    store = open_store()
    REGISTRY.register(RedisCollector(store.redis, store.prefix))
    start_http_server(port, addr=host)
    click.echo(f"metrics on http://{host}:{port}/metrics")
    threading.Event().wait()
