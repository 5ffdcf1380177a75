"""WebSocket consumers of the live dashboard.

Protocol of `/ws/live/` (JSON messages; see docs/architecture.md, "Live updates"):

- server → client on connect: `hello`; then `heartbeat` and `ticker` messages.
- `{"type": "subscribe", "accounts": [ids], "organizations": [ids], "backtests": [ids],
  "batches": [ids]}` joins those groups if the user may view every one of them (else an
  `error`, nothing joined); answered by `subscribed` with each event group's latest
  sequence number (`seq`) and the backtest and batch ids joined (`backtests`,
  `batches`). Each backtest's and batch's current state is sent first, as a `backtest`
  or `batch` message.
- `{"type": "resume", "account": id, "after": seq}` (or `"organization": id`): joins
  the group if needed and sends the events numbered above `after`, oldest first, or a
  `resync` when they are no longer kept (reload the page's data).
- `{"type": "unsubscribe", "accounts": [...], "organizations": [...], "backtests": [...],
  "batches": [...]}`, `ping`.
- events: `{"type": "event", "seq", "group", "kind", "account", "organization",
  "ts_ms", "data"}`; `seq` grows by one per group, without gaps.
- backtests: `{"type": "backtest", "id", "status", "progress"}` on every change of a
  subscribed run (not numbered, no replay: subscribing again sends the current state).
- batches: `{"type": "batch", "id", "status", "progress"}` on every change of a
  subscribed batch's own status or progress (`advance_batch`), likewise; never one
  behind the last sent.
"""

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.accounts.models import ExchangeAccount, Organization
from apps.accounts.otp import otp_satisfied
from apps.accounts.roles import Action
from apps.backtest.models import Backtest, BacktestBatch
from apps.core.redis import get_redis
from apps.monitoring.metrics import LIVE_CONNECTIONS

from . import backtest_live, sequence
from .events import account_group, organization_group
from .live import HEARTBEAT_GROUP, market_groups, now_ms

# 4401 mirrors HTTP 401 in the application-defined close-code range (4000-4999).
CLOSE_UNAUTHENTICATED = 4401
# 4403 mirrors HTTP 403: logged in, but the session was not verified by a second factor.
CLOSE_OTP_REQUIRED = 4403
# More groups than any page shows; bounds the work one client can ask for.
MAX_SUBSCRIPTIONS = 200

_TARGETS = {
    "accounts": (ExchangeAccount, account_group),
    "organizations": (Organization, organization_group),
    "backtests": (Backtest, backtest_live.backtest_group),
    "batches": (BacktestBatch, backtest_live.batch_group),
}


@database_sync_to_async
def _second_factor_ok(user, session) -> bool:
    # Channels does not run django-otp's middleware: check the session ourselves.
    return session is not None and otp_satisfied(user, session)


_backtest_states = database_sync_to_async(backtest_live.current_states)
_batch_states = database_sync_to_async(backtest_live.current_batch_states)


@database_sync_to_async
def _visible(user, model, ids: list[int]) -> set[int]:
    return set(
        model.objects.for_user(user, Action.VIEW).filter(pk__in=ids).values_list("pk", flat=True)
    )


