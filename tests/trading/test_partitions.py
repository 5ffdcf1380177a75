"""Monthly partitions: rows land in their month, late-created months adopt rows from
the default partition, and archiving writes the month out before dropping it."""

import csv
import gzip
import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from apps.marketdata.klines import parse_kline
from apps.marketdata.models import Candle, Symbol
from apps.marketdata.partitioning import ensure_month, month_partitions
from apps.marketdata.services import upsert_candles
from apps.strategies.engine.signals import Action, Signal
from apps.trading.models import Decision
from apps.trading.partitions import archive_expired
from apps.trading.services import record_decision
from tests.trading.support import active_account, make_config, sync_default_symbols

pytestmark = pytest.mark.django_db


def table_of(model, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {model._meta.db_table} WHERE id = %s",  # noqa: S608
            [pk],
        )
        return cursor.fetchone()[0]


def kline(open_ms: int) -> list:
    return [open_ms, "1", "2", "0.5", "1.5", "10", open_ms + 59_999, "15", 3, "1", "1", "0"]


@pytest.fixture
def btc():
    sync_default_symbols()
    return Symbol.objects.get(environment="paper", name="BTCUSDT")


def test_candles_land_in_their_months_partition(btc):
    old = int(datetime(2018, 1, 10, tzinfo=UTC).timestamp() * 1000)
    upsert_candles(symbol=btc, interval="1m", rows=[parse_kline(kline(old))])
    candle = Candle.objects.get()
    assert table_of(Candle, candle.pk) == "marketdata_candle_p201801"


def test_a_month_created_late_takes_its_rows_from_the_default_partition(btc):
    config = make_config(active_account())
    far = datetime(2031, 5, 3, tzinfo=UTC)
    signal = Signal(Action.HOLD, "x", "trend_following", "1.0", "BTCUSDT", "1h", None)
    decision = record_decision(config=config, symbol="BTCUSDT", candle_open_time=far,
                               signal=signal, fingerprint="f")  # fmt: skip
    Decision.objects.filter(pk=decision.pk).update(created_at=far)
    assert table_of(Decision, decision.pk) == "trading_decision_default"
    assert ensure_month(connection, table="trading_decision", column="created_at", month=far.date())
    assert table_of(Decision, decision.pk) == "trading_decision_p203105"


def test_archiving_writes_expired_months_out_then_drops_them(btc, tmp_path, settings):
    settings.MARKETDATA_CANDLE_RETENTION_MONTHS = 12
    old = int(datetime(2018, 1, 10, tzinfo=UTC).timestamp() * 1000)
    recent = int(datetime.now(tz=UTC).timestamp() * 1000) // 60_000 * 60_000
    upsert_candles(symbol=btc, interval="1m",
                   rows=[parse_kline(kline(old)), parse_kline(kline(old + 60_000)),
                         parse_kline(kline(recent))])  # fmt: skip
    assert archive_expired(directory=tmp_path, dry_run=True) == ["marketdata_candle_p201801"]
    assert Candle.objects.count() == 3  # a dry run changes nothing
    out = io.StringIO()
    call_command("archive_partitions", "--directory", str(tmp_path), stdout=out)
    assert "archived marketdata_candle_p201801" in out.getvalue()
    assert Candle.objects.count() == 1
    assert date(2018, 1, 1) not in {
        p.month for p in month_partitions(connection, "marketdata_candle")
    }
    with gzip.open(tmp_path / "marketdata_candle_p201801.csv.gz", "rt") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["close"] for r in rows] == ["1.500000000000000000"] * 2
    assert {r["open_time"][:10] for r in rows} == {"2018-01-10"}


def test_the_maintenance_task_is_idempotent(btc, tmp_path, settings, redis_client):
    from apps.trading.tasks import maintain_partitions

    settings.MARKETDATA_ARCHIVE_DIR = str(tmp_path)
    first = maintain_partitions()
    assert isinstance(first["created"], list)
    assert maintain_partitions() == {"created": [], "archived": []}
    redis_client.set("trading:lock:maintain_partitions", "1")  # a run in progress
    assert "skipped" in maintain_partitions()
