"""A seeded trade path inside one bar that respects its open, high, low and close.

Used wherever the source is coarser than what is asked: 1s klines from 1m data, 1m
klines from 5m data, and the tape that drives the matching engine. The same bar and
seed always give the same path, so a replay is reproducible.
"""

from __future__ import annotations

import random
from decimal import Decimal
from itertools import pairwise

from apps.paper_exchange.marketdata.bars import SECOND, Bar, TapePoint
from apps.paper_exchange.numbers import EIGHT_PLACES, ZERO, floor_to


def intrabar_points(
    bar: Bar, bar_ms: int, seed: str, first_trade_id: int, tick: Decimal = EIGHT_PLACES
) -> list[TapePoint]:
    """Trades at distinct seconds of the bar: the first at the open, the last at the
    close, the high and the low each hit once, everything else inside [low, high]."""
    if bar.volume <= 0:
        return []
    rng = random.Random(seed)
    seconds_in_bar = max(1, bar_ms // SECOND)
    count = min(seconds_in_bar, max(4, seconds_in_bar // 5))
    if seconds_in_bar <= 2 or count < 4:
        count = min(seconds_in_bar, 4)
    seconds = sorted({0, seconds_in_bar - 1, *rng.sample(range(seconds_in_bar), count)})
    count = len(seconds)
    prices = _price_path(bar, count, rng, tick)
    quantities = _split_volume(bar.volume, count, rng)
    taker_share = float(bar.taker_base / bar.volume) if bar.volume > 0 else 0.5
    points = []
    for index, (second, price, qty) in enumerate(zip(seconds, prices, quantities, strict=True)):
        if qty <= 0:
            continue
        offset = second * SECOND + (rng.randrange(SECOND) if second else 0)
        if second == seconds_in_bar - 1:
            offset = min(offset, bar_ms - 1)
        buyer_is_maker = rng.random() >= (taker_share if bar.taker_base > 0 else 0.5)
        points.append(
            TapePoint(bar.open_time + offset, price, qty, first_trade_id + index, buyer_is_maker)
        )
    return points


def _price_path(bar: Bar, count: int, rng: random.Random, tick: Decimal) -> list[Decimal]:
    if count == 1:
        return [bar.close]
    if count == 2:
        return [bar.open, bar.close]
    # Anchor points: open first, close last, high and low at two distinct inner slots.
    inner = list(range(1, count - 1))
    if len(inner) >= 2:
        high_at, low_at = rng.sample(inner, 2)
    else:
        high_at = low_at = inner[0]
    anchors = {0: bar.open, count - 1: bar.close, high_at: bar.high}
    anchors.setdefault(low_at, bar.low)
    ordered = sorted(anchors.items())
    path: list[Decimal] = [bar.open] * count
    span = bar.high - bar.low
    for (start, start_price), (end, end_price) in pairwise(ordered):
        path[start] = start_price
        path[end] = end_price
        for position in range(start + 1, end):
            share = Decimal(position - start) / Decimal(end - start)
            linear = start_price + (end_price - start_price) * share
            noise = span * Decimal(str(round(rng.uniform(-0.15, 0.15), 6)))
            price = min(bar.high, max(bar.low, linear + noise))
            path[position] = min(bar.high, max(bar.low, floor_to(price, tick)))
    return path


def _split_volume(volume: Decimal, count: int, rng: random.Random) -> list[Decimal]:
    """Positive shares (8 decimals) that add up to exactly ``volume``."""
    weights = [rng.expovariate(1.0) + 0.05 for _ in range(count)]
    total = sum(weights)
    shares = [(volume * Decimal(str(weight / total))).quantize(EIGHT_PLACES) for weight in weights]
    shares = [max(share, ZERO) for share in shares]
    shares[-1] = volume - sum(shares[:-1])
    if shares[-1] <= 0:
        # Rounding pushed the remainder below zero: give everything to the anchors.
        shares = [ZERO] * count
        shares[0] = volume
    return shares
