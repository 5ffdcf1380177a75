"""Who listens to which account's user data events (WebSocket API subscriptions)."""

from __future__ import annotations

import json
from collections import defaultdict

from apps.paper_exchange.engine.events import user_event_in_microseconds


class UserStreams:
    def __init__(self):
        # account id -> {(connection id, subscription id): connection}
        self._listeners: dict[int, dict[tuple[int, int], object]] = defaultdict(dict)

    def add(self, account_id: int, connection, subscription_id: int) -> None:
        self._listeners[account_id][(connection.id, subscription_id)] = connection

    def remove(self, account_id: int, connection, subscription_id: int) -> None:
        listeners = self._listeners.get(account_id)
        if listeners is not None:
            listeners.pop((connection.id, subscription_id), None)
            if not listeners:
                del self._listeners[account_id]

    def deliver(self, account_id: int, event: dict) -> None:
        listeners = self._listeners.get(account_id)
        if not listeners:
            return
        bodies: dict[bool, str] = {}
        for (_, subscription_id), connection in list(listeners.items()):
            body = bodies.get(connection.micro)
            if body is None:
                shaped = user_event_in_microseconds(event) if connection.micro else event
                body = bodies[connection.micro] = json.dumps(shaped, separators=(",", ":"))
            connection.send(f'{{"subscriptionId":{subscription_id},"event":{body}}}')

    def terminate(self, account_id: int, connection, subscription_id: int, now: int) -> None:
        """End a subscription with ``eventStreamTerminated`` (what unsubscribing sends)."""
        event = json.dumps(
            {"e": "eventStreamTerminated", "E": now * 1000 if connection.micro else now},
            separators=(",", ":"),
        )
        connection.send(f'{{"subscriptionId":{subscription_id},"event":{event}}}')
        self.remove(account_id, connection, subscription_id)
