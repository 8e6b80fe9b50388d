"""A platform's raw bundle for people, by allow-list: only the fields its connector declares safe show.

Masking by a list of sensitive names (logs.SENSITIVE_KEYS) let AliExpress `buyer_signer_fullname` and TEMU
`shipping.addressLineAll` through `orderhub order show --raw` (issue 21): platforms name buyer fields in
ways no list foresees and add new ones without notice. So here a value shows only when its field path is
on the platform's list (`ConnectorSpec.raw_safe_fields`, which the CLI passes in: this layer imports no
connector); every other value is masked, an unknown field included. Structure and keys stay, so an
operator still sees which fields a platform sent, and empty values (null, "") stay, so a missing street
line can be told from a masked one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orderhub.runtime.logs import MASK, redact

Path = tuple[str, ...]


def safe_paths(fields: Iterable[str]) -> frozenset[Path]:
    """Dotted field paths ("order.pay_amount.amount") as tuples of keys; a list's items share its path."""
    return frozenset(tuple(field.split(".")) for field in fields)


def mask_unlisted(value: Any, safe: Iterable[str]) -> Any:
    """A copy of a raw bundle in which every value whose path is not in `safe` is masked.

    Paths are walked as tuples of keys, so a key that itself contains a dot cannot pass for a listed path.
    Shown values still have registered secrets cut out (`redact`)."""
    return _walk(value, (), safe_paths(safe))


def _walk(value: Any, path: Path, safe: frozenset[Path]) -> Any:
    if isinstance(value, Mapping):
        return {key: _walk(item, (*path, str(key)), safe) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item, path, safe) for item in value]
    if value is None or (isinstance(value, str) and value == ""):
        return value
    return redact(value) if path in safe else MASK
