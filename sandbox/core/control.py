"""The ``/_sandbox/`` control API mounted on every emulator: JSON in, JSON out.

It lets a demo, a contract test in another process or an operator drive the world: reseed the
orders, move or speed up the clock, switch faults on, read counters, recorded pushes and the
ground-truth order list. Each endpoint mirrors a Python method on the emulator object.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sandbox.core.http_types import Handler, Request, Response

if TYPE_CHECKING:
    from sandbox.core.buckets import CallCounters
    from sandbox.core.clock import SandboxClock
    from sandbox.core.faults import FaultInjector


class Controlled(Protocol):
    """What the control API drives. The ``Emulator`` base (``sandbox.core.server``) is one; naming it here
    instead of importing it keeps server -> control a one-way import."""

    clock: SandboxClock
    faults: FaultInjector
    counters: CallCounters
    seed_value: int
    order_count: int

    def route(self, method: str, template: str, operation: str, handler: Handler, *,
              auth: bool = True, control: bool = False) -> None: ...
    def seed(self, count: int, seed: int = 1, anchor: datetime | None = None) -> None: ...
    def configure_faults(self, **knobs: Any) -> dict[str, Any]: ...
    def pushed(self, kind: str | None = None) -> list[dict[str, Any]]: ...
    def ground_truth(self) -> list[dict[str, Any]]: ...


def mount_control_api(emulator: Controlled) -> None:
    def add(method: str, path: str, handler: Any) -> None:
        emulator.route(method, path, "_sandbox", _guard(handler), auth=False, control=True)

    add("POST", "/_sandbox/seed", lambda req: _seed(emulator, req))
    add("GET", "/_sandbox/clock", lambda req: _ok(clock_state(emulator)))
    add("POST", "/_sandbox/clock", lambda req: _clock(emulator, req))
    add("GET", "/_sandbox/faults", lambda req: _ok(emulator.faults.as_dict()))
    add("POST", "/_sandbox/faults", lambda req: _ok(emulator.configure_faults(**_body(req))))
    add("GET", "/_sandbox/counters", lambda req: _ok(emulator.counters.snapshot()))
    add("DELETE", "/_sandbox/counters", lambda req: _reset_counters(emulator))
    add("GET", "/_sandbox/pushed", lambda req: _ok(emulator.pushed(req.arg("kind"))))
    add("GET", "/_sandbox/orders", lambda req: _ok(emulator.ground_truth()))


class WarehouseWorld(Protocol):
    """What a warehouse emulator (4PX, ShipBob) exposes as ground truth and test levers."""

    def count_by_reference(self) -> dict[str, int]: ...
    def outbound_truth(self) -> list[dict[str, Any]]:
        """One row per outbound order: `reference`, `status` (the warehouse's own code), `picked`,
        `shipped_at`, `ship_to` (the place it ships to now: street, city, region, postal_code, country),
        `ship_to_fingerprint`, `shipped_to_fingerprint` (the place it left for; None until shipped) and
        `address_updates` (every update call it took or refused: at, fingerprint, applied, code)."""
    def inventory_truth(self) -> list[dict[str, Any]]: ...
    def cancellation_truth(self) -> list[dict[str, Any]]: ...
    def set_stock(self, site: Any, sku: str, qty: int) -> None: ...
    def pick_now(self, reference: str) -> dict[str, Any]: ...
    def ship_now(self, reference: str) -> dict[str, Any]: ...
    def configure_fulfilment(self, **knobs: Any) -> dict[str, Any]: ...


def destination_fingerprint(street: Any, city: Any, region: Any, postal_code: Any, country: Any) -> str:
    """Where a parcel goes, as a short hash both sides can compute: a warehouse row's `ship_to`, or an
    order's address (its street lines joined with spaces). Case and runs of whitespace do not count;
    the person does not either (the generator's address changes keep the name)."""
    parts = (" ".join(str(p or "").split()).casefold() for p in (street, city, region, postal_code, country))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class FulfilmentTimes:
    """How long a warehouse emulator's outbounds take, in seconds of sandbox time from creation to picked
    (`pick_after`) and to shipped (`ship_after`), and the one control that changes them. Mixed into both
    warehouse emulators (they hold `lock`, `pick_after` and `ship_after`)."""

    lock: Any
    pick_after: float
    ship_after: float

    def configure_fulfilment(self, **knobs: Any) -> dict[str, Any]:
        """Apply `knobs`; an unknown knob or a negative number is refused (400 over HTTP)."""
        with self.lock:
            current = {"pick_after": self.pick_after, "ship_after": self.ship_after}
            unknown = set(knobs) - set(current)
            if unknown:
                raise ValueError(f"unknown fulfilment knob(s) {sorted(unknown)}; known: {sorted(current)}")
            merged = current | {name: float(value) for name, value in knobs.items()}
            if any(value < 0 for value in merged.values()):
                raise ValueError("durations must be >= 0 seconds")
            self.pick_after, self.ship_after = merged["pick_after"], merged["ship_after"]
            return merged


def destination(street: Any, city: Any, region: Any, postal_code: Any, country: Any) -> dict[str, Any]:
    """A `ship_to` row of the outbound ground truth, with its fingerprint."""
    row = {"street": street or "", "city": city or "", "region": region or "", "postal_code": postal_code or "",
           "country": country or ""}
    return row | {"fingerprint": destination_fingerprint(street, city, region, postal_code, country)}


class MarketplaceStock(Protocol):
    """What a marketplace emulator exposes for stock sync: the SKU map rows and the levels it shows."""

    def stock_listings(self, account: str | None = None) -> list[dict[str, str | None]]: ...
    def stock_levels(self, account: str | None = None) -> dict[str, int]: ...


def mount_stock_controls(emulator: Controlled, world: MarketplaceStock) -> None:
    """``GET /_sandbox/listings`` and ``GET /_sandbox/stock`` (optional ``?account=``): the SKU map a seller
    would hold for a shop and the quantities the platform now shows, for a demo or test in another process."""
    for path, read in (("listings", world.stock_listings), ("stock", world.stock_levels)):
        emulator.route("GET", "/_sandbox/" + path, "_sandbox",
                       _guard(lambda req, read=read: _ok(read(req.arg("account")))), auth=False, control=True)


def mount_warehouse_controls(emulator: Controlled, world: WarehouseWorld) -> None:
    """The warehouse part of the control API: outbound orders per client reference, stock, levers.

    ``GET references`` ({reference: accepted creates}), ``outbounds``, ``inventory``,
    ``cancellations``; ``POST stock`` {warehouse, sku, qty}; ``POST pick`` {reference} and
    ``POST ship`` {reference} (force the next stage now); ``GET/POST fulfilment`` (pick/ship durations).
    """

    def add(method: str, path: str, handler: Any) -> None:
        emulator.route(method, "/_sandbox/" + path, "_sandbox", _guard(handler), auth=False, control=True)

    add("GET", "references", lambda req: _ok(world.count_by_reference()))
    add("GET", "outbounds", lambda req: _ok(world.outbound_truth()))
    add("GET", "inventory", lambda req: _ok(world.inventory_truth()))
    add("GET", "cancellations", lambda req: _ok(world.cancellation_truth()))
    add("POST", "stock", lambda req: _stock(world, _body(req)))
    add("POST", "pick", lambda req: _ok(world.pick_now(_required(_body(req), "reference"))))
    add("POST", "ship", lambda req: _ok(world.ship_now(_required(_body(req), "reference"))))
    add("GET", "fulfilment", lambda req: _ok(world.configure_fulfilment()))
    add("POST", "fulfilment", lambda req: _ok(world.configure_fulfilment(**_body(req))))


def _stock(world: WarehouseWorld, body: dict[str, Any]) -> Response:
    missing = {"warehouse", "sku", "qty"} - set(body)
    if missing:
        raise ValueError(f"missing field(s) {sorted(missing)}; send warehouse, sku and qty")
    world.set_stock(body["warehouse"], str(body["sku"]), int(body["qty"]))
    return _ok(world.inventory_truth())


def _required(body: dict[str, Any], name: str) -> str:
    if name not in body:
        raise ValueError(f"missing field {name!r}")
    return str(body[name])


def clock_state(emulator: Controlled) -> dict[str, Any]:
    now = emulator.clock.now()
    return {"now": now.isoformat(), "unix": int(now.timestamp()), "scale": emulator.clock.factor,
            "start": emulator.clock.start.isoformat()}


def _seed(emulator: Controlled, request: Request) -> Response:
    body = _body(request)
    count, seed = int(body.get("count", emulator.order_count)), int(body.get("seed", emulator.seed_value))
    if count < 0:
        raise ValueError("count must be >= 0")
    anchor = body.get("anchor")  # "now", an ISO instant, or absent (the clock's start)
    when = emulator.clock.now() if anchor == "now" else datetime.fromisoformat(anchor) if anchor else None
    emulator.seed(count=count, seed=seed, anchor=when)
    return _ok({"count": count, "seed": seed, "visible": len(emulator.ground_truth())})


def _clock(emulator: Controlled, request: Request) -> Response:
    body = _body(request)
    unknown = set(body) - {"advance", "scale", "set"}
    if unknown:
        raise ValueError(f"unknown clock field(s) {sorted(unknown)}; use advance, scale or set")
    if "set" in body:
        emulator.clock.set(datetime.fromisoformat(body["set"]))
    if "advance" in body:
        emulator.clock.advance(float(body["advance"]))
    if "scale" in body:
        emulator.clock.scale(float(body["scale"]))
    return _ok(clock_state(emulator))


def _reset_counters(emulator: Controlled) -> Response:
    emulator.counters.reset()
    return _ok({})


def _body(request: Request) -> dict[str, Any]:
    body = request.json() or {}
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _ok(payload: Any) -> Response:
    return Response.json(200, payload)


def _guard(handler: Any) -> Any:
    """Bad control input answers 400 with the reason instead of a 500."""

    def run(request: Request) -> Response:
        try:
            return handler(request)
        except (ValueError, TypeError) as exc:
            return Response.json(400, {"error": str(exc)})
        except KeyError as exc:  # an unknown reference, warehouse or location
            return Response.json(404, {"error": f"unknown {exc.args[0] if exc.args else exc}"})

    return run
