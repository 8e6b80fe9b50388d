"""Helpers more than one command group needs, kept apart so the group modules share them without
importing one another or the package that assembles them.

Every command reaches Redis through `cli_redis` (bounded waits, no retries) and runs under
`OrderhubGroup`, so a Redis that is down or does not answer ends any command with one line naming the
URL (password hidden) and what to check, and exit 2, instead of a redis-py traceback.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import click
import redis

from config.schema import SellerConfig
from orderhub.runtime.logs import MASK, scrub_text
from orderhub.runtime.redisconn import configured_url, data_dir, describe, get_redis
from orderhub.runtime.settings import key_prefix
from pipeline.store import OrderStore

REDIS_TIMEOUT = 3.0
"""Seconds a command waits to connect to Redis, and for each reply, before it gives up and says so."""


def cli_redis() -> redis.Redis:
    """The Redis client of a command: fails within `REDIS_TIMEOUT` instead of hanging on a stalled server."""
    return get_redis(timeout=REDIS_TIMEOUT)


def open_store() -> OrderStore:
    """The order store every read-only command looks at, on the configured Redis and prefix."""
    return OrderStore(cli_redis(), key_prefix())


def configured_sellers(seller: str | None) -> list[SellerConfig]:
    """The config of `seller`, or of every seller without one; an unknown seller is a usage error."""
    from workers.config_cache import all_sellers, config_state

    configs = all_sellers()
    if seller and seller not in configs:
        out = config_state().unavailable.get(seller)
        if out is not None:
            raise click.BadParameter(f"seller {seller!r} is out: {out[0]}: {out[1]}", param_hint="--seller")
        raise click.BadParameter(f"no seller {seller!r} (known: {', '.join(sorted(configs))})", param_hint="--seller")
    return [configs[seller]] if seller else list(configs.values())


class OrderhubGroup(click.Group):
    """The top `orderhub` group: turns Redis being unreachable or silent, in any subcommand, into one line
    on stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            line = redis_trouble(exc)
            if line is None:
                raise
            click.echo(line, err=True)
            ctx.exit(2)


def redis_trouble(exc: BaseException) -> str | None:
    """The line to print when `exc` (or what caused it) is Redis being unreachable or too slow; else None."""
    cause = _redis_cause(exc)
    if cause is None:
        return None
    url = configured_url()
    if isinstance(cause, redis.AuthenticationError):
        what, check = "refused our credentials", "check the user and password in REDIS_URL"
    elif isinstance(cause, redis.TimeoutError):
        what = f"did not answer within {REDIS_TIMEOUT:g} s"
        check = "check that it is not stopped, overloaded or behind a firewall that drops packets"
    else:
        what, check = "is unreachable", "check that it is running and that REDIS_URL names its host and port"
    if url.startswith("unix://") and url == f"unix://{data_dir() / 'redis.sock'}":
        check = f"check {data_dir() / 'redis.log'}, or set REDIS_URL to a running Redis"
    return f"orderhub: Redis at {describe(url)} {what} ({_reason(cause, url)}); {check}"


def _redis_cause(exc: BaseException | None) -> BaseException | None:
    """The first Redis connection or timeout error in `exc`'s chain (Celery's broker errors included)."""
    from kombu.exceptions import OperationalError

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError | OperationalError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _reason(exc: BaseException, url: str) -> str:
    """The error's own first line, short, with the URL's password and every registered secret cut out."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    parts = urlsplit(url)
    passwords = [parts.password or ""] + [v for k, v in parse_qsl(parts.query) if k.lower() == "password"]
    for password in filter(None, passwords):
        text = text.replace(password, MASK)
    return scrub_text(text) or type(exc).__name__
