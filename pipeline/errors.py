"""Every error Orderhub raises, grouped by what to do about it.

    OrderhubError
    ├── RetryableError        try again later, automatically (bounded, then hold)
    │   ├── RateLimited       the platform said slow down; carries retry_after seconds
    │   └── UpstreamUnavailable  5xx, timeout, connection reset, an error inside an HTTP 200 that says "busy"
    ├── FatalError            stop this shop or this run and tell a human; retrying cannot help
    │   ├── AuthenticationFailed  credentials rejected or expired: the seller must re-authorise
    │   └── ConfigError       the seller config is wrong; lists every problem with its file and key path
    ├── HoldError             this one order cannot go on: keep its raw payload and hold it with a reason
    │   ├── MappingError      a platform document does not map; names the field path in the raw bundle
    │   ├── InvalidModel      a canonical value is invalid; names the field path in the model
    │   └── UnknownSku        a platform SKU has no seller SKU in the SKU map
    └── NeedsReview           the platform or warehouse refused this exact request (a 4xx that is not
                              about auth or rate): sending it again gives the same answer

Messages never hold secret values or buyer PII: callers pass names of things (shop, field path,
variable name), never the values.
"""

from __future__ import annotations


class OrderhubError(Exception):
    """Root of every error Orderhub raises on purpose."""


class RetryableError(OrderhubError):
    """The same call may succeed later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(RetryableError):
    """The platform throttled the call; `retry_after` is its hint in seconds, when it gave one."""


class UpstreamUnavailable(RetryableError):
    """The platform or warehouse failed transiently (5xx, timeout, connection error)."""


class ListingMoved(RetryableError):
    """A paged listing kept changing under every walk of its window; a shorter window settles it."""


class FatalError(OrderhubError):
    """Retrying cannot help; a person must act."""


class AuthenticationFailed(FatalError):
    """The platform rejected the shop's credentials (the seller must re-authorise or ops must fix them)."""

    def __init__(self, shop: str, detail: str) -> None:
        super().__init__(f"authentication failed for shop {shop}: {detail}")
        self.shop = shop
        self.detail = detail


class ConfigError(FatalError):
    """One or more problems in seller config; `problems` holds every one, each as "file: path: message"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class HoldError(OrderhubError):
    """This order cannot go on; it is held with a reason while its raw payload is kept."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def at(self, prefix: str) -> HoldError:
        """The same error with `prefix` put in front of its field path (for nested documents)."""
        path = f"{prefix}.{self.path}" if self.path and not self.path.startswith("[") else f"{prefix}{self.path}"
        return type(self)(path, self.message)


class MappingError(HoldError):
    """A platform document does not map; `path` points into the raw bundle, e.g. `order.OrderTotal.Amount`."""


class InvalidModel(HoldError, ValueError):
    """A canonical model value is invalid; `path` names the model field, e.g. `lines[1].quantity`."""


class UnknownSku(HoldError):
    """A platform SKU is not in the seller's SKU map (and the map has no identity default)."""


class NeedsReview(OrderhubError):
    """The remote side refused this exact request; a person must look (message from the remote side).
    `code` is the remote side's own error code when it gave one (a stock refusal is recorded by it)."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code
