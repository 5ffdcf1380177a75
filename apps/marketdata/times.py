"""Exchange times are integer milliseconds; the database holds aware UTC datetimes."""

from datetime import UTC, datetime, timedelta

from apps.core.errors import ValidationError

# Binance's spot dumps switched to microseconds in 2025; anything above this is not ms.
_MICROSECONDS_FROM = 10**14
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The last millisecond a datetime can hold (year 9999): beyond it is garbage, not a time.
_MAX_MS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)


def ms_to_datetime(value: int) -> datetime:
    return EPOCH + timedelta(milliseconds=value)


def datetime_to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValidationError("time", "must be timezone-aware (UTC)")
    # Integer arithmetic on timedeltas: no float rounding of large timestamps.
    return (value - EPOCH) // timedelta(milliseconds=1)


def exchange_ms(raw, *, field: str) -> int:
    """A kline timestamp as integer ms, accepting Binance's microsecond dumps."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(field, "must be an integer timestamp") from None
    if value < 0:
        raise ValidationError(field, "must not be negative")
    value = value // 1000 if value >= _MICROSECONDS_FROM else value
    if value > _MAX_MS:
        raise ValidationError(field, "must be a time before the year 10000")
    return value
