"""Reading Binance's public kline dumps (CSV, gzip or zip) into candles.

The symbol and interval come from the file name (`BTCUSDT-1m-2024-01.zip`, as
data.binance.vision names them) unless given. Rows go through the same validation
and idempotent upsert as streamed candles, so importing a file twice, or files that
overlap, leaves one candle per open time.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from apps.core.errors import ValidationError

from .intervals import Interval
from .klines import KlineRow, is_header, parse_kline
from .services import ensure_symbol, upsert_candles

_NAME = re.compile(r"^(?P<symbol>[A-Z0-9]{2,20})-(?P<interval>\d+[mhdwM])(?:-|\.|$)")

# What a damaged, truncated or non-UTF-8 file raises while it is read.
_UNREADABLE = (UnicodeDecodeError, EOFError, OSError, zipfile.BadZipFile, zlib.error, csv.Error)

Progress = Callable[[int, int, int], None]  # (bytes read, total bytes, rows so far)


@dataclass(frozen=True)
class ImportResult:
    path: str
    symbol: str
    interval: str
    rows: int


class _Counter:
    count = 0


class _Counting(io.RawIOBase):
    """Counts the bytes pulled from a stream (the file, or a zip member)."""

    def __init__(self, raw, counter: _Counter):
        self.raw = raw
        self.counter = counter

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.counter.count += len(data)
        return len(data)


def _text(raw, counter: _Counter) -> io.TextIOWrapper:
    return io.TextIOWrapper(
        io.BufferedReader(_Counting(raw, counter)), encoding="utf-8", newline=""
    )


def _size(path: Path) -> int:
    """Bytes the progress counts: uncompressed members of a zip, else the file."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return sum(i.file_size for i in archive.infolist() if i.filename.endswith(".csv"))
    return path.stat().st_size


def name_parts(path: Path) -> tuple[str | None, str | None]:
    match = _NAME.match(path.name)
    if not match:
        return None, None
    return match["symbol"], match["interval"]


def _text_streams(path: Path, counter: _Counter) -> Iterator[io.TextIOBase]:
    if path.suffix == ".zip":
        # zipfile needs to seek: open the archive itself, count its members' bytes.
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(".csv"):
                    with archive.open(member) as handle:
                        yield _text(handle, counter)
    elif path.suffix == ".gz":
        with path.open("rb") as raw:
            # Compressed bytes read: the gzip reader pulls them from the counted file.
            counted = io.BufferedReader(_Counting(raw, counter))
            with gzip.GzipFile(fileobj=counted) as handle:
                yield io.TextIOWrapper(handle, encoding="utf-8", newline="")
    elif path.suffix == ".csv":
        with path.open("rb") as raw:
            yield _text(raw, counter)
    else:
        raise ValidationError("file", f"{path.name}: must end in .csv, .gz or .zip")


def _rows(path: Path, counter: _Counter, progress, total: int) -> Iterator[KlineRow]:
    count = 0
    for stream in _text_streams(path, counter):
        for line_number, row in enumerate(csv.reader(stream), start=1):
            if not row or (line_number == 1 and is_header(row)):
                continue
            try:
                yield parse_kline(row)
            except ValidationError as exc:
                raise ValidationError(
                    exc.field, exc.rule, f"{path.name} line {line_number}: {exc.message}"
                ) from None
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(counter.count, total, count)
    if progress is not None:
        progress(total, total, count)


def import_file(
    path: str | Path,
    *,
    environment: str,
    symbol: str | None = None,
    interval: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    path = Path(path)
    if not path.is_file():
        raise ValidationError("file", f"{path}: no such file")
    named_symbol, named_interval = name_parts(path)
    symbol = (symbol or named_symbol or "").upper()
    interval = interval or named_interval
    if not symbol:
        raise ValidationError("symbol", f"{path.name}: give --symbol (not in the file name)")
    if interval not in Interval.values:
        raise ValidationError(
            "interval", f"{path.name}: give --interval, one of {', '.join(Interval.values)}"
        )
    if path.suffix not in (".csv", ".gz", ".zip"):
        raise ValidationError("file", f"{path.name}: must end in .csv, .gz or .zip")
    # One transaction per file: a bad row anywhere leaves the database as it was.
    try:
        with transaction.atomic():
            record = ensure_symbol(environment=environment, name=symbol)
            rows = _rows(path, _Counter(), progress, _size(path))
            written = upsert_candles(symbol=record, interval=interval, rows=rows)
    except _UNREADABLE as error:
        raise ValidationError(
            "file", "must be a readable UTF-8 CSV, gzip or zip file", f"{path.name}: {error}"
        ) from None
    return ImportResult(str(path), symbol, interval, written)
