"""The demo shops the sandbox serves and the credentials each emulator accepts by default.

The same values live in ``sandbox/demo-secrets.toml`` (one table per shop) so a demo config can
reference them like real secrets; ``DEMO_SHOPS`` describes the shops (ids, marketplaces,
countries) so a demo can wire Orderhub's seller config to the emulators. The 3PL accounts (4PX,
ShipBob) have a table there too, which their emulators read through ``load_demo_secrets``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_SECRETS_PATH = Path(__file__).parent.parent / "demo-secrets.toml"  # sandbox/, next to the package

AMAZON_MARKETPLACES: dict[str, str] = {  # marketplace id -> buyer country
    "ATVPDKIKX0DER": "US",
    "A1AM78C64UM0Y8": "MX",
    "A1F83G8C2ARO7P": "GB",
    "A1PA6795UKMFR9": "DE",
    "A13V1IB3VIYZZH": "FR",
    "A1VC38T7YXB528": "JP",
}


@dataclass(frozen=True)
class AmazonCredentials:
    """One seller authorisation: the LWA app (client id/secret) plus the seller's refresh token."""

    client_id: str
    client_secret: str
    refresh_token: str
    seller_id: str
    marketplace_ids: tuple[str, ...]
    pii_access: bool = True  # whether the app holds the PII role (RDT data elements)

    @property
    def countries(self) -> tuple[str, ...]:
        return tuple(AMAZON_MARKETPLACES[m] for m in self.marketplace_ids)


@dataclass(frozen=True)
class TikTokCredentials:
    """One authorised TikTok shop: the app (key/secret) plus the shop's refresh token and cipher."""

    app_key: str
    app_secret: str
    refresh_token: str
    shop_id: str
    shop_cipher: str
    shop_name: str
    region: str  # ISO country of the shop, also the buyers' country

    @property
    def countries(self) -> tuple[str, ...]:
        return (self.region,)


_LWA_APP = ("amzn1.application-oa2-client.orderhubdemo00000000000000000001",
            "amzn1.oa2-cs.v1.orderhub-demo-lwa-client-secret")
_TIKTOK_APP = ("6orderhubdemo", "0rderhub0demo0tiktok0app0secret000000001")


def _amazon(suffix: str, *marketplaces: str) -> AmazonCredentials:
    return AmazonCredentials(*_LWA_APP, f"Atzr|orderhub-demo-refresh-token-{suffix}",
                             f"A1ORDERHUBDEMO{suffix.upper()}", marketplaces)


def _tiktok(region: str, n: int) -> TikTokCredentials:
    return TikTokCredentials(*_TIKTOK_APP, f"TTP_orderhub-demo-refresh-token-{region.lower()}",
                             f"74940000000000001{n:02d}", f"GCP_orderhubdemo{region}0000000000000",
                             f"Orderhub Demo {region}", region)


AMAZON_DEMO_ACCOUNTS: tuple[AmazonCredentials, ...] = (
    _amazon("us", "ATVPDKIKX0DER"),
    _amazon("mx", "A1AM78C64UM0Y8"),
    _amazon("eu", "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH"),
    _amazon("jp", "A1VC38T7YXB528"),
)

TIKTOK_DEMO_SHOPS: tuple[TikTokCredentials, ...] = tuple(
    _tiktok(region, n) for n, region in enumerate(("US", "GB", "DE", "FR", "JP", "MX"), 1)
)


@dataclass(frozen=True)
class TemuCredentials:
    """One TEMU shop (mall) authorised for the app: app key/secret plus the shop's access token.

    `mall_type` decides the SKU id a shop uses (LOCAL: skuId, SEMI: productSkuId); `host` is the
    regional router the shop lives on (US, EU or GLOBAL): a call to the wrong one is refused.
    `decrypt_shipping`: the seller authorised bg.order.decryptshippinginfo.get for this token; without
    it TEMU's gateway refuses the call with 3000032 (docs/platforms/temu.md).
    """

    app_key: str
    app_secret: str
    access_token: str
    mall_id: str
    mall_type: str  # "LOCAL" | "SEMI"
    host: str  # "US" | "EU" | "GLOBAL"
    countries: tuple[str, ...]
    decrypt_shipping: bool = False


@dataclass(frozen=True)
class SheinCredentials:
    """One SHEIN seller authorisation: the app (id/secret) and the seller's open key.

    `secret_key` is what SHEIN delivers from /open-api/auth/get-by-token: AES-128-CBC encrypted with
    the app secret, base64. The client decrypts it; the emulator signs with `secret_key_plain`.
    """

    app_id: str
    app_secret: str
    open_key_id: str
    secret_key: str
    secret_key_plain: str
    supplier_id: str
    countries: tuple[str, ...]


