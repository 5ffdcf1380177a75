"""All symbols' market data: which symbols exist, their series, and derived statistics."""

from __future__ import annotations

import logging
import math
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from apps.paper_exchange.config import ExchangeConfig
from apps.paper_exchange.marketdata.bars import FIXED_INTERVALS, MINUTE, Bar, TapePoint
from apps.paper_exchange.marketdata.loader import discover, fill_gaps, read_agg_trades, read_klines
from apps.paper_exchange.marketdata.series import GbmExtender, LoopExtender, Series
from apps.paper_exchange.marketdata.synthetic import GbmGenerator
from apps.paper_exchange.numbers import EIGHT_PLACES, ZERO
from apps.paper_exchange.symbols import SymbolSpec, spec_for_price, split_symbol, synthetic_spec

logger = logging.getLogger(__name__)


class MarketData:
    def __init__(self, specs: dict[str, SymbolSpec], series: dict[str, Series]):
        self.specs = specs
        self.series = series
        # Averages over minutes barely move within a second: compute them once per second.
        self._cache: dict[tuple, Decimal] = {}

    def _cached(self, key: tuple, compute) -> Decimal:
        value = self._cache.get(key)
        if value is None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            value = self._cache[key] = compute()
        return value

    def script(
        self, symbol: str, closes: list[Decimal], *, now: int, volumes: list[Decimal]
    ) -> int:
        """Steer `symbol`: the bars after the current one close at `closes` (see
        Series.script); returns the open time of the first scripted bar."""
        series = self.series[symbol]
        first = series.script(closes, after=now, volumes=volumes)
        self._cache.clear()
        return series.open_of(first)

    # -- derived statistics -------------------------------------------------------------

    def last_price(self, symbol: str, now: int) -> Decimal:
        return self.series[symbol].last_price(now)

    def average_price(self, symbol: str, now: int, minutes: int) -> Decimal:
        """Volume-weighted price of the last ``minutes`` (the last price if nothing traded)."""
        return self._cached(
            ("average", symbol, now // 1000, minutes),
            lambda: self._average_price(symbol, now, minutes),
        )

    def _average_price(self, symbol: str, now: int, minutes: int) -> Decimal:
        series = self.series[symbol]
        points = list(series.points_between(now - minutes * MINUTE, now))
        volume = sum((point.qty for point in points), ZERO)
        if volume <= 0:
            return series.last_price(now)
        spec = self.specs[symbol]
        value = sum((point.qty * point.price for point in points), ZERO) / volume
        return value.quantize(EIGHT_PLACES) if spec.tick_size < 1 else value

    def minute_volume(self, symbol: str, now: int) -> Decimal:
        """Average traded volume per minute over the last hour (sets the book's depth)."""
        return self._cached(
            ("volume", symbol, now // 1000), lambda: self._minute_volume(symbol, now)
        )

    def _minute_volume(self, symbol: str, now: int) -> Decimal:
        series = self.series[symbol]
        index = series.index_of(now)
        bars_per_hour = max(1, 60 * MINUTE // series.bar_ms)
        total = ZERO
        for back in range(1, bars_per_hour + 1):
            if index - back < 0:
                break
            total += series.bar(index - back).volume
        per_minute = total / 60
        floor = self.specs[symbol].minute_volume / 10
        return max(per_minute, floor)

    def rolling_window(self, symbol: str, now: int, window_ms: int) -> dict:
        """Statistics of ``(now - window, now]`` for the 24hr ticker."""
        series = self.series[symbol]
        start = now - window_ms
        first_index = max(0, series.index_of(start + 1))
        last_index = series.index_of(now)
        open_price = None
        high = low = None
        volume = quote = ZERO
        count = 0
        first_id = last_id = -1
        last: TapePoint | None = None
        for index in range(first_index, last_index + 1):
            bar: Bar | None
            whole = series.open_of(index) > start and series.open_of(index) + series.bar_ms <= now
            if whole:
                bar = series.bar(index)
                if bar.volume <= 0:
                    continue
                points = None
            else:
                points = [p for p in series.points(index) if start < p.time <= now]
                if not points:
                    continue
                bar = None
            if bar is not None:
                open_price = bar.open if open_price is None else open_price
                high = bar.high if high is None else max(high, bar.high)
                low = bar.low if low is None else min(low, bar.low)
                volume += bar.volume
                quote += bar.quote_volume
                count += bar.trades
            else:
                for point in points:
                    open_price = point.price if open_price is None else open_price
                    high = point.price if high is None else max(high, point.price)
                    low = point.price if low is None else min(low, point.price)
                    volume += point.qty
                    quote += point.qty * point.price
                    count += 1
        last = series.last_point(now, max_bars_back=3)
        last_price = series.last_price(now)
        if open_price is None:
            open_price = high = low = last_price
        if last is not None:
            last_id = last.trade_id
            first_id = max(0, last_id - count + 1) if count else last_id
        return {
            "open": open_price,
            "high": high,
            "low": low,
            "last": last_price,
            "last_qty": last.qty if last else ZERO,
            "volume": volume,
            "quote_volume": quote,
            "count": count,
            "first_id": first_id,
            "last_id": last_id,
        }


def build_market(config: ExchangeConfig, start_ms: int) -> MarketData:
    """Symbols of the data directory (replayed) plus the configured synthetic ones."""
    specs: dict[str, SymbolSpec] = {}
    series: dict[str, Series] = {}
    data_dir = config.data_dir
    if data_dir is not None and Path(data_dir).is_dir():
        for symbol, files in discover(Path(data_dir)).items():
            try:
                spec, replay = _replay_series(config, files, start_ms)
            except (ValueError, OSError) as error:
                logger.warning("paper exchange: skipping %s data: %s", symbol, error)
                continue
            specs[symbol] = spec
            series[symbol] = replay
    elif data_dir is not None:
        logger.warning(
            "paper exchange: market data directory %s not found; serving synthetic symbols only",
            data_dir,
        )
    for symbol in config.synthetic_symbols:
        if symbol in specs:
            continue
        spec = synthetic_spec(symbol)
        specs[symbol] = spec
        series[symbol] = _synthetic_series(config, spec, start_ms)
    return MarketData(specs, series)


def _replay_series(config: ExchangeConfig, files, start_ms: int) -> tuple[SymbolSpec, Series]:
    bar_ms = FIXED_INTERVALS[files.interval]
    raw_bars = read_klines(files.kline_file)
    if not raw_bars:
        raise ValueError("empty kline file")
    bars = fill_gaps(raw_bars, bar_ms)
    data_start = bars[0].open_time
    data_end = bars[-1].open_time + bar_ms
    if config.replay_start_ms is not None:
        shift = config.replay_start_ms - data_start
    else:
        shift = start_ms - data_end
    shift -= shift % bar_ms  # keep bars on their interval boundaries
    for bar in bars:
        bar.open_time += shift
    trades = read_agg_trades(files.trades_file) if files.trades_file else []
    for trade in trades:
        trade.time += shift
    base, quote = split_symbol(files.symbol)
    price = bars[-1].close
    label = files.kline_file.name
    if files.trades_file:
        label += f" + {files.trades_file.name}"
    spec = spec_for_price(files.symbol, base, quote, price, source=f"replay of {label}")
    if files.symbol == "XRPETH":
        # The README of the data gives the symbol's rules at that time.
        spec.tick_size, spec.step_size, spec.min_qty = Decimal("1E-8"), Decimal(1), Decimal(1)
        # A 2019 symbol: it still carried the legacy MIN_NOTIONAL filter then.
        spec.legacy_min_notional = True
        spec.min_notional = Decimal("0.01")
    volumes = sorted(bar.volume for bar in bars if bar.volume > 0)
    if volumes:
        spec.minute_volume = volumes[len(volumes) // 2] * MINUTE / bar_ms
    if config.loop:
        extender = LoopExtender()
    else:
        generator = GbmGenerator(
            seed=f"{config.seed}:{files.symbol}:continuation",
            bar_ms=bar_ms,
            annual_volatility=_annual_volatility(bars, bar_ms),
            bar_volume=spec.minute_volume * bar_ms / MINUTE,
            tick=spec.tick_size,
        )
        extender = GbmExtender(generator)
    replay = Series(
        files.symbol,
        bar_ms,
        bars,
        seed=f"{config.seed}:{files.symbol}",
        extender=extender,
        trades=trades,
    )
    return spec, replay


def _synthetic_series(config: ExchangeConfig, spec: SymbolSpec, start_ms: int) -> Series:
    bar_ms = MINUTE
    generator = GbmGenerator(
        seed=f"{config.seed}:{spec.symbol}",
        bar_ms=bar_ms,
        annual_volatility=spec.annual_volatility,
        bar_volume=spec.minute_volume,
        tick=spec.tick_size,
    )
    history = max(1, int(config.synthetic_history_days * 24 * 60))
    current_open = start_ms - start_ms % bar_ms
    origin = current_open - history * bar_ms
    reference = spec.reference_price or Decimal(100)
    rows = generator.float_rows(0, history, float(reference))
    # Scale so that the history ends at the symbol's reference price level.
    scale = float(reference) / rows[-1][3]
    bars = [generator.to_bar(origin + index * bar_ms, row, scale) for index, row in enumerate(rows)]
    return Series(
        spec.symbol,
        bar_ms,
        bars,
        seed=f"{config.seed}:{spec.symbol}",
        extender=GbmExtender(generator),
        tick=spec.tick_size,
    )


def _annual_volatility(bars: list[Bar], bar_ms: int) -> float:
    returns = []
    for previous, current in pairwise(bars):
        if previous.close > 0 and current.close > 0 and current.volume > 0:
            returns.append(math.log(float(current.close) / float(previous.close)))
    if len(returns) < 10:
        return 0.6
    mean = sum(returns) / len(returns)
    variance = sum((value - mean) ** 2 for value in returns) / (len(returns) - 1)
    bars_per_year = 365 * 24 * 3600 * 1000 / bar_ms
    return max(0.05, min(3.0, math.sqrt(variance * bars_per_year)))
