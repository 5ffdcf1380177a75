"""Reading market data files: 12-column kline CSV (plain, gzip, zip) and aggTrades JSON lines."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from apps.paper_exchange.marketdata.bars import FIXED_INTERVALS, Bar, TapePoint

_KLINE_NAME = re.compile(r"^(?P<symbol>[A-Z0-9]+)-(?P<interval>\d+[smhdw])-.*\.csv(\.gz|\.zip)?$")
_TRADES_NAME = re.compile(r"^(?P<symbol>[A-Z0-9]+)-aggTrades-.*\.jsonl(\.gz)?$")


@dataclass
class DataFiles:
    """The files found for one symbol."""

    symbol: str
    kline_file: Path | None = None
    interval: str | None = None
    trades_file: Path | None = None


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    if path.suffix == ".zip":
        archive = zipfile.ZipFile(path)
        inner = next(name for name in archive.namelist() if not name.endswith("/"))
        return io.TextIOWrapper(archive.open(inner), encoding="utf-8")
    return open(path, encoding="utf-8")


def discover(directory: Path) -> dict[str, DataFiles]:
    """Find kline and aggTrades files (any depth) and group them by symbol."""
    found: dict[str, DataFiles] = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        kline = _KLINE_NAME.match(path.name)
        trades = _TRADES_NAME.match(path.name)
        if kline and kline["interval"] in FIXED_INTERVALS:
            entry = found.setdefault(kline["symbol"], DataFiles(kline["symbol"]))
            entry.kline_file, entry.interval = path, kline["interval"]
        elif trades:
            entry = found.setdefault(trades["symbol"], DataFiles(trades["symbol"]))
            entry.trades_file = path
    return {symbol: files for symbol, files in found.items() if files.kline_file}


def read_klines(path: Path) -> list[Bar]:
    bars: list[Bar] = []
    with _open_text(path) as handle:
        for row in csv.reader(handle):
            if not row or not row[0].strip().isdigit():
                continue  # header line of some dumps
            open_time = int(row[0])
            if open_time > 10**14:  # newer dumps are in microseconds
                open_time //= 1000
            bars.append(
                Bar(
                    open_time,
                    Decimal(row[1]),
                    Decimal(row[2]),
                    Decimal(row[3]),
                    Decimal(row[4]),
                    Decimal(row[5]),
                    Decimal(row[7]),
                    int(row[8]),
                    Decimal(row[9]),
                    Decimal(row[10]),
                )
            )
    bars.sort(key=lambda bar: bar.open_time)
    return bars


def read_agg_trades(path: Path) -> list[TapePoint]:
    trades: list[TapePoint] = []
    with _open_text(path) as handle:
        for line in handle:
            if not line.strip():
                continue
            item = json.loads(line)
            trades.append(
                TapePoint(
                    int(item["T"]),
                    Decimal(item["p"]),
                    Decimal(item["q"]),
                    int(item["a"]),
                    bool(item["m"]),
                    int(item["f"]),
                    int(item["l"]),
                )
            )
    trades.sort(key=lambda trade: (trade.time, trade.trade_id))
    return trades


def fill_gaps(bars: list[Bar], bar_ms: int) -> list[Bar]:
    """Contiguous bars: a period without a row gets a zero-volume bar at the previous close."""
    if not bars:
        return []
    filled = [bars[0]]
    for bar in bars[1:]:
        expected = filled[-1].open_time + bar_ms
        while expected < bar.open_time:
            filled.append(Bar.flat(expected, filled[-1].close))
            expected += bar_ms
        if bar.open_time == filled[-1].open_time:
            continue  # duplicate row
        filled.append(bar)
    return filled
