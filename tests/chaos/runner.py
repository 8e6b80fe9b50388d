"""The chaos run (issue 8): orders from five faulty marketplaces through workers that keep being
SIGKILLed, a Redis that crashes once, forged webhooks; then quiet, then the ledger.

    .venv/bin/python -m tests.chaos [--orders 100000] [--seed N] [--kill-every S] [--hot-days N] [--json]

Exits non-zero unless lost, submitted >1, oversold, shipped to a stale address unflagged, forged accepted
and leaked are all 0. With `--hot-days N` the seller's closed orders move to the run's own archive
(every 5 s, after N days closed) and the ledger reads both tiers. The figures are defined in
tests/chaos/accounting.py; `pytest tests/chaos` runs a reduced version.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from config.loader import load_sellers
from pipeline.archive import create_archive_engine, schema, upgrade
from pipeline.store import OrderStore
from tests.chaos import accounting
from tests.chaos.accounting import Figures
from tests.chaos.redis_server import RedisServer
from tests.chaos.world import (
    PLATFORMS,
    Crew,
    Faults,
    WebhookServer,
    WebhookTally,
    archive_url,
    change_addresses,
    publish_endpoints,
    send_webhooks,
    settle_platforms,
    start_emulators,
    worker_env,
    write_seller,
)
from tests.integration.conftest import PREFIX
from tests.integration.workers import QUEUES


@dataclass
class Options:
    orders: int = 100_000
    seed: int = 7
    kill_every: float = 5.0
    # Six workers, so that a kill every few seconds still leaves each one half a minute on average,
    # and a visibility timeout long enough for a sync to finish a few chunks before its soft limit
    # (the task time limit is a quarter of it, workers/app.py); with 3 and 60, Amazon and TEMU syncs
    # were cut every 12 s and the 2,500-order run took 2.6x as long to ingest.
    workers: int = 6
    visibility_timeout: int = 120
    webhooks: int | None = None  # default: one per 20 orders, at least 60
    quiet_seconds: float = 20.0
    deadline_seconds: float = 4 * 3600
    keep: bool = False  # keep the run directory (logs, AOF) even when every figure is 0
    # The seller's retention.hot_days (0: every closed order moves to the archive at the next move, every
    # 5 s); None leaves retention at its default (a week: nothing moves during a run) and the archive unread.
    hot_days: int | None = None

    @property
    def stock(self) -> int:
        """Units per SKU per warehouse: about three quarters of what the ready orders ask for in all."""
        return max(4, self.orders // 120)


@dataclass
class Outcome:
    figures: Figures
    timings: dict[str, float]
    events: dict[str, int]
    run_dir: Path

    @property
    def ok(self) -> bool:
        return not any(self.figures.failures().values())


class Log:
    """The runner's own log file (scanned for leaks like every other log) echoed to stderr."""

    def __init__(self, path: Path, echo: bool = True) -> None:
        self.file, self.echo, self.started = path.open("a", encoding="utf-8"), echo, time.monotonic()

    def __call__(self, message: str) -> None:
        line = f"[{time.monotonic() - self.started:7.1f}s] {message}"
        self.file.write(line + "\n")
        self.file.flush()
        if self.echo:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        self.file.close()


def _received(client: redis.Redis) -> int:
    try:
        return OrderStore(client, PREFIX).event_counts(accounting.SELLER).get("received", 0)
    except redis.RedisError:
        return -1


def _open(emulators: dict) -> int:
    fourpx, shipbob = emulators["fourpx"], emulators["shipbob"]
    return sum(o.status in ("S", "P") for o in list(fourpx.outbounds.values())) + \
        sum(o.status == "Processing" for o in list(shipbob.sb_orders.values()))


def _archived(archive: Engine | None) -> int:
    """Orders in the run's archive (0 without one)."""
    if archive is None:
        return 0
    with archive.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.orders)
                            .where(schema.orders.c.seller == accounting.SELLER)).scalar_one()


def _busy(client: redis.Redis, emulators: dict) -> bool:
    open_outbound = _open(emulators) > 0
    return open_outbound or any(client.llen(q) for q in QUEUES) or _orders_in_flight(client)


PERIODIC = {"workers.tasks.sync_shop", "workers.tasks.sync_stock", "workers.tasks.poll_shipments",
            "workers.tasks.pull_inventory", "workers.tasks.check_stock_drift", "workers.tasks.reconcile_shop",
            "workers.tasks.resume_stalled", "workers.tasks.archive_closed", "workers.tasks.snapshot_stock"}


def _orders_in_flight(client: redis.Redis) -> bool:
    """An unacked message of an order task (route, submit, cancel, acknowledge, push tracking, fetch).

    Periodic tasks do not count: beat issues them again and again, so one is nearly always running,
    and a dead worker's periodic message is replaced by the next one rather than needed. Their
    effects show in the fingerprint, which must hold still for the quiet period. (Counting those
    older than a few seconds kept the 20,000-order run from ever settling: its shipment polls ran
    longer than that each time.)"""
    for payload in client.hvals("unacked"):
        if json.loads(payload)[0].get("headers", {}).get("task", "") not in PERIODIC:
            return True
    return False


