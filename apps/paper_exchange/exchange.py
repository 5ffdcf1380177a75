"""The paper exchange as one object: clocks, market, state, engine and limits together,
plus the provisioning operations the admin CLI and the admin endpoint share."""

from __future__ import annotations

import logging
from decimal import Decimal

from apps.paper_exchange import provisioning
from apps.paper_exchange.clock import MarketClock, wall_ms
from apps.paper_exchange.config import ExchangeConfig
from apps.paper_exchange.engine.events import balance_update
from apps.paper_exchange.engine.matching import MatchingEngine
from apps.paper_exchange.engine.models import Account
from apps.paper_exchange.faults.injector import FaultInjector
from apps.paper_exchange.marketdata.market import build_market
from apps.paper_exchange.ratelimit import RateLimiter
from apps.paper_exchange.state import Store
from apps.paper_exchange.wsapi.subscriptions import UserStreams

# Published books (REST depth, streams) are the synthetic book at the start of each
# 10 ms of market time; its number is the depth's lastUpdateId.
BOOK_ID_MS = 10

logger = logging.getLogger(__name__)


class PaperExchange:
    def __init__(self, config: ExchangeConfig, wall=wall_ms):
        self.config = config
        self.wall = wall
        start = config.start_ms if config.start_ms is not None else wall()
        self.clock = MarketClock(start, config.speed, manual=config.test_clock, wall=wall)
        self.market = build_market(config, start)
        self.store = Store(config.state_file)
        self.store.load()
        self.limiter = RateLimiter(config.limits, now=wall)
        self.engine = MatchingEngine(
            self.store,
            self.market,
            now=self.clock.now,
            book_levels=config.book_levels,
            on_first_fill=self.limiter.order_filled,
        )
        self.engine.catch_up(self.clock.now())
        self.faults = FaultInjector(seed=config.fault_seed)
        if config.faults:
            self.faults.configure(config.faults, wall())
        self.user_streams = UserStreams()
        # Called after the test clock moved (the stream hub wakes up).
        self.on_advance: list = []

    def server_time(self) -> int:
        """The wall clock as clients see it (with an injected clock skew, if any)."""
        return self.wall() + self.faults.clock_skew_ms

    def published_book(self, symbol: str, now: int | None = None):
        """(update id, book) that REST depth, tickers and the depth streams publish."""
        now = self.market_time() if now is None else now
        update_id = now // BOOK_ID_MS
        return update_id, self.engine.book(symbol, update_id * BOOK_ID_MS)

    def flush_events(self) -> None:
        """Deliver the user data events the engine recorded to their subscribers."""
        journal = self.engine.journal
        if not journal:
            return
        for account_id, event in journal.drain(self.store.accounts, self.clock.now()):
            self.user_streams.deliver(account_id, event)

    def market_time(self) -> int:
        return self.clock.now()

    def sync(self) -> None:
        """Let open orders see the market up to now."""
        self.engine.catch_up(self.clock.now())

    # -- provisioning (the admin endpoint's operations) -----------------------------

    def create_key(self, **options) -> dict:
        options.setdefault("default_commission", self.config.default_commission)
        result = provisioning.create_key(self.store, self.wall(), **options)
        self.store.save()
        return result

    def set_balances(self, account_id: int, balances: dict[str, Decimal]) -> dict:
        account = self.account(account_id)
        before = {asset: account.balance(asset).free for asset in balances}
        now = self.clock.now()
        result = provisioning.set_balances(self.store, account_id, balances, now)
        self.store.save()
        journal = self.engine.journal
        for asset, amount in balances.items():
            if amount != before[asset]:
                # A deposit or withdrawal, as far as the account's streams can tell.
                journal.raw(account_id, balance_update(asset, amount - before[asset], now))
                journal.balances(account_id, asset)
        self.flush_events()
        return result

    def account(self, account_id: int) -> Account:
        return provisioning.get_account(self.store, account_id)

    def account_for_key(self, api_key: str) -> Account:
        return provisioning.account_for_key(self.store, api_key)

    def list_keys(self) -> list[dict]:
        return provisioning.list_keys(self.store)

    def advance(self, milliseconds: int) -> int:
        if not self.config.test_clock:
            raise provisioning.ProvisioningError(
                "clock: only a server started with the test clock advances"
            )
        try:
            now = self.clock.advance(int(milliseconds))
        except ValueError as error:
            raise provisioning.ProvisioningError(f"clock: {error}") from None
        self.sync()
        self.flush_events()
        for listener in self.on_advance:
            listener()
        return now

    def save(self) -> None:
        if self.store.dirty:
            self.store.save()
