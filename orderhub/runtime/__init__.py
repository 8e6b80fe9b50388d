"""The ground floor every layer stands on: settings, the Redis connection and redacting logs.

Nothing here imports anything else of Orderhub's, so the pipeline, the connectors, the workers and the
CLI can all use it without an arrow pointing up (the import-linter contracts in pyproject.toml).
"""
