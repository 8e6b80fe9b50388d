"""Credentials: resolve the `env:`/`file:` references in a seller config to their secret values.

A config file holds references, never a secret. Resolving one happens twice: config/loader.py checks
that every reference resolves, and `credentials_for` resolves a shop's or warehouse's credentials when
its client is built (orderhub/wiring.py, the webhook worker). A message names the variable, file or key,
never the value, and each resolved value is registered with the log redactor.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from config.schema import SellerConfig
from config.secret_files import UnresolvedReference, locate, read_secret_file
from orderhub.runtime.logs import register_secret
from pipeline.errors import ConfigError


class Secrets(Mapping[str, str]):
    """Resolved credentials; its repr and str never show a value, so it is safe in logs and tracebacks."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)
        for value in self._values.values():
            register_secret(value)  # from now on the log redactor cuts it out of any message

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return "Secrets(" + ", ".join(f"{k}=***" for k in self._values) + ")"

    __str__ = __repr__


@functools.lru_cache(maxsize=32)
def _parsed(text: str) -> dict[str, Any]:
    """A secrets file's TOML, parsed once per content: a webhook push resolves three keys of one file, and
    parsing was most of the ingress's CPU per push. The file is still located, checked and read each time,
    so a changed, moved or loosened file is judged as it is now; only identical text skips the parse.
    Callers only read the result."""
    return tomllib.loads(text)


def resolve_reference(reference: str, base_dir: Path, warnings: list[str] | None = None) -> str:
    """The secret a reference points at: `env:NAME`, `file:PATH` (whole file) or `file:PATH#key` (a key of
    a TOML file). Relative paths are relative to the config file's folder, and a file must lie in the
    secrets directory (config/secret_files.py); a warning about the file is appended to `warnings`.
    Raises ValueError whose message names the variable, file or key, never the value."""
    if reference.startswith("env:"):
        name = reference[4:]
        if not name:
            raise ValueError("env: reference names no variable")
        value = os.environ.get(name)
        if value is None or value == "":
            raise UnresolvedReference(f"environment variable {name} is not set")
        return value
    if reference.startswith("file:"):
        path_text, _, key = reference[5:].partition("#")
        path = locate(path_text, base_dir)
        text, warning = read_secret_file(path)
        if warning and warnings is not None:
            warnings.append(warning)
        if not key:
            if not text.strip():
                raise UnresolvedReference(f"secrets file {path} is empty")
            return text.strip()
        try:
            data = _parsed(text)
        except tomllib.TOMLDecodeError as exc:
            where = re.search(r"line \d+", str(exc))  # only where: the message may quote a character
            raise ValueError(f"secrets file {path} is not valid TOML ({where[0] if where else 'unreadable'})") from None
        node: Any = data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise UnresolvedReference(f"secrets file {path} has no key {key}")
            node = node[part]
        if not isinstance(node, str | int):
            raise ValueError(f"secrets file {path} key {key} is not a single value")
        return str(node)
    raise ValueError("must be a reference (env:NAME or file:PATH[#key]), not an inline value")


def resolve_credentials(references: Mapping[str, str], base_dir: Path, where: str = "credentials") -> Secrets:
    """Every credential of one shop or warehouse, or ConfigError listing each one that does not resolve."""
    values, problems = {}, []
    for name, reference in references.items():
        try:
            values[name] = resolve_reference(reference, base_dir)
        except ValueError as exc:
            problems.append(f"{where}.{name}: {exc}")
    if problems:
        raise ConfigError(problems)
    return Secrets(values)


def credentials_for(cfg: SellerConfig, refs: Mapping[str, str], where: str) -> Secrets:
    """Resolve one shop's or warehouse's credentials relative to the seller file they were declared in."""
    return resolve_credentials(refs, Path(cfg.source).parent, where=f"{cfg.source}: {where}")
