"""Unit tests: market clock, replay options (loop, zip), rate-limit windows, filters."""

from __future__ import annotations

import zipfile
from decimal import Decimal

import pytest

from apps.paper_exchange import errors, filters
from apps.paper_exchange.clock import MarketClock
from apps.paper_exchange.config import ExchangeConfig, RateLimits, default_data_dir
from apps.paper_exchange.engine.requests import OrderRequest
from apps.paper_exchange.marketdata.bars import MINUTE
from apps.paper_exchange.marketdata.klines import klines
from apps.paper_exchange.marketdata.loader import discover, read_klines
from apps.paper_exchange.marketdata.market import build_market
from apps.paper_exchange.provisioning import ProvisioningError, parse_balances
from apps.paper_exchange.ratelimit import RateLimiter, Window
from apps.paper_exchange.symbols import synthetic_spec

DATA = default_data_dir()
XRP_KLINES = DATA / "binance" / "XRPETH-1m-2019-10-11.csv"
needs_data = pytest.mark.skipif(not XRP_KLINES.exists(), reason="shared market data not present")


class FakeWall:
    def __init__(self, now: int):
        self.now = now

    def __call__(self) -> int:
        return self.now


def test_market_clock_speed_factor():
    wall = FakeWall(1_000_000)
    clock = MarketClock(5_000_000, speed=60, wall=wall)
    wall.now += 1000
    assert clock.now() == 5_060_000  # one wall second is a market minute
    clock.advance(500)
    assert clock.now() == 5_060_500


def test_test_clock_stands_still_until_advanced():
    wall = FakeWall(0)
    clock = MarketClock(10_000, manual=True, wall=wall)
    wall.now += 60_000
    assert clock.now() == 10_000
    assert clock.advance(MINUTE) == 70_000
    with pytest.raises(ValueError, match="never goes back"):
        clock.set(0)


@needs_data
def test_loop_replays_the_data_again():
    now = 1_795_000_000_000
    config = ExchangeConfig(data_dir=DATA, synthetic_symbols=(), loop=True)
    series = build_market(config, now).series["XRPETH"]
    length = series.data_bars
    first, again = series.bar(0), series.bar(length)
    assert again.open_time == first.open_time + length * MINUTE
    assert (again.open, again.close, again.volume) == (first.open, first.close, first.volume)


def test_zip_and_gzip_kline_files_are_read(tmp_path):
    rows = "1570752000000,1.0,2.0,0.5,1.5,10,1570752059999,15,3,4,6,0\n"
    with zipfile.ZipFile(tmp_path / "ABCUSDT-1m-2020-01.csv.zip", "w") as archive:
        archive.writestr("ABCUSDT-1m-2020-01.csv", rows)
    found = discover(tmp_path)
    assert list(found) == ["ABCUSDT"]
    assert found["ABCUSDT"].interval == "1m"
    [bar] = read_klines(found["ABCUSDT"].kline_file)
    assert (bar.open, bar.high, bar.low, bar.close) == (1, 2, Decimal("0.5"), Decimal("1.5"))


def test_missing_data_directory_falls_back_to_synthetic(tmp_path, caplog):
    market = build_market(ExchangeConfig(data_dir=tmp_path / "absent"), 1_795_000_000_000)
    assert set(market.specs) == {"BTCUSDT", "ETHUSDT", "BNBUSDT"}
    assert "serving synthetic symbols only" in caplog.text


def test_klines_never_show_the_future():
    now = 1_795_000_000_000
    market = build_market(ExchangeConfig(data_dir=None, synthetic_history_days=1), now)
    rows = klines(market.series["BTCUSDT"], "1m", now, start=now - 5 * MINUTE, limit=100)
    assert rows[-1][0] <= now
    assert len(rows) in (5, 6)


