"""Market data: file replay, trade-to-kline consistency, intrabar paths, aggregation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.paper_exchange.config import ExchangeConfig, default_data_dir
from apps.paper_exchange.marketdata.bars import DAY, MINUTE, WEEK, Bar, bucket_close, bucket_open
from apps.paper_exchange.marketdata.intrabar import intrabar_points
from apps.paper_exchange.marketdata.klines import klines
from apps.paper_exchange.marketdata.loader import fill_gaps, read_agg_trades, read_klines
from apps.paper_exchange.marketdata.market import build_market
from apps.paper_exchange.marketdata.series import bar_from_points

DATA = default_data_dir()
XRP_KLINES = DATA / "binance" / "XRPETH-1m-2019-10-11.csv"
XRP_TRADES = DATA / "binance" / "XRPETH-aggTrades-2019-10-11.jsonl.gz"
needs_data = pytest.mark.skipif(not XRP_KLINES.exists(), reason="shared market data not present")


@needs_data
def test_resampled_trades_reproduce_every_kline_row():
    bars = read_klines(XRP_KLINES)
    trades = read_agg_trades(XRP_TRADES)
    by_minute: dict[int, list] = {}
    for trade in trades:
        by_minute.setdefault(trade.time - trade.time % MINUTE, []).append(trade)
    assert len(bars) == len(by_minute) == 2469
    for bar in bars:
        rebuilt = bar_from_points(bar.open_time, by_minute[bar.open_time], None)
        assert (rebuilt.open, rebuilt.high, rebuilt.low, rebuilt.close) == (
            bar.open,
            bar.high,
            bar.low,
            bar.close,
        )
        assert rebuilt.volume == bar.volume
        assert rebuilt.quote_volume.quantize(Decimal("1e-8")) == bar.quote_volume
        assert rebuilt.taker_base == bar.taker_base
        assert rebuilt.trades == bar.trades
        assert rebuilt.taker_quote.quantize(Decimal("1e-8")) == bar.taker_quote


@needs_data
def test_replay_ends_now_and_fills_quiet_minutes():
    now = 1_795_000_000_000
    market = build_market(ExchangeConfig(data_dir=DATA, synthetic_symbols=()), now)
    assert "XRPETH" in market.specs
    assert "ETHBTC" in market.specs
    assert "replay" in market.specs["XRPETH"].source
    series = market.series["XRPETH"]
    raw = fill_gaps(read_klines(XRP_KLINES), MINUTE)
    rows = klines(series, "1m", now, limit=1000)
    # The last data bar closed at the start of the current minute, which continues it.
    assert rows[-1][0] == now - now % MINUTE
    assert rows[-2][0] + MINUTE == rows[-1][0]
    shift = rows[-2][0] - raw[-1].open_time
    assert [row[4] for row in rows[-6:-1]] == [f"{bar.close:.8f}" for bar in raw[-5:]]
    # A minute without trades is a zero-volume kline at the previous close.
    quiet = next(bar for bar in raw[-900:] if bar.volume == 0)
    row = next(row for row in rows if row[0] == quiet.open_time + shift)
    assert row[5] == "0.00000000"
    assert row[1] == row[2] == row[3] == row[4]


@needs_data
def test_replay_can_start_at_a_given_time():
    start = 1_790_000_000_000 - 1_790_000_000_000 % MINUTE
    config = ExchangeConfig(data_dir=DATA, synthetic_symbols=(), replay_start_ms=start)
    market = build_market(config, start + 10 * MINUTE)
    rows = klines(market.series["XRPETH"], "1m", start + 10 * MINUTE, limit=1000)
    assert rows[0][0] == start
    assert len(rows) == 11  # nothing from the future


@needs_data
def test_finer_intervals_respect_the_source_bars():
    now = 1_795_000_000_000
    market = build_market(ExchangeConfig(data_dir=DATA, synthetic_symbols=()), now)
    series = market.series["ETHBTC"]  # 5m source
    five = klines(series, "5m", now - 2 * DAY, limit=20, start=now - 3 * DAY)
    ones = klines(series, "1m", now - 2 * DAY, limit=100, start=now - 3 * DAY)
    for row in five:
        inside = [one for one in ones if row[0] <= one[0] < row[0] + 5 * MINUTE]
        if len(inside) < 5 or Decimal(row[5]) == 0:
            continue
        assert inside[0][1] == row[1]
        assert inside[-1][4] == row[4]
        assert max(Decimal(one[2]) for one in inside) == Decimal(row[2])
        assert min(Decimal(one[3]) for one in inside) == Decimal(row[3])
        assert sum(Decimal(one[5]) for one in inside) == Decimal(row[5])


def test_synthetic_symbols_have_realistic_levels_and_are_seeded():
    now = 1_795_000_000_000
    config = ExchangeConfig(data_dir=None, synthetic_history_days=1)
    first = build_market(config, now)
    second = build_market(config, now)
    assert set(first.specs) == {"BTCUSDT", "ETHUSDT", "BNBUSDT"}
    assert Decimal(50000) < first.last_price("BTCUSDT", now) < Decimal(200000)
    assert klines(first.series["ETHUSDT"], "1m", now, limit=50) == klines(
        second.series["ETHUSDT"], "1m", now, limit=50
    )
    # The future is generated on demand and continues the path.
    later = now + DAY
    rows = klines(first.series["BTCUSDT"], "1h", later, limit=30)
    assert rows[-1][0] == later - later % (60 * MINUTE)


def test_week_and_month_buckets():
    monday = 1_795_392_000_000  # 2026-11-23 00:00 UTC, a Monday
    assert bucket_open("1w", monday + 3 * DAY) == monday
    assert bucket_close("1w", monday) == monday + WEEK
    november = bucket_open("1M", monday)
    assert bucket_close("1M", november) - november == 30 * DAY


prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100000), places=4)


@given(
    values=st.lists(prices, min_size=4, max_size=4),
    volume=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10000), places=8),
    bar_ms=st.sampled_from([MINUTE, 5 * MINUTE, 60 * MINUTE]),
    seed=st.text(max_size=8),
)
@settings(max_examples=150, deadline=None)
def test_intrabar_path_respects_open_high_low_close(values, volume, bar_ms, seed):
    low, high = min(values), max(values)
    open_price, close = values[0], values[3]
    bar = Bar(0, open_price, high, low, close, volume, volume, 1, Decimal(0), Decimal(0))
    points = intrabar_points(bar, bar_ms, seed, 0, tick=Decimal("0.0001"))
    assert points[0].price == open_price
    assert points[-1].price == close
    assert max(p.price for p in points) == high
    assert min(p.price for p in points) == low
    assert sum(p.qty for p in points) == volume
    assert all(p.qty > 0 for p in points)
    times = [p.time for p in points]
    assert times == sorted(times)
    assert times[0] >= 0
    assert times[-1] < bar_ms
    assert points == intrabar_points(bar, bar_ms, seed, 0, tick=Decimal("0.0001"))


def test_merge_of_a_quiet_bar_takes_the_next_open():
    quiet = Bar.flat(0, Decimal(10))
    busy = Bar(60_000, Decimal(11), Decimal(12), Decimal(9), Decimal(10), *[Decimal(1)] * 2, 3,
               Decimal(0), Decimal(0))  # fmt: skip
    quiet.merge(busy)
    assert (quiet.open, quiet.high, quiet.low, quiet.close) == (11, 12, 9, 10)
    assert quiet.trades == 3
