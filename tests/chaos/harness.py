"""The soak's run: market minutes replayed through the paper exchange's test clock while
the schedule's faults are injected and its processes killed and restarted; then the
recovery (faults off, reconciliation) and the invariants table."""

from __future__ import annotations

import bisect
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from apps.accounts.models import AccountStatus
from apps.core.redis import get_redis
from apps.exchange.errors import CircuitOpenError
from apps.exchange.for_account import gateway_for_account
from apps.strategies.models import StrategyConfig
from apps.trading import invariants
from apps.trading.cycle.fanout import subscribed_groups
from apps.trading.locks import AccountBusy
from apps.trading.models import Decision, Fill, Order, Position
from apps.trading.reconciliation import run_reconciliation

from .schedule import MAINTENANCE_SECONDS, Schedule, SoakSize, rules_for
from .world import INTERVAL, SYMBOL, World, scripted_closes

MINUTE_MS = 60_000
STEP_EVERY = 3.0  # wall seconds between market seconds while a candle is decided
HEARTBEATS = ("spotdesk:heartbeat:streams:paper:0", "spotdesk:heartbeat:userdata:paper:0")
# A cycle that must leave every position protected: processes up, no fault that stops
# orders from reaching the exchange (latency only slows them).
HARMLESS_FAULTS = {"latency"}


@dataclass
class SoakReport:
    size: SoakSize
    wall_seconds: float = 0.0
    faults: Counter = field(default_factory=Counter)
    kills: Counter = field(default_factory=Counter)
    late_minutes: int = 0
    protection_samples: int = 0
    orders_by_minute: dict = field(default_factory=dict)
    totals_left_out: int = 0
    expected_decisions: int = 0
    totals: dict = field(default_factory=dict)
    violations: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())

    def table(self) -> str:
        lines = [f"{'invariant':<64} {'violations':>10}  example", "-" * 100]
        for name, rows in self.violations.items():
            example = str(rows[0])[:60] if rows else ""
            lines.append(f"{name:<64} {len(rows):>10}  {example}")
        return "\n".join(lines)

    def summary(self) -> str:
        size = self.size
        return "\n".join([
            f"soak seed={size.seed}: {size.accounts} accounts x {size.strategies} strategies, "
            f"{size.minutes} market minutes in {self.wall_seconds:.0f} s wall",
            "faults: " + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())),
            "kills (SIGKILL): " + ", ".join(f"{k} {v}" for k, v in sorted(self.kills.items())),
            f"minutes not fully decided before the next one: {self.late_minutes}",
            f"protection sampled after {self.protection_samples} clean cycles",
            f"(config, candle) pairs left out by the fan-out (account halted or paused, "
            f"holding nothing): {self.totals_left_out}",
            "orders created per soak minute: "
            + ", ".join(f"{m}: {n}" for m, n in sorted(self.orders_by_minute.items())),
            "totals: " + ", ".join(f"{k} {v}" for k, v in self.totals.items()),
            self.table(),
        ])  # fmt: skip


