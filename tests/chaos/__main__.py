"""`python -m tests.chaos`: one command for the chaos run; see tests/chaos/runner.py for what it does
and tests/chaos/accounting.py for what each printed figure means."""

from __future__ import annotations

import argparse
import signal
import sys

from tests.chaos.runner import Options, report, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000, help="orders across the five platforms")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kill-every", type=float, default=5.0, help="mean seconds between worker SIGKILLs")
    parser.add_argument("--workers", type=int, default=Options.workers, help="worker processes (2 pool processes each)")
    parser.add_argument("--visibility-timeout", type=int, default=Options.visibility_timeout)
    parser.add_argument("--hot-days", type=int, default=None, metavar="N",
                        help="retention.hot_days of the run's seller (0: every closed order moves to the run's "
                             "archive within seconds); the ledger then counts both tiers")
    parser.add_argument("--keep", action="store_true", help="keep the run directory even when all is well")
    parser.add_argument("--json", action="store_true", help="one JSON object as the last line")
    args = parser.parse_args(argv)
    opts = Options(orders=args.orders, seed=args.seed, kill_every=args.kill_every, workers=args.workers,
                   visibility_timeout=args.visibility_timeout, keep=args.keep, hot_days=args.hot_days)
    # SIGTERM (timeout, CI cancel) unwinds like Ctrl-C, so workers, emulators and Redis are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    outcome = run(opts)
    print(report(outcome, as_json=args.json))
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
