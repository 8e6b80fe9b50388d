"""The archive's Alembic migrations, run by pipeline/archive/migrate.py (env.py, versions/)."""
