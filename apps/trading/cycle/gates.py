"""Whether a new entry may be opened. Exits and protection run regardless: a paused or
halted account still manages what it holds."""

from __future__ import annotations

from apps.accounts.models import AccountStatus, Environment


def entry_block_reason(account, config, symbol_row) -> str | None:
    """None when entries are allowed, else why not: the one place every control that
    stops new entries (status, pause, kill switches, symbol status, live approval) is
    checked."""
    if account.status != AccountStatus.ACTIVE:
        return f"account is {account.status}"
    from apps.trading.controls import kill_switch_reason

    killed = kill_switch_reason(account)
    if killed:
        return killed
    if not config.enabled:
        return "strategy config is paused" + (
            f": {config.paused_reason}" if config.paused_reason else ""
        )
    if symbol_row is None:
        return "symbol is unknown in this environment"
    if not symbol_row.is_trading:
        return f"symbol {symbol_row.name} is not trading (status {symbol_row.status})"
    if account.environment == Environment.LIVE and account.live_approved_at is None:
        return "live trading is not approved for this account"
    return None
