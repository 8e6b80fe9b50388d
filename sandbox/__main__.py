"""``python -m sandbox [--seed N] [--orders N] [--platform amazon ...]``: serve the emulators locally."""

from __future__ import annotations

import argparse

from sandbox.serve import EMULATORS, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--platform", action="append", choices=sorted(EMULATORS), dest="platforms")
    args = parser.parse_args(argv)
    serve(args.platforms or tuple(EMULATORS), seed=args.seed, orders=args.orders, host=args.host)


if __name__ == "__main__":
    main()
