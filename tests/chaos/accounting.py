"""The chaos run's ledger, read after quiet from the emulators' ground truth and the order store.

Every figure, precisely (one "order" is one order of the generated book, all of them on acme shops):

- seen: orders the five platforms show (``ground_truth()``: visible now) — the whole book.
- submitted once / submitted >1: seen orders with exactly one / more than one outbound order created
  at the warehouses, counted from the warehouse emulators' accepted creates (``count_by_reference``)
  over both warehouses, under the references ``outbound_reference(key, wh)`` gives for the order.
  Any order at the warehouses more than once is a duplicate (the seller file does not allow splits).
- held: seen orders not at any warehouse and held with a reason (by reason; INVALID_PAYLOAD apart).
- platform-fulfilled: stored with ``fulfilled_by`` PLATFORM (Amazon AFN, TikTok FBT): left alone.
- ended before routing: not at a warehouse, not held, never routed, and stored as CANCELLED
  (cancelled), PENDING (unpaid) or SHIPPED (shipped by the platform's own script before Orderhub
  reached it); "cancelled after routing" is routed, then cancelled before any outbound was created;
  "shipped by platform after routing" is routed, then shown SHIPPED before its submission ran, and
  recorded so by Orderhub (stage "ignored", reservation freed) rather than sent to a warehouse.
- lost: seen orders that are none of the above: never stored, stored unmapped without a hold, or
  stored READY/PARTIALLY_SHIPPED yet neither at a warehouse nor held; also an order whose stored copy
  is older than the platform's by more than ``STALE_GRACE`` (an update the sync never picked up).
- both tiers (a run with ``--hot-days``): an order Redis no longer holds is judged by its archived copy
  (``pipeline.archive.reader.get_order``) with the same categories and the same staleness test; one in
  neither tier is "lost:in neither tier". "archived" counts seen orders found only in the archive, "in
  both tiers" those in both (a move cut short between its archive commit and its Redis delete, judged by
  the Redis copy; the next move finishes it). Submitted once / >1 still come from the warehouses.
- orphan outbounds: at a warehouse while the store records no submission for it (printed, not a loss).
- units oversold: per warehouse and SKU, units in outbound orders not cancelled beyond the stock the
  warehouse started with, plus per ledger row, reserved + shipped beyond on_hand.
- malformed held with raw kept: of the seen orders the emulators render malformed
  (``faults.malformation``), those stored with hold INVALID_PAYLOAD and a non-empty raw payload.
- shipped to a stale address: outbounds a warehouse shipped for an order whose buyer changed the ship-to
  (the generator's own truth), to a street or postcode other than the changed one; "unflagged" are those
  whose order is not held ADDRESS_CHANGED_AFTER_SUBMIT although Orderhub's copy shows the new address, i.e.
  a parcel gone to the old door with nobody told; "unseen" are those whose copy withholds the address
  (Amazon, SHEIN and AliExpress hide it once an order shipped, so a change made between the warehouse
  shipping and the platform showing it shipped never reaches Orderhub). "changes followed" counts
  updates a warehouse took.
- held ADDRESS_INCOMPLETE is split per platform and by whether the stored ship-to really lacks the
  name or the street (the only case it should hold).
- forged accepted: forged webhooks answered 2xx by the receiver.
- leaked: occurrences, in every log file of the run, of a credential (demo secrets file values of
  8+ characters whose key does not name an id, as in tests/test_zz_log_hygiene.py; every access
  token the emulators minted) or of a buyer PII value of 6+ characters (names, phones, street
  lines, e-mail local parts of every generated address, address changes included).
"""

from __future__ import annotations

import subprocess
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import Engine, select

import connectors.registry  # noqa: F401  (fills pipeline.model.PLATFORMS: the ledger decodes stored orders)
from pipeline import keys as store_keys
from pipeline.archive import schema
from pipeline.archive.reader import get_order
from pipeline.archive.records import ArchivedOrder
from pipeline.identity import order_key, outbound_reference
from pipeline.model import Address, EventKind, FulfilledBy, Hold, HoldReason, OrderStatus
from pipeline.stock import StockLedger
from pipeline.store import OrderStore
from pipeline.submissions import submissions
from sandbox.core.demo_accounts import DEMO_SECRETS_PATH
from sandbox.core.generator import EventKind as ScriptKind
from tests.chaos.world import PLATFORMS
from tests.integration.conftest import PREFIX

