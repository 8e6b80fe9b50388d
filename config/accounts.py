"""Which platform account a shop is, whatever we call the shop: the identity behind two rules.

Our `shop_id` is a name ops choose, so two sellers can both call a shop "main", and one platform shop
can be configured under two names (a file copied for a new seller). Both went wrong: same-named shops
shared a rate-limit bucket, and one TikTok shop under two sellers had its orders imported, and one
submitted, twice. The platform's own identity of the shop decides instead: `options.platform_shop_id`
(or a `shop_id` credential) when the shop has one, else the credentials that name the account on that
platform, plus the Amazon marketplace (one Amazon seller id sells in several). The region is left out
on purpose: tokens are issued per region already, and a region spelled differently must not hide a
duplicate. The result is a digest: it lands in Redis key names and config messages, and the credentials
it is made of must never show there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from config.schema import ShopConfig


def _digest(*parts: str) -> str:
    joined = "\x1f".join(f"{len(p)}:{p}" for p in parts)  # length-prefixed: no two part lists join alike
    return hashlib.sha256(joined.encode()).hexdigest()[:24]


def platform_account(shop: ShopConfig, resolved_credentials: Mapping[str, str], names: tuple[str, ...] = ()) -> str:
    """A stable digest (24 hex characters) naming the platform shop/account `shop` is; two shops are
    the same platform shop exactly when their digests are equal. `names`: the credentials that name the
    account on its platform (the connector's `account_credentials`); none declared, all of them."""
    named = shop.options.get("platform_shop_id", "").strip() or resolved_credentials.get("shop_id", "").strip()
    if named:
        parts: tuple[str, ...] = ("shop", named)
    else:
        names = names or tuple(sorted(resolved_credentials))
        parts = ("credentials", *(f"{n}={resolved_credentials.get(n, '')}" for n in names))
    return _digest(shop.platform, shop.marketplace.strip().upper(), *parts)