@dataclass(frozen=True)
class AliExpressCredentials:
    """An AliExpress IOP app (key/secret) plus one seller's access token (sent as `session`)."""

    app_key: str
    app_secret: str
    access_token: str
    seller_login_id: str
    countries: tuple[str, ...]


_TEMU_APP = ("orderhub-demo-temu-app-key", "orderhub-demo-temu-app-secret-000001")
_SHEIN_APP = ("orderhub-demo-shein-app-id", "orderhub-demo-shein-app-secret-00001")
_AE_APP = ("500001", "orderhub-demo-aliexpress-app-secret-01")

TEMU_DEMO_SHOPS: tuple[TemuCredentials, ...] = (
    TemuCredentials(*_TEMU_APP, "orderhub-demo-temu-access-token-us", "634418210001", "LOCAL", "US", ("US",),
                    decrypt_shipping=True),
    TemuCredentials(*_TEMU_APP, "orderhub-demo-temu-access-token-eu", "634418210002", "SEMI", "EU",
                    ("GB", "DE", "FR")),
    TemuCredentials(*_TEMU_APP, "orderhub-demo-temu-access-token-global", "634418210003", "LOCAL", "GLOBAL",
                    ("JP", "MX")),
)

SHEIN_DEMO_SHOPS: tuple[SheinCredentials, ...] = (
    SheinCredentials(*_SHEIN_APP, "ORDERHUBDEMOSHEINUS01",
                     "Dzfsh1dBZh8ZYqe9YuUgfWWyV5XRhygLP84ZtSuO0sjEUMRnVHTtOhEIvTh/qvIM",
                     "orderhub-shein-secret-key-us-0001", "10001", ("US",)),
    SheinCredentials(*_SHEIN_APP, "ORDERHUBDEMOSHEINEU01",
                     "Dzfsh1dBZh8ZYqe9YuUgfRyI43fLLp48tV6pSbuGT+6+/ENzYxQ8N3Qib5oiaXtp",
                     "orderhub-shein-secret-key-eu-0001", "10002", ("GB", "DE", "FR")),
)

ALIEXPRESS_DEMO_ACCOUNTS: tuple[AliExpressCredentials, ...] = (
    AliExpressCredentials(*_AE_APP, "orderhub-demo-aliexpress-access-token", "orderhub_demo_seller",
                          ("US", "GB", "DE", "FR", "JP", "MX")),
)


@dataclass(frozen=True)
class DemoShop:
    name: str  # the table name in demo-secrets.toml, e.g. "amazon-demo-us"
    platform: str
    shop_id: str  # Amazon seller id / TikTok shop id
    marketplaces: tuple[str, ...]  # Amazon marketplace ids / TikTok region
    countries: tuple[str, ...]
    credentials: AmazonCredentials | TikTokCredentials | TemuCredentials | SheinCredentials | AliExpressCredentials


DEMO_SHOPS: dict[str, DemoShop] = {
    **{f"amazon-demo-{c.refresh_token.rsplit('-', 1)[1]}": DemoShop(
        f"amazon-demo-{c.refresh_token.rsplit('-', 1)[1]}", "amazon", c.seller_id, c.marketplace_ids,
        c.countries, c) for c in AMAZON_DEMO_ACCOUNTS},
    **{f"tiktok-demo-{c.region.lower()}": DemoShop(
        f"tiktok-demo-{c.region.lower()}", "tiktok", c.shop_id, (c.region,), c.countries, c)
       for c in TIKTOK_DEMO_SHOPS},
    **{f"temu-demo-{c.host.lower()}": DemoShop(f"temu-demo-{c.host.lower()}", "temu", c.mall_id, (c.host,),
                                               c.countries, c) for c in TEMU_DEMO_SHOPS},
    "shein-demo-us": DemoShop("shein-demo-us", "shein", SHEIN_DEMO_SHOPS[0].open_key_id, (),
                              SHEIN_DEMO_SHOPS[0].countries, SHEIN_DEMO_SHOPS[0]),
    "shein-demo-eu": DemoShop("shein-demo-eu", "shein", SHEIN_DEMO_SHOPS[1].open_key_id, (),
                              SHEIN_DEMO_SHOPS[1].countries, SHEIN_DEMO_SHOPS[1]),
    "aliexpress-demo": DemoShop("aliexpress-demo", "aliexpress", ALIEXPRESS_DEMO_ACCOUNTS[0].seller_login_id, (),
                                ALIEXPRESS_DEMO_ACCOUNTS[0].countries, ALIEXPRESS_DEMO_ACCOUNTS[0]),
}


def load_demo_secrets(path: Path = DEMO_SECRETS_PATH) -> dict[str, dict[str, Any]]:
    """The TOML file as ``{shop name: {key: value}}``."""
    with path.open("rb") as handle:
        return tomllib.load(handle)