SELLER = "acme"
SHOPS = {"amazon": "acme-amazon-us", "tiktok": "acme-tiktok-us", "temu": "acme-temu-us",
         "shein": "acme-shein-us", "aliexpress": "acme-aliexpress"}
WAREHOUSE_IDS = {"fourpx": "4px-us", "shipbob": "shipbob-us"}
MALFORMATIONS = 3  # every platform's *_shapes.MALFORMATIONS
STALE_GRACE = timedelta(minutes=2)


@dataclass
class Figures:
    seen: int = 0
    submitted_once: int = 0
    submitted_more: int = 0
    lost: int = 0
    oversold_units: int = 0
    malformed_rendered: int = 0
    malformed_held_raw: int = 0
    stale_shipped: int = 0
    stale_unflagged: int = 0
    stale_unseen: int = 0
    address_updates_applied: int = 0
    forged_sent: int = 0
    forged_accepted: int = 0
    leaked: int = 0
    tiers: int = 1  # 2: the run had an archive, and both were read
    archived: int = 0
    in_both_tiers: int = 0
    categories: Counter = field(default_factory=Counter)
    lost_examples: list[str] = field(default_factory=list)
    leaks_by_file: dict[str, int] = field(default_factory=dict)
    oversold_detail: list[str] = field(default_factory=list)

    def failures(self) -> dict[str, int]:
        return {"lost": self.lost, "submitted_more": self.submitted_more, "oversold_units": self.oversold_units,
                "stale_unflagged": self.stale_unflagged, "forged_accepted": self.forged_accepted,
                "leaked": self.leaked}


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def _outbounds_by_key(emulators: dict, keys: list[str]) -> dict[str, int]:
    counts = emulators["fourpx"].count_by_reference() | emulators["shipbob"].count_by_reference()
    found: dict[str, int] = {}
    for key in keys:
        n = sum(counts.get(outbound_reference(key, wh), 0) for wh in WAREHOUSE_IDS.values())
        if n:
            found[key] = n
    return found


def archived_keys(archive: Engine | None) -> frozenset[str]:
    """The keys of every order of the seller the archive holds (none without an archive)."""
    if archive is None:
        return frozenset()
    with archive.connect() as conn:
        return frozenset(conn.execute(select(schema.orders.c.key).where(schema.orders.c.seller == SELLER)).scalars())


def classify(store: OrderStore, key: str, row: dict, outbounds: int, archive: Engine | None = None) -> str:
    """One seen order's category (see the module docstring); "lost:..." names how it was lost. With an
    archive, an order Redis does not hold is judged by its archived copy."""
    stored = store.get(SELLER, key)
    if stored is None:
        if archive is None:
            return "lost:never stored"
        archived = get_order(archive, SELLER, key)
        return "lost:in neither tier" if archived is None else classify_archived(archived, row, outbounds)
    if outbounds:
        return "submitted" if submissions(store, SELLER, key) else "submitted (orphan outbound)"
    if stored.order is None:
        return "held:INVALID_PAYLOAD" if stored.hold else "lost:unmapped without hold"
    order = stored.order
    return _judge(row, platform=order.platform, status=order.status, fulfilled_by=order.fulfilled_by,
                  ship_to=order.ship_to, hold=stored.hold, stage=stored.stage, updated_at=order.updated_at,
                  routed=lambda: any(e.kind is EventKind.ROUTED for e in store.timeline(SELLER, key)))


def classify_archived(archived: ArchivedOrder, row: dict, outbounds: int) -> str:
    """An order only the archive holds, in classify's categories (its submissions, stage and timeline
    were archived with it)."""
    if outbounds:
        return "submitted" if archived.submissions else "submitted (orphan outbound)"
    return _judge(row, platform=archived.platform, status=archived.status, fulfilled_by=archived.fulfilled_by,
                  ship_to=archived.ship_to, hold=archived.hold, stage=archived.stage,
                  updated_at=archived.updated_at,
                  routed=lambda: any(e.kind is EventKind.ROUTED for e in archived.timeline))


