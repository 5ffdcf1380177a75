"""Which market streams live on which combined connection, and the pace of changes.

Binance allows at most 1024 streams per connection and 5 incoming messages per
second per connection (SUBSCRIBE, UNSUBSCRIBE, pings). `StreamPlan` keeps a dynamic
set of streams packed on as few connections as the per-connection cap allows, and
`MessagePacer` spaces each connection's control messages.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

BINANCE_MAX_STREAMS_PER_CONNECTION = 1024
BINANCE_MAX_MESSAGES_PER_SECOND = 5


@dataclass
class StreamPlan:
    per_connection: int = 200
    connections: list[set[str]] = field(default_factory=list)

    def __post_init__(self):
        if not 1 <= self.per_connection <= BINANCE_MAX_STREAMS_PER_CONNECTION:
            raise ValueError("per_connection must be between 1 and 1024")

    def connection_of(self, stream: str) -> int | None:
        for index, streams in enumerate(self.connections):
            if stream in streams:
                return index
        return None

    def add(self, streams: list[str]) -> dict[int, list[str]]:
        """Place new streams (fullest connection with room first); returns, per
        connection index, the streams to SUBSCRIBE there (a new index: open it)."""
        changes: dict[int, list[str]] = {}
        for stream in streams:
            if self.connection_of(stream) is not None:
                continue
            candidates = [
                (len(s), i) for i, s in enumerate(self.connections) if len(s) < self.per_connection
            ]
            if candidates:
                index = max(candidates)[1]
            else:
                self.connections.append(set())
                index = len(self.connections) - 1
            self.connections[index].add(stream)
            changes.setdefault(index, []).append(stream)
        return changes

    def remove(self, streams: list[str]) -> dict[int, list[str]]:
        """Returns, per connection index, the streams to UNSUBSCRIBE there."""
        changes: dict[int, list[str]] = {}
        for stream in streams:
            index = self.connection_of(stream)
            if index is not None:
                self.connections[index].discard(stream)
                changes.setdefault(index, []).append(stream)
        return changes


def control_messages(method: str, streams: list[str], first_id: int, batch: int = 100) -> list:
    """SUBSCRIBE/UNSUBSCRIBE messages for `streams`, `batch` streams per message."""
    return [
        {"method": method, "params": streams[i : i + batch], "id": first_id + n}
        for n, i in enumerate(range(0, len(streams), batch))
    ]


class MessagePacer:
    """At most `limit` messages in any one-second span (per connection).

    Spans are counted a little longer than a second (`margin`): Binance counts by
    arrival, and network jitter can bunch messages that left evenly spaced.
    """

    def __init__(self, limit: int = BINANCE_MAX_MESSAGES_PER_SECOND, margin: float = 0.05):
        self.limit = limit
        self.span = 1.0 + margin
        self._sent: deque[float] = deque()

    def delay(self, now: float) -> float:
        while self._sent and now - self._sent[0] >= self.span:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        # The next message may go once the limit-th most recent one leaves the span.
        return max(0.0, self.span - (now - self._sent[-self.limit]))

    def record(self, now: float) -> None:
        self._sent.append(now)
