"""Writes for symbols and candles: idempotent by their unique keys."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Environment
from apps.audit.services import diff, record_event
from apps.core.errors import ValidationError

from . import conf
from .intervals import Interval
from .klines import KlineRow
from .models import Candle, Symbol
from .partitioning import ensure_month, is_postgres, month_start
from .symbols import guess_assets, symbol_fields

_SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")
_TAG = re.compile(r"^[A-Z0-9_]{1,24}$")
_CANDLE_VALUES = (
    "close_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "trades",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
)


def _environment(value: str) -> str:
    if value not in Environment.values:
        raise ValidationError("environment", f"must be one of {', '.join(Environment.values)}")
    return value


@transaction.atomic
def sync_symbols(*, environment: str, exchange_info: dict) -> list[str]:
    """Create or update every symbol of an exchangeInfo payload (sector tags are ours
    and kept). Returns the names whose status changed."""
    environment = _environment(environment)
    entries = exchange_info.get("symbols")
    if not isinstance(entries, list):
        raise ValidationError("exchange_info.symbols", "must be a list")
    fields = [symbol_fields(entry) for entry in entries]
    existing = {s.name: s for s in Symbol.objects.filter(environment=environment)}
    now = timezone.now()
    changed, to_create, to_update = [], [], []
    for values in fields:
        symbol = existing.get(values["name"])
        if symbol is None:
            to_create.append(Symbol(environment=environment, synced_at=now, **values))
            continue
        if symbol.status != values["status"]:
            changed.append(symbol.name)
        for name, value in values.items():
            setattr(symbol, name, value)
        symbol.synced_at = now
        to_update.append(symbol)
    Symbol.objects.bulk_create(to_create)
    update_fields = (
        [*(f for f in fields[0] if f != "name"), "synced_at", "updated_at"] if fields else []
    )
    for symbol in to_update:
        symbol.updated_at = now
    Symbol.objects.bulk_update(to_update, update_fields, batch_size=500)
    _alert_status_changes(environment, changed, {f["name"]: f["status"] for f in fields})
    return changed


def _alert_status_changes(environment: str, changed: list[str], statuses: dict) -> None:
    """A symbol leaving TRADING (BREAK, HALT) stops new entries: people must know."""
    from apps.monitoring.alerts import raise_alert  # the foundation's alert seam

    for name in changed:
        status = statuses[name]
        trading = status == "TRADING"
        raise_alert(
            "info" if trading else "warning",
            "symbol_trading_resumed" if trading else "symbol_stopped_trading",
            f"{name} on {environment} is now {status}",
            environment=environment,
            symbol=name,
            status=status,
        )


def ensure_symbol(*, environment: str, name: str) -> Symbol:
    """The symbol, created as UNKNOWN (assets guessed) if no exchangeInfo listed it yet:
    a kline import must not wait for a sync."""
    environment = _environment(environment)
    name = (name or "").upper()
    if not _SYMBOL.match(name):
        raise ValidationError("symbol", "must be 2-20 upper-case letters or digits")
    symbol = Symbol.objects.filter(environment=environment, name=name).first()
    if symbol is not None:
        return symbol
    base, quote = guess_assets(name)
    Symbol.objects.bulk_create(
        [Symbol(environment=environment, name=name, base_asset=base, quote_asset=quote,
                status="UNKNOWN")],
        ignore_conflicts=True,
    )  # fmt: skip
    return Symbol.objects.get(environment=environment, name=name)


@transaction.atomic
def set_sector_tags(*, actor, symbol: Symbol, tags: Iterable[str]) -> Symbol:
    """Sector tags are Spotdesk's configuration (exchangeInfo has none): audited."""
    cleaned = sorted({str(t).strip().upper() for t in tags})
    for tag in cleaned:
        if not _TAG.match(tag):
            raise ValidationError("sector_tags", f"{tag!r} must be 1-24 of A-Z, 0-9 or _")
    symbol = Symbol.objects.select_for_update().get(pk=symbol.pk)
    before = list(symbol.sector_tags)
    symbol.sector_tags = cleaned
    symbol.save(update_fields=["sector_tags", "updated_at"])
    record_event(
        action="symbol.sector_tags_changed",
        actor=getattr(actor, "user", actor),
        target=symbol,
        changes=diff({"sector_tags": before}, {"sector_tags": cleaned}),
    )
    return symbol


def upsert_candles(*, symbol: Symbol, interval: str, rows: Iterable[KlineRow]) -> int:
    """Insert or overwrite candles by (symbol, interval, open time), in batches.

    Running it twice over the same rows leaves the same table: a re-import or a
    backfill overlapping the stream never duplicates a candle. Returns rows written.
    """
    if interval not in Interval.values:
        raise ValidationError("interval", f"must be one of {', '.join(Interval.values)}")
    batch: list[Candle] = []
    written = 0
    size = conf.import_batch_size()
    for row in rows:
        batch.append(Candle(symbol=symbol, interval=interval, **row.fields()))
        if len(batch) >= size:
            written += _write(batch)
            batch = []
    if batch:
        written += _write(batch)
    return written


def _ensure_partitions(candles: list[Candle]) -> None:
    """Historical imports land in their own month's partition, not the default one.
    (Checked per batch, not cached: a rolled-back import also rolls back its DDL.)"""
    connection = transaction.get_connection()
    if not is_postgres(connection):
        return
    for month in {month_start(c.open_time.date()) for c in candles}:
        ensure_month(connection, table=Candle._meta.db_table, column="open_time", month=month)


def _write(batch: list[Candle]) -> int:
    # A batch may repeat an open time (overlapping files): the last one wins, as it
    # would row by row, and PostgreSQL refuses one statement touching a row twice.
    unique = list({(c.symbol_id, c.interval, c.open_time): c for c in batch}.values())
    with transaction.atomic():
        _ensure_partitions(unique)
        Candle.objects.bulk_create(
            unique,
            update_conflicts=True,
            unique_fields=["symbol", "interval", "open_time"],
            update_fields=list(_CANDLE_VALUES),
        )
    return len(unique)