class Soak:
    def __init__(self, *, world: World, fleet, admin, size: SoakSize, schedule: Schedule,
                 minute_timeout: float = 60.0):  # fmt: skip
        self.world, self.fleet, self.admin = world, fleet, admin
        self.size, self.schedule, self.minute_timeout = size, schedule, minute_timeout
        self.report = SoakReport(size)
        self.opens: list[int] = []
        self.subscribed: dict[int, list[int]] = {}  # candle open (ms) -> configs reached
        self.unprotected_streaks: list[dict] = []
        self._unprotected: set[int] = set()
        self._minute_starts: list[datetime] = []  # wall clock, when each minute's faults went on
        self._into_minute, self._last_step = 0, time.monotonic()

    # -- the exchange's admin API ----------------------------------------------------------

    def _admin(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self.admin.session.request(
            method, f"{self.admin.url}{path}", json=body, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def _set_faults(self, kinds: tuple[str, ...]) -> list[dict]:
        self._admin("DELETE", "/admin/faults")
        rules = rules_for(kinds)
        body: dict = {"seed": f"{self.size.seed}:{len(self.opens)}", "rules": rules}
        if "maintenance" in kinds:
            body["maintenanceSeconds"] = MAINTENANCE_SECONDS
            self.report.faults["maintenance (windows)"] += 1
        self._admin("POST", "/admin/faults", body)
        if "stream_drop" in kinds:
            dropped = self._admin("POST", "/admin/streams", {"action": "drop", "target": "all"})
            self.report.faults["stream_drop (connections)"] += (
                dropped["connections"] + dropped["sessions"]
            )
        return rules

    def _count_hits(self, rules: list[dict]) -> None:
        if not rules:
            return
        left = self._admin("GET", "/admin/faults")["rules"]
        for sent, now in zip(rules, left, strict=True):
            self.report.faults[sent["kind"]] += sent["count"] - (now["count"] or 0)

    # -- the run ------------------------------------------------------------------------------

    def start(self) -> None:
        for name, marker in (("worker", "ready."), ("beat", "beat: Starting")):
            self.fleet.start(name)
            self.fleet.wait_ready(name, marker)
        self.fleet.start("streams")
        redis = get_redis()
        deadline = time.monotonic() + 120
        while not all(redis.exists(key) for key in HEARTBEATS):
            if time.monotonic() > deadline or not self.fleet.is_up("streams"):
                raise RuntimeError(f"streams did not start:\n{self.fleet.output('streams')}")
            time.sleep(0.5)
        price = Decimal(
            gateway_for_account(self.world.accounts[0]).request(
                "GET", "/api/v3/ticker/price", {"symbol": SYMBOL}
            )["price"]
        )
        closes, volumes = scripted_closes(price, self.size.minutes + 1)
        self._admin("POST", "/admin/market", {"symbol": SYMBOL, "closes": closes,
                                               "volumes": volumes})  # fmt: skip

    def run(self) -> SoakReport:
        started = time.monotonic()
        market_ms = self._admin("GET", "/admin/clock")["marketTime"]
        first_open = market_ms // MINUTE_MS * MINUTE_MS
        self._into_minute = market_ms - first_open
        for minute in range(self.size.minutes):
            self._minute_starts.append(datetime.now(tz=UTC))
            rules = self._set_faults(self.schedule.faults_at(minute))
            self._advance(MINUTE_MS - self._into_minute)  # the candle closes
            self._into_minute = 0
            self.opens.append(first_open + minute * MINUTE_MS)
            self._subscribe(self.opens[-1])
            self._kills_and_restarts(minute)
            decided = self._wait_for_decisions(self.opens[-1])
            self._count_hits(rules)
            self._sample_protection(minute, clean=decided and self._undisturbed(minute))
        self._admin("DELETE", "/admin/faults")
        for name in ("worker", "beat", "streams"):
            self.fleet.start(name)  # anything still down comes back for the recovery
        self._settle()
        self.report.wall_seconds = time.monotonic() - started
        self.report.kills = Counter(self.fleet.kills)
        return self.report

    def _kills_and_restarts(self, minute: int) -> None:
        steps = [(kill.after, "kill", kill.process) for kill in self.schedule.kills_at(minute)]
        steps += [(kill.after + kill.down_seconds, "start", kill.process)
                  for kill in self.schedule.kills_at(minute) if kill.down_minutes == 0]  # fmt: skip
        later = [kill for kill in self.schedule.restarts_at(minute) if kill.down_minutes > 0]
        steps += [(kill.down_seconds, "start", kill.process) for kill in later]
        began = time.monotonic()
        for offset, action, process in sorted(steps):
            time.sleep(max(0.0, began + offset - time.monotonic()))
            getattr(self.fleet, action)(process)

    def _undisturbed(self, minute: int) -> bool:
        schedule = self.schedule
        return not (
            set(schedule.faults_at(minute)) - HARMLESS_FAULTS
            or schedule.kills_at(minute)
            or schedule.restarts_at(minute)
        )

    def _sample_protection(self, minute: int, *, clean: bool) -> None:
        """After every minute: the open positions without a resting stop. One seen so
        at the end of a minute and still so after a clean cycle (everything up, no
        order-stopping fault) stayed unprotected for more than one cycle. A second
        look a moment later spares a stop caught between cancel and replace."""
        now_ms = self._admin("GET", "/admin/clock")["marketTime"]
        now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
        ids = self.world.config_ids
        unprotected = invariants.positions_without_a_resting_stop(ids, opened_before=now)
        if clean:
            self.report.protection_samples += 1
            suspects = unprotected & self._unprotected
            if suspects:
                time.sleep(2.0)
                suspects &= invariants.positions_without_a_resting_stop(ids, opened_before=now)
            self.unprotected_streaks += [
                {"position": pk, "minute": minute} for pk in sorted(suspects)
            ]
        self._unprotected = unprotected

    def _subscribe(self, open_ms: int) -> None:
        """The configs this candle's close reaches: what the fan-out selects (an
        account halted or paused by a risk rule or a person, holding nothing, is out
        by design; its status records why)."""
        groups = subscribed_groups(environment="paper", symbol=SYMBOL, interval=INTERVAL)
        reached = {pk for pks in groups.values() for pk in pks}
        self.subscribed[open_ms] = [pk for pk in self.world.config_ids if pk in reached]

    def _all_decided(self, open_ms: int) -> bool:
        expected = self.subscribed[open_ms]
        opened = datetime.fromtimestamp(open_ms / 1000, tz=UTC)
        decided = (
            Decision.objects.filter(strategy_config_id__in=expected, candle_open_time=opened)
            .values("strategy_config_id")
            .distinct()
            .count()
        )
        return decided >= len(expected)

    def _advance(self, ms: int) -> None:
        self._admin("POST", "/admin/clock/advance", {"ms": ms})
        self._last_step = time.monotonic()

    def _wait_for_decisions(self, open_ms: int) -> bool:
        """Until every config decided this candle (the pace of the replay), unless a
        process that must carry it is down: the market does not wait for a dead worker.
        Meanwhile market time keeps moving within the next minute (a second every
        STEP_EVERY seconds, never up to its close), as a live market would: a stream
        that hears nothing for half a minute is taken for stalled. True when every
        config decided in time."""
        deadline = time.monotonic() + self.minute_timeout
        while self.fleet.is_up("worker") and self.fleet.is_up("streams"):
            if self._all_decided(open_ms):
                return True
            if time.monotonic() > deadline:
                self.report.late_minutes += 1
                return False
            if time.monotonic() - self._last_step > STEP_EVERY and self._into_minute < 50_000:
                self._advance(1000)
                self._into_minute += 1000
            time.sleep(0.2)
        return False

    def _settle(self, timeout: float = 240.0) -> None:
        """Every candle decided (or the time is up), then every account reconciled
        twice, as beat's timer would, with nothing in flight any more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._all_decided(o) for o in self.opens):
                break
            time.sleep(1.0)
        time.sleep(5)  # protective orders of the last fills, retried tasks
        for account in self.world.accounts:
            for _ in range(2):
                self._reconcile(account.pk)

    def _reconcile(self, account_id: int, attempts: int = 10) -> None:
        for _ in range(attempts):
            try:
                run_reconciliation(account_id, trigger="manual", unresolved_after=0)
                return
            except AccountBusy:
                time.sleep(1.0)
            except CircuitOpenError as error:
                # A maintenance window late in a short run leaves the breaker open for
                # its cool-down; beat's timer would run after it, so wait it out.
                time.sleep(min(max(error.retry_after or 1.0, 0.5), 60.0) + 0.5)
        raise RuntimeError(f"account {account_id} stayed busy or its circuit open")

    def _undecided_candles(self) -> list[dict]:
        rows = []
        for open_ms in self.opens:
            rows += invariants.candles_without_one_decision(
                self.subscribed[open_ms], symbol=SYMBOL, interval=INTERVAL,
                open_times_ms=[open_ms],
            )  # fmt: skip
        return rows

    def _unexplained_absences(self) -> list[dict]:
        """A config the fan-out left out must belong to an account that is not active
        now (halted or paused, with its reason on record): nothing else drops one."""
        left_out = Counter(
            pk for open_ms in self.opens for pk in set(self.world.config_ids)
            - set(self.subscribed[open_ms])
        )  # fmt: skip
        self.report.totals_left_out = sum(left_out.values())
        self.report.expected_decisions = sum(len(self.subscribed[o]) for o in self.opens)
        configs = StrategyConfig.objects.filter(pk__in=list(left_out)).select_related("account")
        return [
            {"config": config.pk, "account": config.account_id, "candles": left_out[config.pk],
             "status": config.account.status}
            for config in configs
            if config.account.status == AccountStatus.ACTIVE and config.enabled
        ]  # fmt: skip

    # -- the verdict ---------------------------------------------------------------------------

    def check(self) -> SoakReport:
        """Stop every process, read the exchange once per account, run the invariants."""
        self.fleet.stop_all()
        world, ids = self.world, self.world.config_ids
        last_open = datetime.fromtimestamp(self.opens[-1] / 1000, tz=UTC)
        views = [
            invariants.exchange_view(account, gateway=gateway_for_account(account),
                                     symbols=[SYMBOL])
            for account in world.accounts
        ]  # fmt: skip
        self.report.violations = {
            "duplicate orders": invariants.duplicate_orders(views, ids),
            "exchange fills missing from the database": invariants.missing_fills(views),
            "positions differing from their attributed fills":
                invariants.position_mismatches(ids),
            "balances differing from positions + reserve":
                invariants.balance_mismatches(views, world.funded, ["BTC", "USDT"]),
            # At the end by the exchange (older than the last candle: it and the
            # settling since are a cycle), and after every clean cycle by the records.
            "positions without a stop for more than one cycle":
                invariants.unprotected_positions(views, ids, opened_before=last_open)
                + self.unprotected_streaks,
            "audit chains broken": invariants.broken_audit_chains(world.organization_ids),
            "candle closes without exactly one decision per subscribed config":
                self._undecided_candles(),
            "configs left out of a candle without a recorded reason":
                self._unexplained_absences(),
        }  # fmt: skip
        created = Order.objects.filter(strategy_config_id__in=ids).values_list(
            "created_at", flat=True
        )
        self.report.orders_by_minute = dict(
            Counter(bisect.bisect_right(self._minute_starts, at) - 1 for at in created)
        )
        decisions = Decision.objects.filter(strategy_config_id__in=ids)
        signals = Counter(decisions.values_list("signal", "outcome"))
        self.report.totals = {
            "decisions": decisions.count(),
            "signals/outcomes": dict(
                sorted((f"{a}/{b or '-'}", n) for (a, b), n in signals.items())
            ),
            "failed attempts": dict(
                Counter(e[:70] for e in decisions.exclude(error="").values_list("error", flat=True))
            ),
            "risk rejections": dict(
                Counter(
                    verdict["rule"]
                    for record in decisions.filter(outcome="rejected").values_list(
                        "risk_verdict", flat=True
                    )
                    for verdict in record.get("verdicts", [])
                    if not verdict["passed"]
                )
            ),
            "orders": Order.objects.filter(strategy_config_id__in=ids).count(),
            "fills": Fill.objects.filter(order__strategy_config_id__in=ids).count(),
            "positions (open)": Position.objects.filter(
                strategy_config_id__in=ids, status="open"
            ).count(),
            "positions (closed)": Position.objects.filter(
                strategy_config_id__in=ids, status="closed"
            ).count(),
        }
        return self.report
