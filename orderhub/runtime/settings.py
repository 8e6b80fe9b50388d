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
