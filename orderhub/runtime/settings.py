"""Process-wide settings read from the environment when asked for, never at import time."""

from __future__ import annotations

import os
from pathlib import Path


def key_prefix() -> str:
    """Every Redis key Orderhub writes starts with this; tests set their own per run."""
    return os.environ.get("ORDERHUB_PREFIX", "orderhub")


def config_path() -> Path:
    """Where seller config files live (a folder of *.toml, or one file)."""
    return Path(os.environ.get("ORDERHUB_CONFIG", "config/sellers"))


def secrets_dir() -> Path | None:
    """The one folder `file:` credential references may read from (after resolving links); None: each seller
    file's own folder, i.e. the config directory (config/secret_files.py)."""
    value = os.environ.get("ORDERHUB_SECRETS_DIR", "").strip()
    return Path(value) if value else None