def _fingerprint(client: redis.Redis, emulators: dict, archive: Engine | None = None) -> tuple:
    """What must hold still for the quiet period. Orders leaving Redis for the archive change no event
    count (counters, never taken back), and the archive's own count is part of it: a move still under
    way is not quiet."""
    events = tuple(sorted(OrderStore(client, PREFIX).event_counts(accounting.SELLER).items()))
    creates = sum(emulators["fourpx"].count_by_reference().values()) + \
        sum(emulators["shipbob"].count_by_reference().values())
    pushes = sum(len(emulators[p].pushed("tracking")) for p in PLATFORMS)  # not stock: beat pushes it on
    return events, creates, pushes, _archived(archive)


def _behind(client: redis.Redis, cut: datetime) -> list[str]:
    """Shops whose sync cursor has not passed the cut yet (Amazon's trails now by two minutes)."""
    store = OrderStore(client, PREFIX)
    return [shop for shop in accounting.SHOPS.values()
            if (cursor := store.cursor(accounting.SELLER, shop)) is None or cursor <= cut]


def wait_for_quiet(client: redis.Redis, emulators: dict, quiet: float, deadline: float, log: Log,
                   cut: datetime, archive: Engine | None = None) -> bool:
    """Every shop synced past the cut, queues and `unacked` empty, no open outbound, and nothing
    changing for `quiet` seconds (with an archive, its order count included). Nothing here counts
    orders in Redis, so one that moved to the archive is never taken for one missing."""
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        try:
            now = _fingerprint(client, emulators, archive)
            behind = _behind(client, cut)
            busy = _busy(client, emulators) or bool(behind)
        except (redis.RedisError, SQLAlchemyError):
            time.sleep(1)
            continue
        if now != last or busy:
            if now != last:
                last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return True
        time.sleep(1)
        if int(time.monotonic()) % 15 == 0:
            log(f"waiting for quiet: busy={busy} behind the cut={behind} unacked={client.hlen('unacked')} "
                f"queued={sum(client.llen(q) for q in QUEUES)} open outbounds={_open(emulators)}")
    return False


def run(opts: Options, echo: bool = True) -> Outcome:
    run_dir = Path(tempfile.mkdtemp(prefix="orderhub-chaos-"))
    log = Log(run_dir / "runner.log", echo)
    rng = random.Random(opts.seed)
    timings: dict[str, float] = {}
    started = time.monotonic()
    server = RedisServer(run_dir / "redis").start()
    log(f"redis-server on port {server.port} (AOF everysec), run dir {run_dir}")
    t = time.monotonic()
    emulators: dict = {}
    try:
        emulators.update(start_emulators(opts.orders, opts.seed, opts.stock, Faults()))
        timings["emulators_start_s"] = round(time.monotonic() - t, 1)
        outcome = _run_world(opts, run_dir, log, rng, server, emulators, timings, started)
    finally:
        for emulator in emulators.values():
            emulator.stop()
        server.stop()
    if outcome.ok and not opts.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return outcome


