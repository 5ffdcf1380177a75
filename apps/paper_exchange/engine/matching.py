"""The matching engine: places orders against the synthetic book, rests limit orders,
fills them from the market tape, triggers stops, runs OCO lists, keeps balances.

Money rules: a buy reserves (locks) its worst-case quote cost up front, a sell its base
quantity; each fill is paid out of the order's own reservation, so no order can spend
what the account does not have. Quote amounts are rounded per order on the running
total (up when paying, down when receiving), so the rounding never accumulates.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from decimal import Decimal

from apps.paper_exchange import errors
from apps.paper_exchange.engine.book import SyntheticBook
from apps.paper_exchange.engine.events import EventJournal
from apps.paper_exchange.engine.models import (
    STOP_TYPES,
    Account,
    Fill,
    Order,
    OrderList,
)
from apps.paper_exchange.engine.requests import OcoRequest, OrderRequest
from apps.paper_exchange.marketdata.bars import SECOND, TapePoint
from apps.paper_exchange.marketdata.market import MarketData
from apps.paper_exchange.numbers import ZERO, floor_to, money_down, money_up
from apps.paper_exchange.state import Store

_ID_ALPHABET = string.ascii_letters + string.digits
BIPS = Decimal(10000)


def random_client_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


def stop_condition(order_type: str, side: str, stop: Decimal, price: Decimal) -> bool:
    """True when a stop of this kind is triggered by a last price of ``price``."""
    if order_type.startswith("STOP_LOSS"):
        return price <= stop if side == "SELL" else price >= stop
    return price >= stop if side == "SELL" else price <= stop


class MatchingEngine:
    def __init__(
        self,
        store: Store,
        market: MarketData,
        now: Callable[[], int],
        book_levels: int = 1000,
        on_first_fill: Callable[[int], None] | None = None,
    ):
        self.store = store
        self.market = market
        self.now = now
        self.book_levels = book_levels
        self.on_first_fill = on_first_fill or (lambda account_id: None)
        self._processed: dict[str, int] = {}
        self.journal = EventJournal(store.next_sequence)

    # -- market view ----------------------------------------------------------------------

    def book(self, symbol: str, at: int | None = None, price: Decimal | None = None):
        at = self.now() if at is None else at
        spec = self.market.specs[symbol]
        last = price if price is not None else self.market.last_price(symbol, at)
        return SyntheticBook(
            symbol,
            last,
            spec.tick_size,
            spec.step_size,
            self.market.minute_volume(symbol, at),
            second=at // SECOND,
            levels=self.book_levels,
        )

    def catch_up(self, upto: int | None = None) -> None:
        """Feed the tape up to ``upto`` to the open orders (stops, resting limits)."""
        upto = self.now() if upto is None else upto
        for symbol in self.market.specs:
            after = self._processed.get(symbol)
            self._processed[symbol] = max(upto, after or upto)
            if after is None or upto <= after or not self.store.open_orders[symbol]:
                continue
            self._replay(symbol, self.market.series[symbol].points_between(after, upto))

    # -- placing ---------------------------------------------------------------------------

    def check_new(self, account: Account, request: OrderRequest, extra_orders: int = 1) -> None:
        spec = self.market.specs[request.symbol]
        if not spec.is_trading:
            raise errors.new_order_rejected(errors.MARKET_CLOSED)
        if not account.can_trade:
            raise errors.new_order_rejected(errors.TRADING_DISABLED)
        if request.new_client_order_id:
            self._check_client_id(account, request.symbol, request.new_client_order_id)
        open_orders = self.store.account_open_orders(account.account_id, request.symbol)
        if len(open_orders) + extra_orders > spec.max_num_orders:
            raise errors.filter_failure("MAX_NUM_ORDERS")
        if request.type in STOP_TYPES:
            algo = sum(1 for order in open_orders if order.is_algo)
            if algo + 1 > spec.max_num_algo_orders:
                raise errors.filter_failure("MAX_NUM_ALGO_ORDERS")

    def _check_client_id(self, account: Account, symbol: str, client_id: str) -> None:
        for order in self.store.account_open_orders(account.account_id, symbol):
            if order.client_order_id == client_id:
                raise errors.new_order_rejected(errors.DUPLICATE_ORDER)

    def place(self, account: Account, request: OrderRequest) -> tuple[Order, list[Fill]]:
        self.check_new(account, request)
        now = self.now()
        book = self.book(request.symbol, now)
        last = self.market.last_price(request.symbol, now)
        self._check_placement_rules(request, book, last)
        lock_asset, lock_amount = self.required_lock(request, book, last)
        if account.balance(lock_asset).free < lock_amount:
            raise errors.new_order_rejected(errors.INSUFFICIENT_BALANCE)
        order = self._new_order(account, request, now, lock_asset, lock_amount)
        self._report_new(order, now)
        fills = self._activate(order, book, now, last)
        return order, fills

    def _check_placement_rules(self, request: OrderRequest, book, last: Decimal) -> None:
        if request.type == "LIMIT_MAKER" and self._would_take(request.side, request.price, book):
            raise errors.new_order_rejected(errors.WOULD_TAKE)
        if (
            request.type in STOP_TYPES
            and request.stop_price is not None
            and request.trailing_delta is None
            and stop_condition(request.type, request.side, request.stop_price, last)
        ):
            raise errors.new_order_rejected(errors.WOULD_TRIGGER_IMMEDIATELY)

    @staticmethod
    def _would_take(side: str, price: Decimal, book: SyntheticBook) -> bool:
        return price >= book.best_ask if side == "BUY" else price <= book.best_bid

    def required_lock(self, request: OrderRequest, book, last: Decimal) -> tuple[str, Decimal]:
        """The asset and amount a new order reserves."""
        spec = self.market.specs[request.symbol]
        if request.side == "SELL":
            if request.type == "MARKET" and request.quote_order_qty is not None:
                return spec.base, self._base_for_quote(book, request.quote_order_qty, spec)
            return spec.base, request.quantity
        if request.type == "MARKET":
            if request.quote_order_qty is not None:
                return spec.quote, request.quote_order_qty
            return spec.quote, self._cost_of(book, request.quantity)
        if request.price is not None:  # every limit-priced type
            return spec.quote, money_up(request.price * request.quantity)
        reference = request.stop_price if request.stop_price is not None else last
        return spec.quote, money_up(reference * request.quantity)

    @staticmethod
    def _cost_of(book: SyntheticBook, quantity: Decimal) -> Decimal:
        remaining, exact = quantity, ZERO
        for level in book.asks():
            take = min(remaining, level.qty)
            exact += take * level.price
            remaining -= take
            if remaining <= 0:
                break
        return money_up(exact)

    @staticmethod
    def _base_for_quote(book: SyntheticBook, quote: Decimal, spec) -> Decimal:
        remaining, base = quote, ZERO
        for level in book.bids():
            take = min(level.qty, floor_to(remaining / level.price, spec.step_size))
            if take <= 0:
                break
            base += take
            remaining -= take * level.price
        return base

    def _new_order(
        self,
        account: Account,
        request: OrderRequest,
        now: int,
        lock_asset: str,
        lock_amount: Decimal,
        order_list_id: int = -1,
    ) -> Order:
        order = Order(
            symbol=request.symbol,
            order_id=self.store.new_order_id(request.symbol),
            account_id=account.account_id,
            client_order_id=request.new_client_order_id or random_client_id(),
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force,
            orig_qty=request.quantity if request.quantity is not None else ZERO,
            price=request.price or ZERO,
            stop_price=request.stop_price or ZERO,
            trailing_delta=request.trailing_delta,
            quote_order_qty=request.quote_order_qty or ZERO,
            time=now,
            update_time=now,
            order_list_id=order_list_id,
            stp_mode=request.stp_mode,
            strategy_id=request.strategy_id,
            strategy_type=request.strategy_type,
            lock_asset=lock_asset,
            sequence=self.store.next_sequence(),
        )
        self._lock(account, order, lock_amount)
        self.store.add_order(order)
        self._note_balances(order)
        return order

    def _report_new(self, order: Order, now: int) -> None:
        if order.type in ("LIMIT", "LIMIT_MAKER"):
            order.working_time = now  # in the book from the start
        self.journal.order(order, "NEW", now)

    def _note_balances(self, order: Order) -> None:
        spec = self.market.specs[order.symbol]
        self.journal.balances(order.account_id, spec.base, spec.quote)

    def _lock(self, account: Account, order: Order, amount: Decimal) -> None:
        balance = account.balance(order.lock_asset)
        if amount > balance.free:
            raise errors.new_order_rejected(errors.INSUFFICIENT_BALANCE)
        balance.free -= amount
        balance.locked += amount
        order.locked += amount

    def _activate(self, order: Order, book: SyntheticBook, now: int, last: Decimal) -> list[Fill]:
        if order.type == "MARKET":
            order.working_time = now
            fills = self._take(order, book, None, now)
            if order.quote_order_qty > 0:
                # A quote-quantity order reports what it bought as its quantity.
                order.orig_qty = order.executed_qty
                done = bool(fills) and self._quote_target_met(order, book)
            else:
                done = order.remaining <= 0
            if done:
                self._close(order, "FILLED", now)
            else:
                self._close(order, "EXPIRED", now, "INSUFFICIENT_LIQUIDITY")
            return fills
        if order.type in STOP_TYPES and not order.triggered:
            if order.trailing_delta is not None and order.stop_price == 0:
                order.trail_active = True
                order.trail_extreme = last
                order.trailing_time = now
            return []
        return self._work_limit(order, book, now)

    def _quote_target_met(self, order: Order, book: SyntheticBook) -> bool:
        """A quote-quantity market order is done when one more step would overshoot."""
        spec = self.market.specs[order.symbol]
        left = order.quote_order_qty - order.cumm_quote
        reference = book.best_ask if order.side == "BUY" else book.best_bid
        return left < reference * spec.step_size * 2 or left <= 0

    def _work_limit(self, order: Order, book: SyntheticBook, now: int) -> list[Fill]:
        order.working_time = now
        tif = order.time_in_force or "GTC"
        if tif == "FOK" and self._available(order, book) < order.remaining:
            self._close(order, "EXPIRED", now, "UNFILLED_FOK_ORDER_EXPIRED")
            return []
        fills = self._take(order, book, order.price, now)
        if order.remaining <= 0:
            self._close(order, "FILLED", now)
        elif tif in ("IOC", "FOK"):
            self._close(order, "EXPIRED", now, "UNFILLED_IOC_QUANTITY_EXPIRED")
        return fills

    def _available(self, order: Order, book: SyntheticBook) -> Decimal:
        total = ZERO
        for level in book.opposite(order.side):
            if not self._crosses(order.side, level.price, order.price):
                break
            total += level.qty
            if total >= order.remaining:
                break
        return total

    @staticmethod
    def _crosses(side: str, level_price: Decimal, limit: Decimal | None) -> bool:
        if limit is None:
            return True
        return level_price <= limit if side == "BUY" else level_price >= limit

    def _take(
        self, order: Order, book: SyntheticBook, limit: Decimal | None, now: int
    ) -> list[Fill]:
        """Walk the book as a taker (slippage), best price first."""
        fills = []
        for level in book.opposite(order.side):
            if not self._crosses(order.side, level.price, limit):
                break
            qty = self._fillable(order, level.price, level.qty)
            if qty <= 0:
                break
            fills.append(self._fill(order, level.price, qty, is_maker=False, now=now))
            if order.quote_order_qty == 0 and order.remaining <= 0:
                break
        return fills

    def _fillable(self, order: Order, price: Decimal, available: Decimal) -> Decimal:
        """How much of ``available`` this order can take at ``price`` (step, funds, target)."""
        step = self.market.specs[order.symbol].step_size
        if order.quote_order_qty > 0:
            left = order.quote_order_qty - order.cumm_quote
            want = floor_to(left / price, step)
        else:
            want = order.remaining
        qty = floor_to(min(want, available), step)
        if order.side == "SELL":
            return max(ZERO, min(qty, floor_to(order.locked, step)))
        budget = order.cumm_quote + order.locked
        while qty > 0 and money_up(order.exact_quote + price * qty) > budget:
            qty = floor_to((budget - order.exact_quote) / price, step)
            if money_up(order.exact_quote + price * qty) > budget:
                qty -= step
        return max(qty, ZERO)

    def _fill(self, order: Order, price: Decimal, qty: Decimal, is_maker: bool, now: int) -> Fill:
        spec = self.market.specs[order.symbol]
        account = self.store.accounts[order.account_id]
        rate = account.maker_commission if is_maker else account.taker_commission
        exact = order.exact_quote + price * qty
        if order.side == "BUY":
            quote_amount = money_up(exact) - money_up(order.exact_quote)
            self._spend_locked(account, order, quote_amount)
            commission = min(money_up(qty * rate), qty)
            account.balance(spec.base).free += qty - commission
            commission_asset = spec.base
        else:
            quote_amount = money_down(exact) - money_down(order.exact_quote)
            self._spend_locked(account, order, qty)
            commission = min(money_up(quote_amount * rate), quote_amount)
            account.balance(spec.quote).free += quote_amount - commission
            commission_asset = spec.quote
        order.exact_quote = exact
        order.cumm_quote += quote_amount
        order.executed_qty += qty
        order.update_time = now
        order.status = "PARTIALLY_FILLED"
        account.update_time = now
        if not order.had_fill:
            order.had_fill = True
            self.on_first_fill(order.account_id)
        fill = Fill(
            symbol=order.symbol,
            trade_id=self.store.new_trade_id(order.symbol),
            order_id=order.order_id,
            order_list_id=order.order_list_id,
            account_id=order.account_id,
            price=price,
            qty=qty,
            quote_qty=quote_amount,
            commission=commission,
            commission_asset=commission_asset,
            time=now,
            is_buyer=order.side == "BUY",
            is_maker=is_maker,
        )
        self.store.add_fill(fill)
        self.journal.order(order, "TRADE", now, fill=fill)
        self._note_balances(order)
        if order.order_list_id != -1:
            self._expire_siblings(order, now)
        return fill

    @staticmethod
    def _spend_locked(account: Account, order: Order, amount: Decimal) -> None:
        if amount > order.locked:
            raise AssertionError(f"order {order.order_id} would overspend its reservation")
        balance = account.balance(order.lock_asset)
        balance.locked -= amount
        order.locked -= amount

    def _close(
        self,
        order: Order,
        status: str,
        now: int,
        reason: str | None = None,
        cancel_client_id: str | None = None,
    ) -> None:
        account = self.store.accounts[order.account_id]
        if order.locked > 0:
            balance = account.balance(order.lock_asset)
            balance.locked -= order.locked
            balance.free += order.locked
            order.locked = ZERO
        order.status = status
        order.update_time = now
        if status == "EXPIRED":
            order.expiry_reason = reason
        self.store.order_closed(order)
        self._note_balances(order)
        if not (status == "FILLED" and self.journal.filled(order)):
            self.journal.order(order, status, now, cancel_client_id=cancel_client_id)
        if order.order_list_id != -1:
            self._update_list(order.order_list_id, now)

    # -- the tape ----------------------------------------------------------------------

    def _replay(self, symbol: str, points) -> None:
        """Run tape trades past the symbol's open orders, oldest first."""
        stops, buys, sells = self._watch_lists(symbol)
        for point in points:
            if stops:
                fired = False
                for order in stops:
                    if order.is_open and not order.triggered and self._should_trigger(order, point):
                        self._trigger(order, point)
                        fired = True
                if fired:  # triggered stop limits may now rest in the book
                    stops, buys, sells = self._watch_lists(symbol)
            available = point.qty
            for resting in (buys, sells):
                available = self._fill_resting(resting, point, available)
            if not (stops or any(o.is_open for o in buys) or any(o.is_open for o in sells)):
                return

    def on_tape(self, symbol: str, point: TapePoint) -> None:
        self._replay(symbol, [point])

    def _watch_lists(self, symbol: str) -> tuple[list[Order], list[Order], list[Order]]:
        """Pending stops by age; resting buys best (highest) first, sells lowest first."""
        orders = sorted(self.store.open_orders[symbol].values(), key=lambda o: o.sequence)
        stops = [o for o in orders if o.type in STOP_TYPES and not o.triggered]
        buys = sorted(
            (o for o in orders if o.is_working and o.side == "BUY"), key=lambda o: -o.price
        )
        sells = sorted(
            (o for o in orders if o.is_working and o.side == "SELL"), key=lambda o: o.price
        )
        return stops, buys, sells

    def _fill_resting(self, resting: list[Order], point: TapePoint, available: Decimal) -> Decimal:
        """Maker fills at each order's own price, sharing the trade's quantity in
        price-time priority; stops at the first order the trade does not reach."""
        for order in resting:
            if available <= 0 or not self._crosses(order.side, point.price, order.price):
                break
            if not order.is_open:
                continue
            if order.order_list_id != -1:
                self._expire_siblings(order, point.time)
            qty = self._fillable(order, order.price, available)
            if qty <= 0:
                continue
            self._fill(order, order.price, qty, is_maker=True, now=point.time)
            available -= qty
            if order.remaining <= 0 and order.is_open:
                self._close(order, "FILLED", point.time)
        return available

    def _should_trigger(self, order: Order, point: TapePoint) -> bool:
        price = point.price
        if order.trailing_delta is None:
            return stop_condition(order.type, order.side, order.stop_price, price)
        if not order.trail_active:
            if stop_condition(order.type, order.side, order.stop_price, price):
                order.trail_active = True
                order.trail_extreme = price
                order.trailing_time = point.time
            return False
        delta = Decimal(order.trailing_delta) / BIPS
        if order.side == "SELL":
            order.trail_extreme = max(order.trail_extreme, price)
            return price <= order.trail_extreme * (1 - delta)
        order.trail_extreme = min(order.trail_extreme, price)
        return price >= order.trail_extreme * (1 + delta)

    def _trigger(self, order: Order, point: TapePoint) -> None:
        order.triggered = True
        order.working_time = point.time
        if order.order_list_id != -1:
            self._expire_siblings(order, point.time)
        book = self.book(order.symbol, point.time, price=point.price)
        if order.type in ("STOP_LOSS", "TAKE_PROFIT"):
            if order.side == "BUY":
                # The reservation was made at the stop price; the market may cost more.
                account = self.store.accounts[order.account_id]
                extra = account.balance(order.lock_asset).free
                if extra > 0:
                    self._lock(account, order, extra)
            self._take(order, book, None, point.time)
            if order.remaining <= 0:
                self._close(order, "FILLED", point.time)
            else:
                self._close(order, "EXPIRED", point.time, "INSUFFICIENT_LIQUIDITY")
            return
        self._work_limit(order, book, point.time)

    # -- order lists --------------------------------------------------------------------

    def place_oco(
        self, account: Account, request: OcoRequest, last: Decimal | None = None
    ) -> tuple[OrderList, list[Order]]:
        symbol = request.symbol
        now = self.now()
        for leg in (request.above, request.below):
            self.check_new(account, leg, extra_orders=2)
        if request.above.new_client_order_id and (
            request.above.new_client_order_id == request.below.new_client_order_id
        ):
            raise errors.new_order_rejected(errors.DUPLICATE_ORDER)
        self._check_list_client_id(account, request.list_client_order_id)
        last = self.market.last_price(symbol, now) if last is None else last
        book = self.book(symbol, now)
        if not (self._leg_reference(request.above) > last > self._leg_reference(request.below)):
            raise errors.new_order_rejected(errors.OCO_PRICE_RELATIONSHIP)
        for leg in (request.above, request.below):
            if leg.type == "LIMIT_MAKER" and self._would_take(leg.side, leg.price, book):
                raise errors.new_order_rejected(errors.WOULD_TAKE)
        # Stop leg first, as Binance lists them.
        legs = sorted(
            (request.above, request.below),
            key=lambda leg: 0 if leg.type.startswith("STOP_LOSS") else 1,
        )
        needs = [self.required_lock(leg, book, last) for leg in legs]
        lock_asset = needs[0][0]
        lock_amount = max(amount for _, amount in needs)
        if account.balance(lock_asset).free < lock_amount:
            raise errors.new_order_rejected(errors.INSUFFICIENT_BALANCE)
        order_list = OrderList(
            order_list_id=self.store.new_list_id(),
            symbol=symbol,
            account_id=account.account_id,
            list_client_order_id=request.list_client_order_id or random_client_id(),
            transaction_time=now,
        )
        orders = []
        for index, leg in enumerate(legs):
            amount = lock_amount if index == 0 else ZERO
            order = self._new_order(
                account, leg, now, lock_asset, amount, order_list_id=order_list.order_list_id
            )
            orders.append(order)
        order_list.order_ids = [order.order_id for order in orders]
        self.store.order_lists[order_list.order_list_id] = order_list
        self.journal.order_list(order_list, orders, now)
        for order in orders:
            self._report_new(order, now)
        for order in orders:
            if order.type == "LIMIT_MAKER":
                order.working_time = now
            else:
                self._activate(order, book, now, last)
        return order_list, orders

    def _check_list_client_id(self, account: Account, list_client_id: str | None) -> None:
        if not list_client_id:
            return
        for order_list in self.store.order_lists.values():
            if (
                order_list.account_id == account.account_id
                and order_list.is_open
                and order_list.list_client_order_id == list_client_id
            ):
                raise errors.new_order_rejected(errors.DUPLICATE_ORDER)

    @staticmethod
    def _leg_reference(leg: OrderRequest) -> Decimal:
        if leg.type == "LIMIT_MAKER":
            return leg.price
        if leg.stop_price is not None:
            return leg.stop_price
        return leg.price if leg.price is not None else ZERO

    def list_orders(self, order_list: OrderList) -> list[Order]:
        return [self.store.orders[order_list.symbol][oid] for oid in order_list.order_ids]

    def _expire_siblings(self, order: Order, now: int) -> None:
        """One leg of an OCO went live: the other expires and hands over its reservation."""
        order_list = self.store.order_lists.get(order.order_list_id)
        if order_list is None:
            return
        for sibling in self.list_orders(order_list):
            if sibling.order_id == order.order_id or not sibling.is_open:
                continue
            if sibling.locked > 0 and sibling.lock_asset == order.lock_asset:
                order.locked += sibling.locked
                sibling.locked = ZERO
            self._close(sibling, "EXPIRED", now, "OCO_TRIGGER")

    def _update_list(self, order_list_id: int, now: int) -> None:
        order_list = self.store.order_lists.get(order_list_id)
        if order_list is None or not order_list.is_open:
            return
        orders = self.list_orders(order_list)
        if all(not order.is_open for order in orders):
            order_list.list_status_type = "ALL_DONE"
            order_list.list_order_status = "ALL_DONE"
            order_list.transaction_time = now
            self.journal.order_list(order_list, orders, now)

    # -- cancelling and finding ----------------------------------------------------------

    def find_order(
        self,
        account: Account,
        symbol: str,
        order_id: int | None,
        client_id: str | None,
        for_cancel: bool = False,
    ) -> Order:
        def missing() -> errors.ApiError:
            return errors.cancel_rejected() if for_cancel else errors.no_such_order()

        orders = self.store.orders[symbol]
        if order_id is not None:
            order = orders.get(order_id)
            if order is None or order.account_id != account.account_id:
                raise missing()
            if client_id is not None and order.client_order_id != client_id:
                raise errors.cancel_rejected() if for_cancel else errors.client_order_id_mismatch()
            return order
        matches = [
            order
            for order in orders.values()
            if order.account_id == account.account_id and order.client_order_id == client_id
        ]
        if not matches:
            raise missing()
        open_matches = [order for order in matches if order.is_open]
        return (open_matches or matches)[-1]

    def cancel(
        self,
        account: Account,
        symbol: str,
        order_id: int | None,
        client_id: str | None,
        restrictions: str | None = None,
        cancel_client_id: str | None = None,
    ) -> Order:
        order = self.find_order(account, symbol, order_id, client_id, for_cancel=True)
        if not order.is_open:
            raise errors.cancel_rejected()
        if restrictions == "ONLY_NEW" and order.status != "NEW":
            raise errors.cancel_rejected(errors.CANCEL_RESTRICTED)
        if restrictions == "ONLY_PARTIALLY_FILLED" and order.status != "PARTIALLY_FILLED":
            raise errors.cancel_rejected(errors.CANCEL_RESTRICTED)
        now = self.now()
        if order.order_list_id != -1:
            self.cancel_list(account, self.store.order_lists[order.order_list_id], cancel_client_id)
            return order
        self._close(order, "CANCELED", now, cancel_client_id=cancel_client_id)
        return order

    def cancel_list(
        self, account: Account, order_list: OrderList, cancel_client_id: str | None = None
    ) -> list[Order]:
        if order_list.account_id != account.account_id or not order_list.is_open:
            raise errors.cancel_rejected()
        now = self.now()
        orders = self.list_orders(order_list)
        for order in orders:
            if order.is_open:
                self._close(order, "CANCELED", now, cancel_client_id=cancel_client_id)
        if order_list.is_open:
            order_list.list_status_type = "ALL_DONE"
            order_list.list_order_status = "ALL_DONE"
            order_list.transaction_time = now
            self.journal.order_list(order_list, orders, now)
        return orders
