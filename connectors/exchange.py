"""One HTTP exchange on the wire: a connector's request description encoded, sent on a pooled
connection, and its answer read whole.

Why not `requests`: at the rate the pipeline calls platforms and warehouses, requests' per-call work
(preparing and re-quoting the URL, merging session settings, hooks, cookies, building its Response)
cost about twice what sending the bytes did: 0.94 ms of CPU per call against 0.33 ms for urllib3's
connection pool (which requests itself sends through). So the transport speaks to urllib3 directly,
and this module keeps the few things requests did for us:

- the request description every client builds: `method`, `url`, `params` (None values dropped, lists
  repeated), `data` (bytes, text, or a dict sent as a form), `json`, `headers`;
- proxies and the CA bundle from the environment (HTTP(S)_PROXY with its credentials, NO_PROXY with CIDR
  blocks: connectors/proxies.py; REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), read once per origin;
- headers merged whatever their case (a client's "user-agent" replaces ours), None values left out;
- gzip and deflate answers decoded.

What it deliberately does not do: follow redirects (requests did). A platform API that answers 3xx is
refused by the response table (connectors/responses.py) and held for review; following it would send a
signed request, tokens included, to wherever the answer points.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import certifi
import orjson
import urllib3
from urllib3 import HTTPHeaderDict
from urllib3.exceptions import HTTPError, LocationValueError

from connectors.proxies import proxy_for, proxy_headers

DEFAULT_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "User-Agent": "orderhub"}
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
PATH_SAFE = "/%:@!$&'()*+,;=-._~"
"""Characters a path keeps as they are: what is already escaped stays escaped, a stray space does not."""

NoAnswer = HTTPError
"""Every way an exchange can end without an answer (refused, reset, timed out, bad TLS, a proxy
failing): urllib3's base error, which the response table maps (connectors/responses.py)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer as the classifiers read it: status, headers (case-insensitive) and the whole body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


def _pairs(values: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """Query or form pairs as requests built them: None values dropped, a list or tuple repeated."""
    pairs: list[tuple[str, Any]] = []
    for name, value in (values or {}).items():
        for one in value if isinstance(value, list | tuple) else (value,):
            if one is not None:
                pairs.append((name, one))
    return pairs


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A request as it goes on the wire: `target` is the path and query the request line names."""

    method: str
    scheme: str
    netloc: str
    target: str
    body: bytes | None
    headers: HTTPHeaderDict

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.target}"


def encode(request: Mapping[str, Any]) -> Outgoing:
    """The wire form of a request description."""
    scheme, netloc, path, query, _ = urlsplit(request["url"])
    params = urlencode(_pairs(request.get("params")))
    query = "&".join(part for part in (query, params) if part)
    target = quote(path or "/", safe=PATH_SAFE) + (f"?{query}" if query else "")
    headers = HTTPHeaderDict(DEFAULT_HEADERS)  # a client's "user-agent" replaces our "User-Agent"
    for name, value in (request.get("headers") or {}).items():
        if value is None:  # as requests did: a header set to None is not sent
            headers.discard(name)
        else:
            headers[name] = value
    body: bytes | None
    data, document = request.get("data"), request.get("json")
    if data is not None:
        if isinstance(data, Mapping):
            body, kind = urlencode(_pairs(data)).encode(), FORM
        else:
            body, kind = (data.encode() if isinstance(data, str) else bytes(data)), None
    elif document is not None:
        body, kind = orjson.dumps(document), JSON
    else:
        body, kind = None, None
    if kind and "content-type" not in headers:
        headers["Content-Type"] = kind
    return Outgoing(request["method"].upper(), scheme, netloc, target, body, headers)


class Pools:
    """One shop's connection pools, one per origin (direct, or through the environment's proxy)."""

    def __init__(self, *, maxsize: int = 16) -> None:
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        self._options = {"maxsize": maxsize, "block": False, "cert_reqs": "CERT_REQUIRED", "ca_certs": ca_bundle}
        self._direct = urllib3.PoolManager(num_pools=4, **self._options)
        self._proxied: dict[str, urllib3.ProxyManager] = {}
        self._routes: dict[tuple[str, str], Any] = {}

    def _route(self, outgoing: Outgoing) -> Any:
        """The origin's own connection pool, or the proxy manager that reaches it."""
        origin = (outgoing.scheme, outgoing.netloc)
        route = self._routes.get(origin)
        if route is None:
            parts = urlsplit(outgoing.url)
            proxy = proxy_for(parts.scheme, parts.hostname or "", parts.port)
            if proxy:
                route = self._proxied.get(proxy) or self._proxied.setdefault(proxy, urllib3.ProxyManager(
                    proxy, num_pools=4, proxy_headers=proxy_headers(proxy), **self._options))
            else:
                route = self._direct.connection_from_url(outgoing.url)
            self._routes[origin] = route
        return route

    def send(self, request: Mapping[str, Any], timeout: urllib3.Timeout) -> Answer:
        """Send one request and read its whole answer; raises `NoAnswer` when none came."""
        outgoing = encode(request)
        options = {"body": outgoing.body, "headers": outgoing.headers, "timeout": timeout, "retries": False,
                   "redirect": False, "preload_content": True}
        try:
            route = self._route(outgoing)
            if isinstance(route, urllib3.ProxyManager):
                reply = route.urlopen(outgoing.method, outgoing.url, **options)
            else:
                reply = route.urlopen(outgoing.method, outgoing.target, assert_same_host=False, **options)
        except LocationValueError as exc:  # a bad URL or proxy setting: a bug to fix, not an outage to retry
            raise ValueError(f"cannot send to {outgoing.scheme}://{urlsplit(outgoing.url).hostname}: "
                             f"{type(exc).__name__}") from None
        return Answer(reply.status, reply.headers, reply.data or b"")
