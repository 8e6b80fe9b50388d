"""Celery workers: `celery -A workers worker` / `celery -A workers beat` find the app here."""

from workers.app import app

__all__ = ["app"]
