"""The paper exchange's own state store: in memory, saved to a JSON file when given one.

It never touches the platform's database. Writes go to a temporary file that replaces
the old one, so a crash mid-save leaves the previous state intact.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import defaultdict
from pathlib import Path

from apps.paper_exchange.engine.models import Account, ApiKey, Fill, Order, OrderList

logger = logging.getLogger(__name__)
STATE_VERSION = 1


class Store:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else None
        self.accounts: dict[int, Account] = {}
        self.keys: dict[str, ApiKey] = {}
        self.orders: dict[str, dict[int, Order]] = defaultdict(dict)
        self.open_orders: dict[str, dict[int, Order]] = defaultdict(dict)
        self.fills: dict[tuple[int, str], list[Fill]] = defaultdict(list)
        self.order_lists: dict[int, OrderList] = {}
        self.next_order_id: dict[str, int] = defaultdict(lambda: 1)
        self.next_trade_id: dict[str, int] = defaultdict(lambda: 1)
        self.next_list_id = 1
        self.next_account_id = 1
        self.sequence = 0
        self.dirty = False

    # -- ids ---------------------------------------------------------------------------

    def new_order_id(self, symbol: str) -> int:
        value = self.next_order_id[symbol]
        self.next_order_id[symbol] = value + 1
        return value

    def new_trade_id(self, symbol: str) -> int:
        value = self.next_trade_id[symbol]
        self.next_trade_id[symbol] = value + 1
        return value

    def new_list_id(self) -> int:
        value = self.next_list_id
        self.next_list_id += 1
        return value

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    # -- accounts and keys ------------------------------------------------------------

    def new_account(self) -> Account:
        account = Account(account_id=self.next_account_id)
        self.accounts[account.account_id] = account
        self.next_account_id += 1
        self.dirty = True
        return account

    def add_key(self, key: ApiKey) -> None:
        self.keys[key.api_key] = key
        self.dirty = True

    # -- orders -------------------------------------------------------------------------

    def add_order(self, order: Order) -> None:
        self.orders[order.symbol][order.order_id] = order
        if order.is_open:
            self.open_orders[order.symbol][order.order_id] = order
        self.dirty = True

    def order_closed(self, order: Order) -> None:
        self.open_orders[order.symbol].pop(order.order_id, None)
        self.dirty = True

    def account_open_orders(self, account_id: int, symbol: str | None = None) -> list[Order]:
        symbols = [symbol] if symbol else list(self.open_orders)
        found = []
        for name in symbols:
            found.extend(
                order for order in self.open_orders[name].values() if order.account_id == account_id
            )
        found.sort(key=lambda order: (order.symbol, order.order_id))
        return found

    def add_fill(self, fill: Fill) -> None:
        self.fills[(fill.account_id, fill.symbol)].append(fill)
        self.dirty = True

    # -- persistence -----------------------------------------------------------------

    def snapshot(self) -> dict:
        return {
            "version": STATE_VERSION,
            "accounts": [account.to_dict() for account in self.accounts.values()],
            "keys": [key.to_dict() for key in self.keys.values()],
            "orders": [
                order.to_dict() for orders in self.orders.values() for order in orders.values()
            ],
            "fills": [fill.to_dict() for fills in self.fills.values() for fill in fills],
            "order_lists": [item.to_dict() for item in self.order_lists.values()],
            "next_order_id": dict(self.next_order_id),
            "next_trade_id": dict(self.next_trade_id),
            "next_list_id": self.next_list_id,
            "next_account_id": self.next_account_id,
            "sequence": self.sequence,
        }

    def restore(self, data: dict) -> None:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported state file version {data.get('version')!r}")
        for item in data["accounts"]:
            account = Account.from_dict(item)
            self.accounts[account.account_id] = account
        for item in data["keys"]:
            key = ApiKey.from_dict(item)
            self.keys[key.api_key] = key
        for item in data["orders"]:
            self.add_order(Order.from_dict(item))
        for item in data["fills"]:
            self.add_fill(Fill.from_dict(item))
        for item in data["order_lists"]:
            order_list = OrderList.from_dict(item)
            self.order_lists[order_list.order_list_id] = order_list
        self.next_order_id.update(data["next_order_id"])
        self.next_trade_id.update(data["next_trade_id"])
        self.next_list_id = data["next_list_id"]
        self.next_account_id = data["next_account_id"]
        self.sequence = data["sequence"]
        self.dirty = False

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".paper-state-", dir=self.path.parent)
        with os.fdopen(handle, "w") as stream:
            json.dump(self.snapshot(), stream)
        os.replace(temporary, self.path)
        self.dirty = False

    def load(self) -> bool:
        if self.path is None or not self.path.exists():
            return False
        try:
            self.restore(json.loads(self.path.read_text()))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"state file {self.path} cannot be read ({error}); move it away to start afresh"
            ) from None
        logger.info("paper exchange: state loaded from %s", self.path)
        return True