def _judge(row: dict, *, platform: str, status: OrderStatus, fulfilled_by: FulfilledBy, ship_to: Address | None,
           hold: Hold | None, stage: str | None, updated_at: datetime | None, routed: Callable[[], bool]) -> str:
    """The category of a mapped order not at any warehouse, from either tier's copy."""
    if fulfilled_by is FulfilledBy.PLATFORM:
        return "platform-fulfilled"
    if hold is not None and hold.reason is HoldReason.ADDRESS_INCOMPLETE:
        # Held for an address is right only when the platform really withholds the name or the street.
        to = ship_to
        why = "name or street withheld" if to is None or not (to.name and to.line1) else "name and street present"
        return f"held:ADDRESS_INCOMPLETE:{platform} ({why})"
    if hold is not None:
        return f"held:{hold.reason.value}"
    truth = _parse(row["updated_at"])
    if updated_at and truth - updated_at > STALE_GRACE:
        return "lost:update never synced"
    was_routed = routed()
    if status is OrderStatus.CANCELLED:
        return "cancelled after routing" if was_routed else "ended:cancelled"
    if status is OrderStatus.PENDING:
        return "ended:unpaid"
    if status is OrderStatus.SHIPPED and not was_routed:
        return "ended:shipped by platform"
    if status is OrderStatus.SHIPPED and stage == "ignored":
        return "ended:shipped by platform after routing, before submission (stock freed)"
    return f"lost:{status.value} stage={stage or '-'}"


def _oversold(emulators: dict, stock: int, ledger: StockLedger) -> tuple[int, list[str]]:
    units, detail = 0, []
    fourpx = {k.split("/", 1)[1]: v for k, v in emulators["fourpx"].units_ordered().items()
              if k.startswith("USNJ01/")}
    for name, ordered in (("4px-us", fourpx), ("shipbob-us", emulators["shipbob"].units_ordered())):
        for sku, qty in ordered.items():
            if qty > stock:
                units += qty - stock
                detail.append(f"{name} {sku}: {qty} ordered of {stock}")
        for sku, row in ledger.totals(SELLER, name).items():
            over = row["reserved"] + row["shipped"] - row["on_hand"]
            if over > 0:
                units += over
                detail.append(f"ledger {name} {sku}: {row}")
    return units, detail


