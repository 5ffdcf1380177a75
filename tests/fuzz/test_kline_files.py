"""Kline rows and kline files (Binance's public dumps, imported by ops).

Arbitrary rows and arbitrary file bytes end in a ValidationError that names a column
(or the file), never in another exception; valid rows round-trip exactly, in Decimal.
"""

import gzip
import io
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.errors import ValidationError
from apps.exchange.streams.supervisor import kline_row
from apps.marketdata.importer import import_file
from apps.marketdata.klines import COLUMNS, parse_kline
from apps.marketdata.models import Candle
from apps.marketdata.times import datetime_to_ms
from tests.fuzz.support import FEW, FUZZ, attempt, no_floats, wire_decimals

CELL = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    wire_decimals,
    st.sampled_from(["", "NaN", "Infinity", "-1", "1e999", "0x10", " 5 ", "1_000"]),
)
MONEY = ("open", "high", "low", "close", "volume", "quote_volume")
ROW_FIELDS = {*COLUMNS, "kline"}


@FUZZ
@given(st.lists(CELL, max_size=14))
def test_any_row_parses_or_names_the_broken_column(row):
    parsed = attempt(parse_kline, row, expected=ValidationError)
    if isinstance(parsed, ValidationError):
        assert parsed.field in ROW_FIELDS
        return
    assert no_floats(parsed.fields())
    assert parsed.low <= parsed.high
    assert parsed.open_time <= parsed.close_time


@st.composite
def valid_rows(draw):
    low = Decimal(draw(wire_decimals))
    high = low + Decimal(draw(wire_decimals))
    open_ms = draw(st.integers(min_value=0, max_value=4_102_444_800_000))  # up to 2100
    row = [
        str(open_ms),
        draw(wire_decimals),
        f"{high:f}",
        f"{low:f}",
        draw(wire_decimals),
        draw(wire_decimals),
        str(open_ms + 59_999),
        draw(wire_decimals),
        str(draw(st.integers(min_value=0, max_value=10**9))),
        draw(wire_decimals),
        draw(wire_decimals),
        "0",
    ]
    return row


@FUZZ
@given(valid_rows())
def test_valid_rows_round_trip_exactly(row):
    parsed = parse_kline(row)
    assert datetime_to_ms(parsed.open_time) == int(row[0])
    assert datetime_to_ms(parsed.close_time) == int(row[6])
    for index, name in enumerate(COLUMNS[1:6], start=1):
        value = getattr(parsed, name)
        assert type(value) is Decimal
        assert value == Decimal(row[index])
    assert parsed.trades == int(row[8])


@FUZZ
@given(valid_rows(), st.booleans())
def test_a_stream_kline_reads_like_the_rest_row(row, closed):
    # The streams process turns a WebSocket kline into the REST row layout.
    keys = ("t", "o", "h", "l", "c", "v", "T", "q", "n", "V", "Q")
    message = dict(zip(keys, row, strict=False)) | {"x": closed, "s": "BTCUSDT", "i": "1m"}
    assert parse_kline(kline_row(message)) == parse_kline(row)


def _write(directory: Path, kind: str, payload: bytes) -> Path:
    path = directory / f"BTCUSDT-1m-2024-01.{kind}"
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("BTCUSDT-1m-2024-01.csv", payload)
        path.write_bytes(buffer.getvalue())
    elif kind == "gz":
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


FILE_BYTES = st.one_of(
    st.binary(max_size=300),
    st.lists(st.lists(CELL, max_size=13).map(",".join), max_size=5).map(
        lambda lines: "\n".join(lines).encode()
    ),
)


@pytest.mark.django_db
@FEW
@given(FILE_BYTES, st.sampled_from(["csv", "gz", "zip"]), st.booleans())
def test_any_file_imports_whole_or_is_refused_whole(payload, kind, corrupt):
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), kind, payload)
        if corrupt and kind != "csv":
            path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
        before = Candle.objects.count()
        result = attempt(import_file, path, environment="paper", expected=ValidationError)
        if isinstance(result, ValidationError):
            assert result.field in ROW_FIELDS | {"file"}
            assert Candle.objects.count() == before  # a refused file changes nothing
            return
        assert Candle.objects.count() - before <= result.rows


@FUZZ
@given(valid_rows(), st.integers(min_value=0, max_value=10**40), st.integers(min_value=0))
def test_any_timestamp_parses_or_names_its_column(row, open_time, duration):
    row[0], row[6] = str(open_time), str(open_time + duration)
    parsed = attempt(parse_kline, row, expected=ValidationError)
    if isinstance(parsed, ValidationError):
        assert parsed.field in ("open_time", "close_time")
        return
    assert parsed.open_time <= parsed.close_time
