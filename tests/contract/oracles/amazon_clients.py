"""Amazon's two Python client libraries, pointed at the Amazon emulator over loopback.

The emulator and the connector were written from the same reading of Amazon's documentation, so their
agreement proves little. These clients were written by others: Amazon's own SDK (``amzn-sp-api``, models
generated from https://github.com/amzn/selling-partner-api-models) and the community ``python-amazon-sp-api``.
Every way a library had to be bent to reach the emulator lives here, with the reason; none of it is
copied into the emulator.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import sp_api.auth.access_token_client as sp_api_auth
from sp_api.auth import AccessTokenClient
from sp_api.base import Client, Marketplaces
from spapi import ApiClient, Configuration, SPAPIClient, SPAPIConfig

from sandbox import RateLimit
from sandbox.core.demo_accounts import AMAZON_DEMO_ACCOUNTS
from tests.contract.harness import HARNESSES, UNLIMITED

HARNESS = HARNESSES["amazon"]
ACCOUNT = AMAZON_DEMO_ACCOUNTS[0]  # the US seller: the one account the harness emulator knows
MARKETPLACE = ACCOUNT.marketplace_ids[0]
SINCE = "2020-01-01T00:00:00Z"  # before every generated order


def limits(**tight: RateLimit) -> dict[str, RateLimit]:
    """The harness's unlimited buckets, with the named operations replaced (a tiny bucket forces a 429)."""
    return {op: RateLimit(UNLIMITED, 1_000_000) for op in HARNESS.operations} | tight


# --- amzn-sp-api (Amazon's SDK) -----------------------------------------------------------------------
@contextlib.contextmanager
def sdk_logging_contained() -> Iterator[None]:
    """Keep the SDK's logging side effects inside the test.

    Library fault: every ``spapi.Configuration()`` (one is built per model instance, so thousands per
    getOrders page) adds a stderr handler to the ``spapi`` and ``urllib3`` loggers and sets them to
    WARNING, which would mute urllib3's lines in this run's log capture for every later test. A default
    configuration (``Configuration.set_default``) is copied instead of rebuilt, and the loggers are put
    back afterwards.
    """
    saved = [(logger, logger.level, list(logger.handlers))
             for logger in (logging.getLogger("spapi"), logging.getLogger("urllib3"))]
    Configuration.set_default(Configuration())
    try:
        yield
    finally:
        Configuration.set_default(None)
        for logger, level, handlers in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers


class FixedToken:
    """Stands in for the SDK's LWA token cache to send a Restricted Data Token.

    Library limitation: ``ApiClient`` writes the LWA access token into ``x-amz-access-token`` on every
    call, over any header the caller passes, and has no setting for an RDT.
    """

    def __init__(self, token: str) -> None:
        self.token = token

    def get_lwa_access_token(self) -> str:
        return self.token


def official_client(url: str, restricted_data_token: str | None = None) -> ApiClient:
    """An SDK ``ApiClient`` whose LWA and API endpoints are the emulator (both are constructor arguments)."""
    config = SPAPIConfig(ACCOUNT.client_id, ACCOUNT.client_secret, ACCOUNT.refresh_token, region="NA")
    client = SPAPIClient(config, oauth_endpoint=url + "/auth/o2/token", endpoint=url).api_client
    if restricted_data_token is not None:
        client.configuration.access_token_cache = FixedToken(restricted_data_token)
    return client


def raw_and_reserialized(client: ApiClient, model: Any) -> tuple[Any, Any]:
    """The emulator's last JSON answer, and the SDK's typed model of it serialized back by the SDK.

    They are equal only if every key is one the model declares (unknown keys are dropped on parsing) and
    every value has the model's type (a number sent for a string comes back as a string, and so on).
    """
    return json.loads(client.last_response.data), client.sanitize_for_serialization(model)


class _Body:
    """What ``ApiClient.deserialize`` reads: an HTTP body in ``.data``."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def parse_error(client: ApiClient, body: bytes, type_name: str) -> Any:
    """An error answer's body, parsed with the SDK's typed model (the SDK itself leaves it as bytes)."""
    return client.deserialize(_Body(body), type_name)


# --- python-amazon-sp-api ----------------------------------------------------------------------------
def sp_api_client(kind: type[Client], url: str, **kwargs: Any) -> Client:
    """A ``python-amazon-sp-api`` client whose LWA and API endpoints are the emulator.

    The library has no base-URL setting: LWA is reached through an ``AccessTokenClient`` subclass with
    another ``scheme`` and ``host``, and the API through ``endpoint``, set after construction.
    Library fault: access tokens sit in a module-wide cache keyed by the refresh token for 3,200 s,
    whatever ``expires_in`` said and whichever LWA host issued them, so a token minted by an earlier
    test's emulator would be sent to this one (403). The cache is emptied first.
    """
    host = url.removeprefix("http://")

    class EmulatorLwa(AccessTokenClient):
        scheme = "http://"

    EmulatorLwa.host = host
    sp_api_auth.cache.clear()
    credentials = {"refresh_token": ACCOUNT.refresh_token, "lwa_app_id": ACCOUNT.client_id,
                   "lwa_client_secret": ACCOUNT.client_secret}
    client = kind(Marketplaces.US, credentials=credentials, auth_token_client_class=EmulatorLwa, **kwargs)
    # Library fault, harmless here: the Host header is built as endpoint[8:], which assumes "https://";
    # with this http:// endpoint it reads "27.0.0.1:<port>". The emulator does not look at Host.
    client.endpoint = url
    return client
