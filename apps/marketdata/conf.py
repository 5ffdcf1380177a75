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


def order_books_enabled() -> bool:
    """The streams process keeps a local order book of every symbol it follows and
    publishes its liquidity summary (`apps/marketdata/liquidity.py`)."""
    return bool(getattr(settings, "MARKETDATA_ORDER_BOOKS", True))


def liquidity_interval_seconds() -> float:
    """Seconds between two liquidity summaries of one symbol."""
    return float(getattr(settings, "MARKETDATA_LIQUIDITY_INTERVAL_SECONDS", 1.0))


def liquidity_max_age_seconds() -> float:
    """A summary older than this is not used (and its Redis key expires)."""
    return float(getattr(settings, "MARKETDATA_LIQUIDITY_MAX_AGE_SECONDS", 5.0))


def liquidity_levels() -> int:
    """Best levels per side kept in a summary, for slippage estimates."""
    return int(getattr(settings, "MARKETDATA_LIQUIDITY_LEVELS", 50))


def order_book_snapshot_limit() -> int:
    """Levels of the REST snapshot a local book starts from (weight 50 at 1000)."""
    return int(getattr(settings, "MARKETDATA_ORDER_BOOK_SNAPSHOT_LIMIT", 1000))


def streams_environment() -> str:
    """The environment the streams process serves unless told otherwise (as
    `run_streams --environment` defaults)."""
    import os

    return str(
        getattr(settings, "STREAMS_ENVIRONMENT", os.environ.get("STREAMS_ENVIRONMENT", "paper"))
    )
