"""Missing candles fetched from the exchange (the paper exchange on loopback) before a run."""

from decimal import Decimal as D

import pytest

from apps.accounts.actors import Actor
from apps.backtest import services
from apps.backtest.models import Status
from apps.marketdata.models import Candle

from .db_support import at

pytestmark = [pytest.mark.django_db, pytest.mark.integration]
MINUTE = 60_000


def test_backfill_through_the_accounts_gateway(paper_account, exchange_admin):
    account = paper_account()
    closes = [f"{60_000 + 40 * (k % 25) - 15 * (k % 7)}" for k in range(150)]
    session, url = exchange_admin.session, exchange_admin.url
    answer = session.post(
        f"{url}/admin/market", json={"symbol": "BTCUSDT", "closes": closes}, timeout=30
    ).json()
    moved = session.post(f"{url}/admin/clock/advance", json={"ms": 160 * MINUTE}, timeout=60)
    moved.raise_for_status()

    first = answer["firstOpenTime"]
    start, end = at(first), at(first + 150 * MINUTE)
    assert not Candle.objects.filter(symbol__name="BTCUSDT", open_time__gte=start).exists()

    backtest = services.create_backtest(
        actor=Actor.for_system(), account=account, strategy="trend_following",
        params={"fast": 5, "slow": 12, "adx_min": 0.0}, symbols=["BTCUSDT"], interval="1m",
        start=start, end=end, backfill=True,
    )  # fmt: skip
    assert backtest.environment == "paper"
    services.run_backtest(backtest.pk)
    backtest.refresh_from_db()
    assert backtest.status == Status.DONE, backtest.error
    stored = Candle.objects.filter(
        symbol__name="BTCUSDT", interval="1m", open_time__gte=start, open_time__lt=end
    ).order_by("open_time")
    assert [c.close for c in stored] == [D(c) for c in closes]
    assert backtest.bars == 150

    # A period reaching past the market clock stores closed candles only.
    now = moved.json()["marketTime"]
    later = services.create_backtest(
        actor=Actor.for_system(), account=account, strategy="trend_following",
        symbols=["BTCUSDT"], interval="1m", start=start, end=at(now + 30 * MINUTE),
        backfill=True,
    )  # fmt: skip
    services.run_backtest(later.pk)
    newest = Candle.objects.filter(symbol__name="BTCUSDT", interval="1m").latest("open_time")
    assert newest.close_time.timestamp() * 1000 < now
    assert newest.open_time.timestamp() * 1000 >= now - 2 * MINUTE
