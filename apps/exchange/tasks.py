"""Periodic exchange housekeeping (beat): thin tasks that call the gateway's services."""

from __future__ import annotations

from celery import shared_task

from .environments import Environment


def _public_gateway(environment: str):
    from .gateway import ExchangeGateway

    return ExchangeGateway(Environment(environment).value)


@shared_task(ignore_result=True)
def sync_exchange_time(environment: str = "paper") -> None:
    _public_gateway(environment).sync_time()


@shared_task(ignore_result=True)
def sample_exchange_connectivity(environment: str = "paper") -> dict:
    from .health import sample_connectivity

    return sample_connectivity(_public_gateway(environment))


@shared_task(ignore_result=True)
def refresh_exchange_info(environment: str = "paper") -> int:
    """Refetch exchangeInfo into Redis (24 h) and keep a database snapshot."""
    from .exchange_info import save_snapshot

    info = _public_gateway(environment).exchange_info(refresh=True)
    return save_snapshot(environment, info).pk
