"""exchangeInfo sync, sector tags and the Redis market cache."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.accounts.actors import Actor
from apps.audit.models import AuditEvent
from apps.core.errors import ValidationError
from apps.marketdata.cache import MarketCache
from apps.marketdata.klines import parse_kline
from apps.marketdata.models import Symbol
from apps.marketdata.services import set_sector_tags, sync_symbols
from apps.marketdata.warming import warm_active
from apps.monitoring.models import Alert
from apps.strategies.services import resume_strategy_config
from tests.trading.support import (
    active_account,
    exchange_info,
    make_config,
    symbol_entry,
    sync_default_symbols,
)

D = Decimal


@pytest.mark.django_db
def test_sync_reads_filters_and_reports_status_changes():
    sync_default_symbols()
    btc = Symbol.objects.get(environment="paper", name="BTCUSDT")
    assert (btc.base_asset, btc.quote_asset, btc.status) == ("BTC", "USDT", "TRADING")
    assert (btc.tick_size, btc.step_size, btc.min_notional) == (D("0.01"), D("0.00001"), D("5"))
    set_sector_tags(actor=Actor.for_system(), symbol=btc, tags=["layer1", "POW"])
    halted = {**symbol_entry("BTCUSDT", "BTC", "USDT", min_notional="10"), "status": "HALT"}
    changed = sync_symbols(environment="paper", exchange_info=exchange_info(halted))
    assert changed == ["BTCUSDT"]
    btc.refresh_from_db()
    assert (btc.status, btc.min_notional) == ("HALT", D("10"))
    assert btc.sector_tags == ["LAYER1", "POW"]  # ours, kept by the sync
    assert AuditEvent.objects.filter(action="symbol.sector_tags_changed").count() == 1
    alert = Alert.objects.get(event="symbol_stopped_trading")
    assert (alert.severity, alert.context["symbol"]) == ("warning", "BTCUSDT")
    sync_default_symbols()  # trading again
    assert Alert.objects.filter(event="symbol_trading_resumed").count() == 1


@pytest.mark.django_db
def test_bad_sector_tags_change_nothing():
    sync_default_symbols()
    btc = Symbol.objects.get(environment="paper", name="BTCUSDT")
    with pytest.raises(ValidationError) as caught:
        set_sector_tags(actor=Actor.for_system(), symbol=btc, tags=["ok", "not ok!"])
    assert caught.value.field == "sector_tags"
    btc.refresh_from_db()
    assert btc.sector_tags == []


def kline(open_ms: int, close: str) -> list:
    return [open_ms, close, close, close, close, "1", open_ms + 59_999, "1", 1, "0", "0", "0"]


def test_the_window_keeps_the_newest_candles_once_each(redis_client, settings):
    settings.MARKETDATA_CACHE_WINDOW = 3
    cache = MarketCache(redis_client, "paper")
    base = 1_700_000_000_000
    cache.add_candles("BTCUSDT", "1m", [parse_kline(kline(base + i * 60_000, f"{100 + i}"))
                                         for i in range(5)])  # fmt: skip
    # A corrected candle replaces the one with its open time.
    cache.add_candles("BTCUSDT", "1m", [parse_kline(kline(base + 4 * 60_000, "200.5"))])
    window = cache.window("BTCUSDT", "1m")
    assert [row[0] for row in window] == [base + i * 60_000 for i in (2, 3, 4)]
    assert window[-1][4] == "200.5"
    assert cache.price("BTCUSDT") == (D("200.5"), base + 4 * 60_000 + 59_999)


def test_an_older_price_never_overwrites_a_newer_one(redis_client):
    cache = MarketCache(redis_client, "paper")
    assert cache.set_price("ETHBTC", D("0.05"), 2000)
    assert not cache.set_price("ETHBTC", D("0.04"), 1000)
    assert cache.price("ETHBTC") == (D("0.05"), 2000)


@pytest.mark.django_db
def test_imports_warm_the_cache_of_symbols_in_use(redis_client):
    from apps.marketdata.services import upsert_candles

    sync_default_symbols()
    config = make_config(active_account(), symbols=["BTCUSDT"], interval="1m")
    resume_strategy_config(actor=Actor.for_system(), config=config)
    btc = Symbol.objects.get(environment="paper", name="BTCUSDT")
    start = datetime(2026, 1, 5, tzinfo=UTC)
    base = int(start.timestamp() * 1000)
    upsert_candles(symbol=btc, interval="1m", rows=[parse_kline(kline(base + i * 60_000, "10"))
                                                    for i in range(4)])  # fmt: skip
    warmed = warm_active(
        environment="paper", streams={("BTCUSDT", "1m"), ("ETHUSDT", "1m")},
        redis_client=redis_client,
    )  # fmt: skip
    assert warmed == [("BTCUSDT", "1m")]
    cache = MarketCache(redis_client, "paper")
    assert len(cache.window("BTCUSDT", "1m")) == 4
    assert cache.window("ETHUSDT", "1m") == []
    assert cache.price("BTCUSDT")[1] == base + 3 * 60_000 + 59_999
