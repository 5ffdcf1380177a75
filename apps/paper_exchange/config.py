"""Settings of one paper exchange process (no Django needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR_ENV = "SPOTDESK_MARKET_DATA_DIR"
ADMIN_TOKEN_ENV = "PAPER_EXCHANGE_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret
DEFAULT_SYNTHETIC_SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT")


def default_data_dir() -> Path:
    """``$SPOTDESK_MARKET_DATA_DIR``, else ``shared/data`` beside the project root."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    return PROJECT_ROOT.parent / "shared" / "data"


@dataclass
class RateLimits:
    """Limits as production publishes them; intervals as (number, unit letter)."""

    weight: int = 6000
    weight_interval: tuple[int, str] = (1, "M")
    raw_requests: int = 300_000
    raw_interval: tuple[int, str] = (5, "M")
    orders_short: int = 50
    orders_short_interval: tuple[int, str] = (10, "S")
    orders_long: int = 160_000
    orders_long_interval: tuple[int, str] = (1, "D")
    ban_seconds: int = 120
    # WebSocket connection attempts per IP (streams and WebSocket API together).
    ws_connections: int = 300
    ws_connections_interval: tuple[int, str] = (5, "M")
    # Requests tolerated after a 429 in the same window before the IP is banned.
    ban_after_violations: int = 5


@dataclass
class ExchangeConfig:
    host: str = "127.0.0.1"
    port: int = 9100
    data_dir: Path | None = field(default_factory=default_data_dir)
    synthetic_symbols: tuple[str, ...] = DEFAULT_SYNTHETIC_SYMBOLS
    speed: float = 1.0
    # Market time at which the replayed data starts; None: the replay ends "now".
    replay_start_ms: int | None = None
    loop: bool = False
    seed: str = "spotdesk"
    test_clock: bool = False
    start_ms: int | None = None
    synthetic_history_days: float = 45.0
    state_file: Path | None = None
    admin_token: str | None = field(default_factory=lambda: os.environ.get(ADMIN_TOKEN_ENV))
    limits: RateLimits = field(default_factory=RateLimits)
    default_commission: Decimal = Decimal("0.001")
    book_levels: int = 1000
    # How often the background task lets the market catch up and saves the state.
    tick_seconds: float = 1.0
    # Saving writes the whole state; at most this often (and always on shutdown).
    save_seconds: float = 5.0
    access_log: bool = False
    # WebSockets: server pings (aiohttp closes a connection whose pong is late), lifetime.
    ws_ping_seconds: float = 20.0
    ws_pong_timeout_seconds: float = 60.0
    ws_max_lifetime_seconds: float = 24 * 3600.0
    # How often (wall seconds) the market streams look at the market clock.
    stream_step_seconds: float = 0.1
    # Fault injection at start: the admin endpoint's /admin/faults body (see faults/).
    faults: dict = field(default_factory=dict)
    fault_seed: str = "faults"
