"""import_klines over the shared Binance-layout dumps (read in place, never copied)."""

import csv
import gzip
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.marketdata.importer import import_file
from apps.marketdata.models import Candle, Symbol
from apps.marketdata.times import datetime_to_ms

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
XRPETH = DATA / "binance" / "XRPETH-1m-2019-10-11.csv"
ETHBTC = DATA / "market" / "ETHBTC-5m-2018-01.csv.gz"


@pytest.fixture(autouse=True)
def _data():
    if not XRPETH.exists() or not ETHBTC.exists():
        pytest.skip(f"shared market data not found under {DATA}")


def first_rows(path: Path, n: int) -> list[list[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return [row for _, row in zip(range(n), csv.reader(handle), strict=False)]


def test_a_csv_dump_imports_every_row_exactly():
    out = io.StringIO()
    call_command("import_klines", str(XRPETH), "--environment", "paper", stdout=out)
    symbol = Symbol.objects.get(environment="paper", name="XRPETH")
    assert (symbol.base_asset, symbol.quote_asset, symbol.status) == ("XRP", "ETH", "UNKNOWN")
    candles = Candle.objects.filter(symbol=symbol, interval="1m").order_by("open_time")
    assert candles.count() == 2469
    first = candles.first()
    row = first_rows(XRPETH, 1)[0]
    assert datetime_to_ms(first.open_time) == int(row[0])
    assert first.open == Decimal(row[1])
    assert first.close == Decimal(row[4])
    assert first.volume == Decimal(row[5])
    assert first.trades == int(row[8])
    assert datetime_to_ms(first.close_time) == int(row[6])
    # Read back in Binance's layout, the row is the one imported.
    back = first.as_kline()
    assert (back[0], back[6], back[8]) == (int(row[0]), int(row[6]), int(row[8]))
    assert all(isinstance(back[i], str) and Decimal(back[i]) == Decimal(row[i])
               for i in (1, 2, 3, 4, 5, 7))  # fmt: skip
    assert "2469 candles of XRPETH 1m" in out.getvalue()


def test_importing_twice_or_overlapping_files_never_duplicates():
    import_file(ETHBTC, environment="live")
    count = Candle.objects.count()
    assert count > 5000
    before = list(Candle.objects.order_by("open_time").values_list("open_time", "close")[:50])
    import_file(ETHBTC, environment="live")
    assert Candle.objects.count() == count
    assert (
        list(Candle.objects.order_by("open_time").values_list("open_time", "close")[:50]) == before
    )


def test_zip_dumps_are_read(tmp_path):
    archive = tmp_path / "XRPETH-1m-2019-10.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(XRPETH, "XRPETH-1m-2019-10-11.csv")
    progress = []
    result = import_file(archive, environment="paper", progress=lambda *a: progress.append(a))
    assert result.rows == 2469
    assert progress[-1][0] == progress[-1][1]  # finished at 100%
    assert progress[-1][2] == 2469


def test_a_header_line_and_microsecond_times_are_understood(tmp_path):
    rows = first_rows(XRPETH, 3)
    path = tmp_path / "XRPETH-1m-2025-01.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["open_time", "open", "high", "low", "close", "volume", "close_time",
                         "quote_volume", "count", "taker_buy_volume",
                         "taker_buy_quote_volume", "ignore"])  # fmt: skip
        for row in rows:
            writer.writerow([int(row[0]) * 1000, *row[1:6], int(row[6]) * 1000, *row[7:]])
    assert import_file(path, environment="paper").rows == 3
    times = sorted(datetime_to_ms(c.open_time) for c in Candle.objects.all())
    assert times == [int(r[0]) for r in rows]


def test_a_bad_row_names_line_and_column_and_imports_nothing(tmp_path):
    rows = first_rows(XRPETH, 5)
    rows[3][3] = "9999"  # low above high
    path = tmp_path / "XRPETH-1m-bad.csv"
    with path.open("w", newline="") as out:
        csv.writer(out).writerows(rows)
    with pytest.raises(CommandError, match=r"line 4.*low"):
        call_command("import_klines", str(path), "--environment", "paper")
    assert not Candle.objects.exists()
    assert not Symbol.objects.exists()


def test_symbol_and_interval_are_required_when_the_name_does_not_say(tmp_path):
    path = tmp_path / "klines.csv"
    path.write_text(",".join(first_rows(XRPETH, 1)[0]) + "\n")
    with pytest.raises(CommandError, match="--symbol"):
        call_command("import_klines", str(path))
    call_command("import_klines", str(path), "--symbol", "XRPETH", "--interval", "1m",
                 stdout=io.StringIO())  # fmt: skip
    assert Candle.objects.count() == 1
