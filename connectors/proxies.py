"""The proxy the environment names for an origin, read as requests and curl read it.

HTTPS_PROXY / HTTP_PROXY / ALL_PROXY (either case) name the proxy; NO_PROXY lists what goes direct:
`*`, host names (`example.com` and `.example.com` both cover its subdomains), a `host:port`, IP
addresses and CIDR blocks (`10.0.0.0/8`, `::1`). A proxy URL's `user:password@` becomes the
Proxy-Authorization header, which urllib3 does not derive by itself. The standard library's
`proxy_bypass_environment` knows no CIDR blocks or IPv6 literals, so internal endpoints on private
addresses would have gone through the corporate proxy.
"""

from __future__ import annotations

import ipaddress
import os
import urllib.request
from urllib.parse import unquote, urlsplit

from urllib3.util import make_headers


def proxy_for(scheme: str, host: str, port: int | None) -> str | None:
    """The proxy URL for an origin, or None when it goes direct."""
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or bypassed(host, port, os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""):
        return None
    return proxy


def bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether NO_PROXY sends `host` (a name or an address, without brackets) direct."""
    host = host.lower().rstrip(".")
    address = _address(host)
    for entry in (part.strip().lower() for part in no_proxy.replace(" ", ",").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry.strip("[]"), strict=False):
                    return True
            except ValueError:
                pass
            continue
        name, _, wanted = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if wanted and (not wanted.isdigit() or port != int(wanted)):
            continue
        name = name.lstrip(".").rstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def proxy_headers(proxy: str) -> dict[str, str]:
    """Proxy-Authorization for a proxy URL that carries credentials; nothing otherwise."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return {}
    return make_headers(proxy_basic_auth=f"{unquote(parts.username)}:{unquote(parts.password or '')}")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
