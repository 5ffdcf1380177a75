"""Trading settings, read from Django settings with defaults (the lead wires them)."""

from django.conf import settings


def decision_retention_months() -> int:
    """Months of decisions kept in the database; older partitions are archived."""
    return int(getattr(settings, "TRADING_DECISION_RETENTION_MONTHS", 12))


def account_lock_ttl_seconds() -> int:
    """A cycle's lock expires after this long if its worker died holding it; a live
    holder renews it. Keep it above the longest cycle's step and below the broker's
    redelivery delay."""
    return int(getattr(settings, "TRADING_ACCOUNT_LOCK_TTL_SECONDS", 60))


def account_lock_wait_seconds() -> float:
    """How long a cycle waits for another cycle of the same account to finish."""
    return float(getattr(settings, "TRADING_ACCOUNT_LOCK_WAIT_SECONDS", 10))


def max_trigger_age_seconds() -> int:
    """A trigger (a closed candle) older than this is refused: a task redelivered after
    a crash must not trade on a stale candle."""
    return int(getattr(settings, "TRADING_MAX_TRIGGER_AGE_SECONDS", 120))


def trigger_memory_seconds() -> int:
    """How long a handled (account, trigger) is remembered; must exceed the maximum
    trigger age so a late duplicate is refused by one rule or the other."""
    return max(int(getattr(settings, "TRADING_TRIGGER_MEMORY_SECONDS", 24 * 3600)),
               max_trigger_age_seconds() * 2)  # fmt: skip


def cycle_batch_size() -> int:
    """Accounts of one signal group handled per batch (their exchange calls overlap)."""
    return max(1, int(getattr(settings, "TRADING_CYCLE_BATCH_SIZE", 50)))


def cycle_concurrency() -> int:
    """Threads per group task sending accounts' exchange calls at once; the gateway's
    limiter still bounds the request weight."""
    return max(1, int(getattr(settings, "TRADING_CYCLE_CONCURRENCY", 8)))


def cycle_busy_retry_seconds() -> float:
    """Delay before a group task retries the accounts whose lock another cycle held."""
    return float(getattr(settings, "TRADING_CYCLE_BUSY_RETRY_SECONDS", 2))
