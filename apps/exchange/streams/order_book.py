"""A local order book kept in sync the way Binance documents it.

Procedure (Spot "How to manage a local order book correctly"):
1. buffer the diff-depth events (`U` first update id, `u` last update id);
2. take a REST snapshot (`lastUpdateId`);
3. drop buffered events with `u` <= lastUpdateId;
4. the first event applied must satisfy `U` <= lastUpdateId + 1 <= `u`;
5. after that each event's `U` must be the previous `u` + 1; anything else is a gap
   and the book resyncs from a new snapshot;
6. a level with quantity 0 is removed; quantities are absolute, not deltas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


@dataclass
class DepthEvent:
    first_update_id: int  # U
    final_update_id: int  # u
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]

    @classmethod
    def from_stream(cls, data: dict) -> DepthEvent:
        return cls(
            int(data["U"]),
            int(data["u"]),
            [(Decimal(p), Decimal(q)) for p, q in data.get("b", [])],
            [(Decimal(p), Decimal(q)) for p, q in data.get("a", [])],
        )


@dataclass
class LocalOrderBook:
    symbol: str
    max_buffer: int = 10_000
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    last_update_id: int | None = None  # None: not in sync, a snapshot is needed
    resyncs: int = 0
    _buffer: list[DepthEvent] = field(default_factory=list)

    @property
    def synced(self) -> bool:
        return self.last_update_id is not None

    def on_event(self, event: DepthEvent) -> bool:
        """Apply or buffer one diff event; False when a gap means a new snapshot is due."""
        if not self.synced:
            self._buffer.append(event)
            if len(self._buffer) > self.max_buffer:
                self._buffer.pop(0)
            return True
        if event.final_update_id <= self.last_update_id:
            return True  # already contained in what we have
        if event.first_update_id != self.last_update_id + 1:
            self._lose_sync()
            self._buffer.append(event)
            return False
        self._apply(event)
        return True

    def on_snapshot(self, snapshot: dict) -> bool:
        """Load a REST /api/v3/depth snapshot and replay the buffer; False: snapshot too
        old for the buffered events (take another one)."""
        last_id = int(snapshot["lastUpdateId"])
        pending = [e for e in self._buffer if e.final_update_id > last_id]
        if pending and not (pending[0].first_update_id <= last_id + 1):
            return False  # events between the snapshot and the buffer are missing
        self.bids = {Decimal(p): Decimal(q) for p, q in snapshot["bids"] if Decimal(q) != 0}
        self.asks = {Decimal(p): Decimal(q) for p, q in snapshot["asks"] if Decimal(q) != 0}
        self.last_update_id = last_id
        self._buffer = []
        for event in pending:
            if event.first_update_id > self.last_update_id + 1:
                self._lose_sync()
                self._buffer.append(event)
                return False
            self._apply(event)
        return True

    def _lose_sync(self) -> None:
        self.last_update_id = None
        self.resyncs += 1
        self._buffer = []

    def _apply(self, event: DepthEvent) -> None:
        for side, levels in ((self.bids, event.bids), (self.asks, event.asks)):
            for price, quantity in levels:
                if quantity == ZERO:
                    side.pop(price, None)
                else:
                    side[price] = quantity
        self.last_update_id = event.final_update_id

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        if not self.bids:
            return None
        price = max(self.bids)
        return price, self.bids[price]

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        if not self.asks:
            return None
        price = min(self.asks)
        return price, self.asks[price]