def test_windows_are_aligned_to_the_clock():
    window = Window(10, "S")
    assert window.start(1_795_000_004_321) == 1_795_000_000_000
    assert window.seconds_left(1_795_000_004_321) == 6
    wall = FakeWall(1_795_000_009_999)
    limiter = RateLimiter(RateLimits(weight=10), now=wall)
    limiter.admit("ip", 10)
    with pytest.raises(errors.ApiError) as caught:
        limiter.admit("ip", 1)
    assert caught.value.status == 429
    wall.now += 60_001  # the next minute starts afresh
    limiter.admit("ip", 10)


def test_unfilled_count_never_goes_below_zero():
    limiter = RateLimiter(RateLimits(), now=FakeWall(0))
    limiter.order_filled(7)
    limiter.add_orders(7, 1)
    assert [count for _, _, count in limiter.order_counts(7)] == [1, 1]


def test_filters_on_their_own():
    spec = synthetic_spec("BTCUSDT")
    average = Decimal(95000)

    def request(**fields) -> OrderRequest:
        return OrderRequest("BTCUSDT", "BUY", "LIMIT", time_in_force="GTC", **fields)

    filters.check_order(spec, request(quantity=Decimal("0.001"), price=Decimal(95000)), average)
    for fields, name in [
        ({"quantity": Decimal("0.001"), "price": Decimal("95000.001")}, "PRICE_FILTER"),
        ({"quantity": Decimal("0.000015"), "price": Decimal(95000)}, "LOT_SIZE"),
        ({"quantity": Decimal("0.00001"), "price": Decimal(95000)}, "NOTIONAL"),
        ({"quantity": Decimal(1), "price": Decimal(500000)}, "PERCENT_PRICE_BY_SIDE"),
        ({"quantity": Decimal(100), "price": Decimal(95000)}, "NOTIONAL"),
    ]:
        with pytest.raises(errors.ApiError) as caught:
            filters.check_order(spec, request(**fields), average)
        assert caught.value.msg == f"Filter failure: {name}"


def test_balance_parsing_names_the_field():
    assert parse_balances(["usdt=10", "BTC=0.5"]) == {"USDT": 10, "BTC": Decimal("0.5")}
    for bad in (["USDT"], ["USDT=x"], ["USDT=-1"], ["USDT=0.000000001"]):
        with pytest.raises(ProvisioningError, match="USDT"):
            parse_balances(bad)


def test_any_configured_symbol_gets_a_synthetic_market():
    market = build_market(
        ExchangeConfig(data_dir=None, synthetic_symbols=("SOLUSDT",), synthetic_history_days=1),
        1_795_000_000_000,
    )
    spec = market.specs["SOLUSDT"]
    assert (spec.base, spec.quote, spec.source) == ("SOL", "USDT", "synthetic")
    assert market.last_price("SOLUSDT", 1_795_000_000_000) > 0


def test_a_broken_state_file_is_named(tmp_path):
    from apps.paper_exchange.state import Store

    broken = tmp_path / "state.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match=r"state\.json cannot be read"):
        Store(broken).load()


def test_replay_start_option_parsing():
    import argparse

    from apps.paper_exchange.cli import parse_time

    assert parse_time("2026-01-01T00:00:00Z") == 1_767_225_600_000
    assert parse_time("1767225600000") == 1_767_225_600_000
    with pytest.raises(argparse.ArgumentTypeError):
        parse_time("2026-01-01T00:00:00")


def test_book_depth_follows_traded_volume_and_brackets_the_last_price():
    from apps.paper_exchange.engine.book import SyntheticBook

    def book(volume: str) -> SyntheticBook:
        return SyntheticBook(
            "BTCUSDT", Decimal("95000"), Decimal("0.01"), Decimal("0.00001"), Decimal(volume), 7
        )

    quiet, busy = book("10"), book("40")
    assert quiet.best_bid < Decimal(95000) < quiet.best_ask
    quiet_depth = sum(level.qty for level in quiet.asks(50))
    busy_depth = sum(level.qty for level in busy.asks(50))
    assert busy_depth / quiet_depth == pytest.approx(4, rel=0.01)
    prices = [level.price for level in busy.bids(20)]
    assert prices == sorted(prices, reverse=True)
    assert list(busy.asks(5)) == list(book("40").asks(5))  # same second, same book
