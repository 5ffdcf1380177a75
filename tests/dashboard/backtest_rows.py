"""A queued backtest row for the dashboard's backtest tests."""

from datetime import UTC, datetime

from apps.backtest.models import Backtest


def make_backtest(organization, name: str, **fields) -> Backtest:
    return Backtest.objects.create(
        organization=organization, name=name, strategy="trend_following",
        strategy_version="1.0", symbols=["BTCUSDT"], interval="1h",
        start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC),
        **fields,
    )  # fmt: skip
