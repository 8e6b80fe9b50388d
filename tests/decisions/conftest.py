"""The archive on SQLite and on PostgreSQL (tests/archive/conftest.py) for the decision layer's tests too."""

from tests.archive.conftest import _migrated, engine

__all__ = ["_migrated", "engine"]
