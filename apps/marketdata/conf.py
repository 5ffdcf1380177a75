"""Market-data settings, read from Django settings with defaults (the lead wires them)."""

from django.conf import settings


def candle_retention_months() -> int:
    """Months of candles kept in the database; older partitions are archived."""
    return int(getattr(settings, "MARKETDATA_CANDLE_RETENTION_MONTHS", 24))


def partitions_ahead() -> int:
    """Monthly partitions created ahead of the current month."""
    return int(getattr(settings, "MARKETDATA_PARTITIONS_AHEAD", 3))


def cache_window() -> int:
    """Closed candles kept in Redis per (symbol, interval)."""
    return int(getattr(settings, "MARKETDATA_CACHE_WINDOW", 500))


def cache_ttl_seconds() -> int:
    """Cached prices and windows expire unless refreshed (a dead stream leaves no stale
    price behind for long)."""
    return int(getattr(settings, "MARKETDATA_CACHE_TTL_SECONDS", 3 * 24 * 3600))


def warmup_candles() -> int:
    """Closed candles fetched from REST when the streams start following a (symbol,
    interval), so a strategy has its history at the first close (0 disables)."""
    return int(getattr(settings, "MARKETDATA_WARMUP_CANDLES", 300))


def symbols_refresh_seconds() -> float:
    """How often the streams re-read exchangeInfo (statuses such as BREAK, filters)."""
    return float(getattr(settings, "MARKETDATA_SYMBOLS_REFRESH_SECONDS", 300))


def ticker_interval_seconds() -> float:
    """Minimum seconds between two live price updates of one symbol to the dashboard."""
    return float(getattr(settings, "MARKETDATA_TICKER_INTERVAL_SECONDS", 1.0))


def import_batch_size() -> int:
    return int(getattr(settings, "MARKETDATA_IMPORT_BATCH_SIZE", 5000))


def archive_dir() -> str:
    return str(getattr(settings, "MARKETDATA_ARCHIVE_DIR", settings.BASE_DIR / "var" / "archive"))
