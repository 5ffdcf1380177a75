"""The Celery application of Spotdesk: queues, routes, schedule and signals. No domain code."""

from .app import app

__all__ = ["app"]