def _norm(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


def _copy(store: OrderStore, archive: Engine | None, key: str) -> tuple[Hold | None, Address | None] | None:
    """The hold and ship-to of the order's copy in Redis, else in the archive; None: in neither."""
    stored = store.get(SELLER, key)
    if stored is not None:
        return stored.hold, stored.order.ship_to if stored.order is not None else None
    archived = get_order(archive, SELLER, key) if archive is not None else None
    return (archived.hold, archived.ship_to) if archived is not None else None


def _stale_addresses(store: OrderStore, emulators: dict, rows: dict,
                     archive: Engine | None = None) -> tuple[int, int, int, int]:
    """(shipped to a stale address, of them not held though Orderhub read the new address, of them never
    shown to Orderhub, address updates a warehouse took).

    Judged against the generator's own truth, not against Orderhub's copy: only an order whose buyer
    changed the ship-to (visible by now) can be shipped stale, and its parcel is stale when the street
    or postcode it left for is not the changed one."""
    by_reference = {outbound_reference(key, wh): key for key in rows for wh in WAREHOUSE_IDS.values()}
    now = emulators["fourpx"].clock.now()
    stale = unflagged = unseen = applied = 0
    for name in WAREHOUSE_IDS:
        for row in emulators[name].outbound_truth():
            applied += sum(1 for update in row.get("address_updates", ()) if update.get("applied"))
            key = by_reference.get(row["reference"])
            if key is None or not row.get("shipped_to_fingerprint"):
                continue
            platform, truth = rows[key]
            state = emulators[platform].orders[truth["id"]].state(now)
            if not state.address_changed:
                continue
            left_for = row["ship_to"] if row["shipped_to_fingerprint"] == row["ship_to_fingerprint"] else None
            if (left_for is not None and _norm(state.address.line1) in _norm(left_for["street"])
                    and _norm(state.address.postal_code) == _norm(left_for["postal_code"])):
                continue
            stale += 1
            hold, to = _copy(store, archive, key) or (None, None)
            held = hold is not None and hold.reason is HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT
            if not held and to is not None and to.name and to.line1:
                unflagged += 1  # Orderhub held the changed address and did nothing with it
            elif not held:
                unseen += 1  # the platform's copy withholds the address (after shipping): never shown
    return stale, unflagged, unseen, applied


def account(client: redis.Redis, emulators: dict, stock: int, archive: Engine | None = None) -> Figures:
    """Everything but the webhook and leak figures (see `leaks`); with `archive`, over both tiers."""
    store, figures = OrderStore(client, PREFIX), Figures()
    rows = {order_key(p, SHOPS[p], row["id"]): (p, row) for p in PLATFORMS for row in emulators[p].ground_truth()}
    outbounds = _outbounds_by_key(emulators, list(rows))
    figures.seen = len(rows)
    in_archive = archived_keys(archive)
    figures.tiers = 2 if archive is not None else 1
    for key, (platform, row) in rows.items():
        if key in in_archive:
            if client.exists(store_keys.order(PREFIX, SELLER, key)):
                figures.in_both_tiers += 1
            else:
                figures.archived += 1
        category = classify(store, key, row, outbounds.get(key, 0), archive)
        figures.categories[category] += 1
        if category.startswith("lost"):
            figures.lost += 1
            if len(figures.lost_examples) < 10:
                figures.lost_examples.append(f"{key}: {category}")
        n = outbounds.get(key, 0)
        figures.submitted_once += n == 1
        figures.submitted_more += n > 1
        if emulators[platform].faults.malformation(row["id"], MALFORMATIONS) is not None:
            figures.malformed_rendered += 1
            stored = store.get(SELLER, key)
            figures.malformed_held_raw += bool(stored and stored.hold and stored.hold.reason.value == "INVALID_PAYLOAD"
                                               and stored.raw)
    figures.oversold_units, figures.oversold_detail = _oversold(emulators, stock, StockLedger(client, PREFIX))
    (figures.stale_shipped, figures.stale_unflagged, figures.stale_unseen,
     figures.address_updates_applied) = _stale_addresses(store, emulators, rows, archive)
    return figures


def forbidden_values(emulators: dict) -> dict[str, str]:
    """value -> kind ("credential" or "pii"), for the leak scan."""
    values: dict[str, str] = {}
    for table in tomllib.loads(DEMO_SECRETS_PATH.read_text()).values():
        for k, v in table.items():
            if isinstance(v, str) and len(v) >= 8 and "id" not in k:
                values[v] = "credential"
    for name in ("amazon", "tiktok"):
        values.update(dict.fromkeys(list(emulators[name].grants), "credential"))
    for platform in PLATFORMS:
        for order in emulators[platform].orders.values():
            addresses = [order.address] + [e.address for e in order.events
                                           if e.kind is ScriptKind.ADDRESS_CHANGED and e.address]
            for a in addresses:
                for v in (a.name, a.phone, a.line1, a.line2):
                    if len(v) >= 6:
                        values[v] = "pii"
            values[order.buyer_email_local] = "pii"
    return values


def leaks(log_files: list[Path], values: dict[str, str], scratch: Path) -> tuple[int, dict[str, int]]:
    """Occurrences of any forbidden value in the files: one GNU `grep -F` over all of them, because
    building its matcher for a 100,000-order run's ~450,000 values takes ~7 s, and a run leaves a
    log per killed worker (one grep per file would have scanned for over two hours)."""
    patterns = scratch / "forbidden.txt"
    patterns.write_text("\n".join(v for v in values if "\n" not in v) + "\n")
    files = {str(path): path.name for path in log_files if path.exists() and path.stat().st_size}
    by_file: dict[str, int] = {}
    if files:
        out = subprocess.run(["grep", "-F", "-o", "-a", "-H", "-f", str(patterns), *files], capture_output=True)
        for line in out.stdout.splitlines():
            name = next(files[f] for f in files if line.startswith(f.encode() + b":"))
            by_file[name] = by_file.get(name, 0) + 1
    patterns.unlink()
    return sum(by_file.values()), by_file