def _run_world(opts: Options, run_dir: Path, log: Log, rng: random.Random, server: RedisServer, emulators: dict,
               timings: dict[str, float], started: float) -> Outcome:
    client = redis.Redis.from_url(server.url)
    publish_endpoints(client, emulators)
    # Loaded here first: a file the workers would reject (retention.hot_days below config/rules.py's minimum)
    # would leave the seller out of beat's schedule and the run would only time out.
    load_sellers(write_seller(run_dir, opts.hot_days))
    archive = None
    if opts.hot_days is not None:  # the run's own archive, migrated before any worker moves an order to it
        archive = create_archive_engine(archive_url(run_dir))
        upgrade(archive)
        log(f"retention.hot_days = {opts.hot_days}: closed orders move to {archive_url(run_dir)}")
    env = worker_env(server.url, run_dir, opts.visibility_timeout, archive=archive is not None)
    crew = Crew(env, run_dir, rng, size=opts.workers)
    hooks = WebhookServer(env, run_dir)
    tally, stop_hooks, stop_kills = WebhookTally(), threading.Event(), threading.Event()
    seen = sum(len(emulators[p].ground_truth()) for p in PLATFORMS)
    log(f"{seen} orders on the platforms; {opts.stock} units per SKU per warehouse")
    figures: Figures | None = None
    try:
        crew.start()
        time.sleep(3)
        crew.kill_loop(opts.kill_every, stop_kills)
        hooks.wait_ready()
        send_webhooks(emulators, hooks, opts.webhooks or max(60, opts.orders // 20), rng, tally, stop_hooks)
        deadline = started + opts.deadline_seconds
        restarted = False
        while time.monotonic() < deadline:
            received = _received(client)
            if not restarted and received >= seen // 2:
                down = server.crash_and_restart()
                restarted = True
                timings["redis_restart_at_s"] = round(time.monotonic() - started, 1)
                log(f"redis crashed (SIGKILL) and restarted after {down:.1f}s at {received} orders stored")
            if received >= seen:
                break
            crew.keep_beat()
            log(f"stored {received}/{seen}, kills {crew.kills}")
            time.sleep(5)
        stop_kills.set()
        timings["ingested_s"] = round(time.monotonic() - started, 1)
        cut = settle_platforms(emulators[p] for p in PLATFORMS)
        moved = change_addresses({p: emulators[p] for p in PLATFORMS}, rng, max(10, opts.orders // 100), cut)
        log(f"all {seen} orders stored after {timings['ingested_s']}s; kills {crew.kills}; platforms' own "
            f"changes stopped at {cut.isoformat()}; {moved} buyers changed their ship-to; waiting for quiet")
        quiet = wait_for_quiet(client, emulators, opts.quiet_seconds, deadline, log, cut, archive)
        timings["quiet_s"] = round(time.monotonic() - started, 1)
        log(f"quiet={quiet} after {timings['quiet_s']}s")
        stop_hooks.set()
        figures = accounting.account(client, emulators, opts.stock, archive)
        if not quiet:
            figures.categories["run ended before quiet"] += 1
    finally:
        stop_kills.set()
        stop_hooks.set()
        crew.stop()
        hooks.stop()
        if archive is not None:
            archive.dispose()
    figures = figures or Figures()
    figures.forged_sent = tally.forged_sent
    # Pushes the receiver answered 200, from its access log (handle_push's "webhook.accepted" also counts a
    # push whose enqueue finished after the ingress had answered 503): more than the sender saw means
    # pushes accepted that the sender did not see accepted, counted as forged.
    accepted_lines = sum('"ingress.request"' in line and '"status":200' in line
                         for line in hooks.log_path.read_text(errors="replace").splitlines())
    figures.forged_accepted = tally.forged_accepted + max(0, accepted_lines - tally.genuine_accepted)
    events = {"worker_kills": crew.kills, "beat_restarts": crew.beat_restarts, "redis_restarts": server.restarts,
              "webhooks_genuine_sent": tally.genuine_sent, "webhooks_genuine_accepted": tally.genuine_accepted,
              "webhooks_forged_sent": tally.forged_sent, "webhook_accepted_log_lines": accepted_lines,
              "webhook_send_errors": tally.errors}
    log("scanning every log of the run for credentials and buyer PII")
    log.close()
    logs = sorted(run_dir.glob("*.log")) + [server.log_path]
    figures.leaked, figures.leaks_by_file = accounting.leaks(logs, accounting.forbidden_values(emulators), run_dir)
    timings["total_s"] = round(time.monotonic() - started, 1)
    return Outcome(figures, timings, events, run_dir)


def report(outcome: Outcome, as_json: bool = False) -> str:
    f = outcome.figures
    rows = [("orders seen on platforms", f.seen, "> 0", f.seen > 0),
            ("submitted once", f.submitted_once, "> 0", f.submitted_once > 0),
            ("submitted more than once", f.submitted_more, "0", f.submitted_more == 0),
            ("lost", f.lost, "0", f.lost == 0),
            *([("archived (only in the archive)", f.archived, "", True),
               ("in both tiers (a move cut short: the next one finishes it)", f.in_both_tiers, "", True)]
              if f.tiers == 2 else []),
            ("units oversold", f.oversold_units, "0", f.oversold_units == 0),
            (f"shipped to a stale address, nobody told (of {f.stale_shipped} stale, {f.stale_unseen} never shown; "
             f"{f.address_updates_applied} followed)", f.stale_unflagged, "0", f.stale_unflagged == 0),
            (f"malformed held with raw kept (of {f.malformed_rendered} rendered)", f.malformed_held_raw, "> 0",
             f.malformed_held_raw > 0),
            (f"forged webhooks accepted (of {f.forged_sent} sent)", f.forged_accepted, "0", f.forged_accepted == 0),
            ("credential / PII occurrences in logs", f.leaked, "0", f.leaked == 0)]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure':<{width}}  {'value':>8}  goal  met"]
    lines += [f"{name:<{width}}  {value:>8}  {goal:<4}  {'met' if ok else 'MISSED'}" for name, value, goal, ok in rows]
    lines.append("")
    lines.append("where every seen order ended:")
    lines += [f"  {name:<40} {n:>8}" for name, n in sorted(f.categories.items())]
    lines.append("events: " + ", ".join(f"{k}={v}" for k, v in outcome.events.items()))
    lines.append("timings (s): " + ", ".join(f"{k}={v}" for k, v in outcome.timings.items()))
    for extra in f.lost_examples + f.oversold_detail[:10]:
        lines.append(f"  ! {extra}")
    if f.leaks_by_file:
        lines.append(f"  ! leaks by file: {f.leaks_by_file}")
    if not outcome.ok:
        lines.append(f"logs kept in {outcome.run_dir}")
    if as_json:
        data = {k: v for k, v in asdict(f).items() if k not in ("lost_examples", "oversold_detail")}
        data.update(categories=dict(f.categories), events=outcome.events, timings=outcome.timings, ok=outcome.ok)
        lines.append(json.dumps(data, sort_keys=True))
    return "\n".join(lines)