def _ids(value) -> list[int] | None:
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        return None
    return value


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """The live channel: heartbeats, tickers, and the events of the accounts and
    organizations the user subscribed to (checked against their roles)."""

    groups_joined: tuple[str, ...] = ()

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await _second_factor_ok(user, self.scope.get("session")):
            await self.close(code=CLOSE_OTP_REQUIRED)
            return
        groups = (HEARTBEAT_GROUP, *market_groups())
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups
        self.subscriptions: set[str] = set()
        self.last_seq: dict[str, int] = {}  # per group: the newest event sent
        # per backtest: the state sent on subscribing, until a newer one is pushed
        self.backtest_sent: dict[int, dict] = {}
        # per batch: the last state sent (a batch never goes back; see backtest_live)
        self.batch_sent: dict[int, dict] = {}
        await self.accept()
        LIVE_CONNECTIONS.inc()
        await self.send_json(
            {"type": "hello", "user": user.get_username(), "server_time_ms": now_ms()}
        )

    async def disconnect(self, code):
        for group in (*self.groups_joined, *getattr(self, "subscriptions", ())):
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.groups_joined:
            LIVE_CONNECTIONS.dec()

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        handler = {
            "ping": self._ping,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "resume": self._resume,
        }.get(kind)
        if handler is None:
            await self._error(
                "type", "must be one of ping, subscribe, unsubscribe, resume", "bad_request"
            )
            return
        await handler(content)

    async def _error(self, field: str, rule: str, code: str) -> None:
        await self.send_json({"type": "error", "code": code, "field": field, "rule": rule})

    async def _ping(self, content):
        await self.send_json({"type": "pong", "server_time_ms": now_ms()})

    async def _allowed_groups(self, content) -> list[str] | None:
        """The groups named in `content`, or None after telling the client why not.
        One id the user may not view refuses the whole request."""
        groups, named = [], []
        for field, (model, group_of) in _TARGETS.items():
            ids = _ids(content.get(field, []))
            if ids is None:
                await self._error(field, "must be a list of ids", "bad_request")
                return None
            if ids:
                named.append(field)
                refused = set(ids) - await _visible(self.scope["user"], model, ids)
                if refused:
                    await self._error(
                        field, f"not visible to you: {sorted(refused)}", "permission_denied"
                    )
                    return None
            groups.extend(group_of(i) for i in ids)
        if len(self.subscriptions | set(groups)) > MAX_SUBSCRIPTIONS:
            field = named[-1] if named else "accounts"  # the list that went over the limit
            await self._error(field, f"at most {MAX_SUBSCRIPTIONS} groups", "bad_request")
            return None
        return groups

    async def _join(self, group: str, after: int | None = None) -> sequence.Replay:
        """Listen on `group` and send what it numbered after `after` (default: its
        latest number before joining, so nothing published while joining is lost)."""
        redis = get_redis()
        if after is None:
            after = await sync_to_async(sequence.latest)(redis, group)
        if group not in self.subscriptions:
            await self.channel_layer.group_add(group, self.channel_name)
            self.subscriptions.add(group)
        replay = await sync_to_async(sequence.since)(redis, group, after)
        self.last_seq[group] = replay.latest if replay.resync else after
        for event in replay.events:
            await self._deliver(event)
        return replay

    async def _join_states(self, groups: list[str], id_of, read_states, sent: dict) -> list[int]:
        """Listen on the groups of runs (or batches), then send each one's current state
        (in this order, so a change made in between is not missed); their ids."""
        groups = list(dict.fromkeys(groups))  # each once, in the order asked
        for group in groups:
            if group not in self.subscriptions:
                await self.channel_layer.group_add(group, self.channel_name)
                self.subscriptions.add(group)
        ids = [id_of(group) for group in groups]
        for state in await read_states(self.scope["user"], ids):
            sent[state["id"]] = state
            await self.send_json(state)
        return ids

    async def _subscribe(self, content):
        groups = await self._allowed_groups(content)
        if groups is None:
            return
        if not groups:
            await self._error(
                "accounts",
                "name at least one account, organization, backtest or batch",
                "bad_request",
            )
            return
        latest = {}
        for group in groups:
            if not backtest_live.is_state_group(group):
                latest[group] = (await self._join(group)).latest
        backtests = await self._join_states(
            [group for group in groups if backtest_live.backtest_id_of(group) is not None],
            backtest_live.backtest_id_of,
            _backtest_states,
            self.backtest_sent,
        )
        batches = await self._join_states(
            [group for group in groups if backtest_live.batch_id_of(group) is not None],
            backtest_live.batch_id_of,
            _batch_states,
            self.batch_sent,
        )
        await self.send_json(
            {"type": "subscribed", "seq": latest, "backtests": backtests, "batches": batches}
        )

    async def _unsubscribe(self, content):
        groups = await self._allowed_groups(content)
        for group in groups or ():
            if group in self.subscriptions:
                await self.channel_layer.group_discard(group, self.channel_name)
                self.subscriptions.discard(group)
                self.last_seq.pop(group, None)
                self.backtest_sent.pop(backtest_live.backtest_id_of(group), None)
                self.batch_sent.pop(backtest_live.batch_id_of(group), None)
        if groups is not None:
            await self.send_json({"type": "unsubscribed", "groups": groups})

    async def _resume(self, content):
        after = content.get("after")
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            await self._error("after", "must be a sequence number >= 0", "bad_request")
            return
        keys = [key for key in ("account", "organization") if key in content]
        if len(keys) != 1:
            await self._error("account", "name one account or one organization", "bad_request")
            return
        key = keys[0]
        groups = await self._allowed_groups({f"{key}s": [content[key]]})
        if groups is None:
            return
        replay = await self._join(groups[0], after)
        if replay.resync:
            message = {"type": "resync", "group": groups[0], key: content[key]}
        else:
            message = {"type": "resumed", "group": groups[0]}
        await self.send_json(message | {"latest": replay.latest})

    async def _deliver(self, event: dict) -> None:
        group = event["group"]
        if event["seq"] <= self.last_seq.get(group, 0):
            return  # already sent by a replay
        self.last_seq[group] = event["seq"]
        await self.send_json({"type": "event", **event})

    async def live_event(self, message):
        if message["event"]["group"] in self.subscriptions:
            await self._deliver(message["event"])

    async def backtest_progress(self, message):
        """A run's progress (`apps.backtest.services.publish_progress`), forwarded unless
        the state sent on subscribing already covers it."""
        backtest_id = message["id"]
        if backtest_live.backtest_group(backtest_id) not in self.subscriptions:
            return  # sent before an unsubscribe took effect
        sent = self.backtest_sent.get(backtest_id)
        if sent is not None:
            if not backtest_live.is_ahead(message, sent):
                return
            del self.backtest_sent[backtest_id]  # from here on, messages arrive in order
        await self.send_json(
            backtest_live.client_message(backtest_id, message["status"], message["progress"])
        )

    async def batch_progress(self, message):
        """A batch's progress (`apps.backtest.services.publish_batch_progress`), forwarded
        when it is ahead of the last state sent for that batch."""
        batch_id = message["id"]
        if backtest_live.batch_group(batch_id) not in self.subscriptions:
            return  # sent before an unsubscribe took effect
        sent = self.batch_sent.get(batch_id)
        if sent is not None and not backtest_live.is_ahead(message, sent):
            return
        state = backtest_live.batch_message(batch_id, message["status"], message["progress"])
        self.batch_sent[batch_id] = state
        await self.send_json(state)

    async def market_ticker(self, event):
        # Market prices are public data: every signed-in member sees every symbol.
        await self.send_json(
            {key: event[key] for key in ("environment", "symbol", "price", "time_ms")}
            | {"type": "ticker"}
        )

    async def live_heartbeat(self, event):
        await self.send_json({"type": "heartbeat", "server_time_ms": event["server_time_ms"]})


# The name the routes used before events existed.
LiveHeartbeatConsumer = LiveConsumer
