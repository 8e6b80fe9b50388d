"""What a Redis URL says, read without connecting: kept apart so that the CLI, Celery's settings and
`redisconn.get_redis` read one spelling the same way, and no password in it reaches a log.

`REDIS_URL` may name one server (`redis://`, `rediss://`, `unix://`) or a Sentinel-managed primary, so that
one Redis host is no longer a single point of failure for the broker and the order store:

    sentinel://[[user]:password@]host1:26379;sentinel://host2:26379;sentinel://host3:26379/0?master_name=mymaster

kombu's own spelling for its `sentinel://` broker, with the master's name (and, when the sentinels ask for a
password of their own, `sentinel_password`) in the query. Credentials and the database number may sit on
any one segment and apply to all. `celery_url` / `broker_transport_options` give Celery the master that
`get_redis` follows, and every password in the URL is registered as a secret, so no log line or error
message shows it (`describe` hides them too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit


def celery_url(url: str) -> str:
    """The same Redis spelled for kombu. A Unix socket is `redis+socket://`. A Sentinel URL gets the login and
    the database on every sentinel, since kombu reads them from whichever sentinel its connection is on (it
    moves to the next one when one fails), and no query: kombu takes the master's name from the transport
    options (`broker_transport_options`)."""
    if is_sentinel(url):
        target = parse_sentinel(url)
        login = ""
        if target.username or target.password:
            login = f"{quote(target.username or '', safe='')}:{quote(target.password or '', safe='')}@"
        return ";".join(f"sentinel://{login}{_bracketed(host)}:{port}/{target.db}" for host, port in target.sentinels)
    return "redis+socket://" + url[len("unix://"):] if url.startswith("unix://") else url


def broker_transport_options(url: str) -> dict[str, Any]:
    """What Celery's broker needs beyond `celery_url`: for a Sentinel URL, the master to follow and how to
    reach the sentinels; nothing for one server."""
    if not is_sentinel(url):
        return {}
    target = parse_sentinel(url)
    return {"master_name": target.master_name, "sentinel_kwargs": _sentinel_kwargs(target, SENTINEL_TIMEOUT)}


def describe(url: str) -> str:
    """The URL without any password (its user part, or a `password=` / `sentinel_password=` parameter), for
    logs and errors. A Sentinel URL is described sentinel by sentinel; a part that does not read as one
    (e.g. a password holding a raw `;`) is shown as `***`."""
    if not is_sentinel(url):
        return _describe_one(url)
    return ";".join(_describe_one(part) if _reads_as_sentinel(part) else "***" for part in url.split(";"))


def _describe_one(url: str) -> str:
    parts = urlsplit(url)
    shown = url
    if "@" in parts.netloc:
        shown = shown.replace(parts.netloc, "***@" + parts.netloc.rsplit("@", 1)[1], 1)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(_is_password(name) for name, _ in pairs):
        hidden = [(name, "***" if _is_password(name) else value) for name, value in pairs]
        shown = shown.replace("?" + parts.query, "?" + urlencode(hidden, safe="*/"), 1)
    return shown


def _is_password(name: str) -> bool:
    return name.lower().endswith("password")


def _reads_as_sentinel(part: str) -> bool:
    """Whether `part` is `sentinel://[login@]host[:port]...`, not e.g. half of a password cut at a raw `;`."""
    parts = urlsplit(part.strip())
    try:
        _ = parts.port  # ValueError when what stands in the port's place is not a number
    except ValueError:
        return False
    return is_sentinel(part.strip()) and bool(parts.hostname)


SENTINEL_PORT = 26379
SENTINEL_TIMEOUT = 2.0
"""Seconds one sentinel gets to connect and to answer. It answers from memory, so one slower than this is
taken as down and the next is asked: a silent sentinel host cannot stall finding the master."""
_SENTINEL_QUERY = frozenset({"master_name", "sentinel_password"})


class RedisURLError(ValueError):
    """`REDIS_URL` cannot be used as written; the message shows the URL with its passwords hidden."""


@dataclass(frozen=True)
class SentinelURL:
    """A Sentinel-managed Redis as a `sentinel://` URL names it (module docstring)."""

    sentinels: tuple[tuple[str, int], ...]
    master_name: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)


def is_sentinel(url: str) -> bool:
    return url.startswith("sentinel://")


def parse_sentinel(url: str) -> SentinelURL:
    """The parts of a `sentinel://` URL; RedisURLError when the master's name is missing, a parameter is
    unknown, or two sentinels disagree on the login or the database. Its passwords become registered
    secrets (cut out of every log line from now on)."""
    from orderhub.runtime.logs import register_secret

    def invalid(why: str) -> RedisURLError:
        return RedisURLError(f"REDIS_URL {describe(url)}: {why}")

    hosts: list[tuple[str, int]] = []
    logins: set[tuple[str | None, str | None]] = set()
    dbs: set[str] = set()
    query: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in url.split(";"))):
        if not _reads_as_sentinel(part):
            raise invalid("each ';'-separated part must be sentinel://[login@]host[:port]")
        parts = urlsplit(part)
        hosts.append((parts.hostname or "", parts.port or SENTINEL_PORT))
        if parts.username or parts.password:
            logins.add((unquote(parts.username or "") or None, unquote(parts.password or "") or None))
        if parts.path.strip("/"):
            dbs.add(parts.path.strip("/"))
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if query.setdefault(name, value) != value:
                raise invalid(f"two values for {name}")
    for _, password in logins:
        register_secret(password or "")
    register_secret(query.get("sentinel_password", ""))
    if unknown := sorted(set(query) - _SENTINEL_QUERY):
        raise invalid(f"unknown parameter(s) {', '.join(unknown)} (known: {', '.join(sorted(_SENTINEL_QUERY))})")
    if not query.get("master_name"):
        raise invalid("no master_name=... (the name the sentinels monitor the primary under)")
    if len(logins) > 1 or len(dbs) > 1:
        raise invalid("sentinels with different logins or databases")
    if dbs and not next(iter(dbs)).isdigit():
        raise invalid("the database must be a number")
    username, password = logins.pop() if logins else (None, None)
    return SentinelURL(tuple(hosts), query["master_name"], int(dbs.pop()) if dbs else 0, username, password,
                       query.get("sentinel_password") or None)


def _sentinel_kwargs(target: SentinelURL, wait: float) -> dict[str, Any]:
    """How to talk to the sentinels themselves (not the master): bounded waits, their own password if any."""
    options: dict[str, Any] = {"socket_connect_timeout": wait, "socket_timeout": wait}
    if target.sentinel_password:
        options["password"] = target.sentinel_password
    return options


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
