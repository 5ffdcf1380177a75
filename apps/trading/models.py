"""Orders, fills, positions, round trips, cash flows, equity and decisions.

Everything belongs to an exchange account (and so to its organization) and is
scoped with `for_user`. Rows change only through `apps.trading.services`; the admin
shows them read-only. Prices are in the symbol's quote asset, values in the account's
valuation currency, all Decimal.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ExchangeAccount
from apps.accounts.scoping import OrganizationScopedQuerySet
from apps.core.models import MoneyField, TimeStampedModel
from apps.strategies.models import StrategyConfig

from .states import OrderStatus


class Intent(models.TextChoices):
    ENTRY = "entry", _("Entry")
    STOP = "stop", _("Stop")
    TAKE_PROFIT = "take_profit", _("Take-profit")
    EXIT = "exit", _("Exit")
    PYRAMID = "pyramid", _("Pyramid addition")


class OrderType(models.TextChoices):
    MARKET = "MARKET", _("Market")
    LIMIT = "LIMIT", _("Limit")
    LIMIT_MAKER = "LIMIT_MAKER", _("Limit maker")
    STOP_LOSS = "STOP_LOSS", _("Stop loss")
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT", _("Stop-loss limit")
    TAKE_PROFIT = "TAKE_PROFIT", _("Take profit")
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT", _("Take-profit limit")


class Side(models.TextChoices):
    BUY = "BUY", _("Buy")
    SELL = "SELL", _("Sell")


class ScopedModel(models.Model):
    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "account__organization"

    class Meta:
        abstract = True


class Position(ScopedModel, TimeStampedModel):
    """The base asset Spotdesk's own fills attribute to one (account, strategy config,
    symbol): one row per round trip, open until its quantity returns to zero."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        related_name="positions",
        verbose_name=_("account"),
        db_index=False,  # an index below leads with the account (docs/performance.md)
    )
    strategy_config = models.ForeignKey(
        StrategyConfig,
        models.PROTECT,
        related_name="positions",
        verbose_name=_("strategy configuration"),
    )
    symbol = models.CharField(_("symbol"), max_length=20)
    base_asset = models.CharField(_("base asset"), max_length=12)
    quote_asset = models.CharField(_("quote asset"), max_length=12)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    quantity = MoneyField(_("quantity"), default=0)
    cost_basis = MoneyField(_("cost basis"), default=0, help_text=_("In the quote asset."))
    average_entry_price = MoneyField(_("average entry price"), default=0)
    realized_pnl = MoneyField(_("realized PnL"), default=0, help_text=_("In the quote asset."))
    realized_pnl_value = MoneyField(_("realized PnL (valuation currency)"), default=0)
    fees_paid = MoneyField(_("fees paid"), default=0, help_text=_("In the quote asset."))
    bought_quantity = MoneyField(_("bought quantity"), default=0)
    sold_quantity = MoneyField(_("sold quantity"), default=0)
    dust_quantity = MoneyField(
        _("dust"),
        default=0,
        help_text=_("A remainder below the minimum notional, not in the position."),
    )
    dust_cost = MoneyField(_("dust cost"), default=0)
    carried_quantity = MoneyField(
        _("carried dust"), default=0, help_text=_("Dust of the previous round trip, merged in.")
    )
    carried_cost = MoneyField(_("carried dust cost"), default=0)
    # Exit management's state (apps.risk.engine.exits.PositionState).
    original_quantity = MoneyField(_("original quantity"), default=0)
    stop_price = MoneyField(_("stop price"), null=True, blank=True)
    highest_price = MoneyField(_("highest price"), null=True, blank=True)
    breakeven_done = models.BooleanField(_("break-even stop set"), default=False)
    ladder_done = models.PositiveSmallIntegerField(_("take-profit steps done"), default=0)
    additions = models.PositiveSmallIntegerField(_("pyramid additions"), default=0)
    # Protective orders on the exchange (apps.trading.protection).
    ladder_canceled = models.BooleanField(
        _("take-profit ladder canceled"),
        default=False,
        help_text=_("Only a stop protects the position; no take-profit orders are placed."),
    )
    protection_version = models.PositiveIntegerField(
        _("protection version"),
        default=0,
        help_text=_("Raised whenever protective orders are replaced; part of their client ids."),
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # Read by opened_at and id, never by creation time: no index (docs/performance.md).
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "strategy_config", "symbol"],
                condition=Q(status="open"),
                name="position_one_open_per_config_symbol",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="position_quantity_gte_0"),
        ]
        indexes = [
            models.Index(fields=["account", "status"], name="position_account_status"),
            # An account's positions newest first (the API and the dashboard list them
            # so): read from the top without sorting every position of the account.
            models.Index(fields=["account", "id"], name="position_account_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.quantity} ({self.get_status_display()})"


class Order(ScopedModel, TimeStampedModel):
    account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        related_name="orders",
        verbose_name=_("account"),
        db_index=False,  # an index below leads with the account (docs/performance.md)
    )
    strategy_config = models.ForeignKey(
        StrategyConfig,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("strategy configuration"),
    )
    position = models.ForeignKey(
        Position,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("position"),
    )
    # No database constraint: decisions live in a partitioned table whose key includes
    # its time, which a foreign key cannot reference.
    decision = models.ForeignKey(
        "Decision",
        models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        db_index=False,  # no query reads orders by decision (docs/performance.md)
        related_name="orders",
        verbose_name=_("decision"),
    )
    symbol = models.CharField(_("symbol"), max_length=20)
    client_order_id = models.CharField(_("client order id"), max_length=36)
    exchange_order_id = models.BigIntegerField(_("exchange order id"), null=True, blank=True)
    order_list_id = models.BigIntegerField(_("order list id"), null=True, blank=True)
    intent = models.CharField(_("intent"), max_length=12, choices=Intent.choices)
    order_type = models.CharField(_("type"), max_length=20, choices=OrderType.choices)
    side = models.CharField(_("side"), max_length=4, choices=Side.choices)
    time_in_force = models.CharField(_("time in force"), max_length=4, blank=True)
    quantity = MoneyField(_("quantity"))
    price = MoneyField(_("price"), null=True, blank=True)
    stop_price = MoneyField(_("stop price"), null=True, blank=True)
    executed_quantity = MoneyField(_("executed quantity"), default=0)
    cumulative_quote_quantity = MoneyField(_("cumulative quote quantity"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    status_reason = models.CharField(_("status reason"), max_length=255, blank=True)
    external = models.BooleanField(
        _("external"), default=False, help_text=_("Placed outside Spotdesk, adopted.")
    )
    needs_review = models.BooleanField(_("needs review"), default=False)
    review_reason = models.CharField(_("review reason"), max_length=255, blank=True)
    exchange_updated_ms = models.BigIntegerField(
        _("exchange update time (ms)"), null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_order_id"], name="order_unique_client_id"
            ),
            models.UniqueConstraint(
                fields=["account", "symbol", "exchange_order_id"],
                condition=Q(exchange_order_id__isnull=False),
                name="order_unique_exchange_id",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(executed_quantity__gte=0)
                & Q(executed_quantity__lte=models.F("quantity")),
                name="order_executed_within_quantity",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status"], name="order_account_status"),
            # An account's orders newest first (the API, the dashboard): the first page
            # is read from the top instead of sorting the account's whole history.
            models.Index(fields=["account", "id"], name="order_account_newest"),
            models.Index(
                fields=["account"], condition=Q(needs_review=True), name="order_needs_review"
            ),
            # The ops console finds an order by the id an operator pastes, in every
            # account of their scope: the unique indexes above lead with the account.
            models.Index(fields=["client_order_id"], name="order_client_id"),
            models.Index(
                fields=["exchange_order_id"],
                condition=Q(exchange_order_id__isnull=False),
                name="order_exchange_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_order_id} {self.side} {self.quantity} {self.symbol}"


class Fill(ScopedModel, TimeStampedModel):
    account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        related_name="fills",
        verbose_name=_("account"),
        db_index=False,  # an index below leads with the account (docs/performance.md)
    )
    order = models.ForeignKey(Order, models.PROTECT, related_name="fills", verbose_name=_("order"))
    position = models.ForeignKey(
        Position,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="fills",
        verbose_name=_("position"),
    )
    symbol = models.CharField(_("symbol"), max_length=20)
    side = models.CharField(_("side"), max_length=4, choices=Side.choices)
    exchange_trade_id = models.BigIntegerField(_("exchange trade id"))
    price = MoneyField(_("price"))
    quantity = MoneyField(_("quantity"))
    quote_quantity = MoneyField(_("quote quantity"))
    commission = MoneyField(_("commission"), default=0)
    commission_asset = models.CharField(_("commission asset"), max_length=12, blank=True)
    commission_quote = MoneyField(
        _("commission in quote asset"),
        default=0,
        help_text=_("The commission valued at the fill time's price."),
    )
    quote_rate = MoneyField(
        _("quote rate"),
        default=1,
        help_text=_("Valuation currency per quote unit at the fill time."),
    )
    is_maker = models.BooleanField(_("maker"), default=False)
    executed_at = models.DateTimeField(_("executed at"))
    source = models.CharField(_("source"), max_length=16, blank=True)

    # Read by executed_at and id, never by creation time: no index (docs/performance.md).
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-executed_at", "-exchange_trade_id"]
        verbose_name = _("fill")
        verbose_name_plural = _("fills")
        constraints = [
            # Binance trade ids are unique per symbol; one trade can fill orders of two
            # of our accounts (one on each side), so the account is part of the key.
            models.UniqueConstraint(
                fields=["account", "symbol", "exchange_trade_id"], name="fill_unique_trade"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fill_quantity_gt_0"),
            models.CheckConstraint(condition=Q(price__gt=0), name="fill_price_gt_0"),
        ]
        indexes = [
            # The ops console finds a fill by a pasted exchange trade id, in every account
            # of the user's scope: the unique index above leads with the account.
            models.Index(fields=["exchange_trade_id"], name="fill_exchange_trade_id"),
            # An account's fills newest first (the API, the dashboard), as for orders.
            models.Index(fields=["account", "id"], name="fill_account_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} #{self.exchange_trade_id} {self.side} {self.quantity}@{self.price}"


class Trade(ScopedModel, TimeStampedModel):
    """A closed round trip: one position from its first buy to the sale of the rest."""

    account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        related_name="trades",
        verbose_name=_("account"),
        db_index=False,  # an index below leads with the account (docs/performance.md)
    )
    strategy_config = models.ForeignKey(
        StrategyConfig,
        models.PROTECT,
        related_name="trades",
        verbose_name=_("strategy configuration"),
    )
    position = models.OneToOneField(
        Position, models.PROTECT, related_name="trade", verbose_name=_("position")
    )
    symbol = models.CharField(_("symbol"), max_length=20)
    quantity = MoneyField(_("quantity bought"))
    entry_price = MoneyField(_("average entry price"))
    exit_price = MoneyField(_("average exit price"))
    fees = MoneyField(_("fees"), help_text=_("In the quote asset."))
    realized_pnl = MoneyField(_("realized PnL"), help_text=_("In the quote asset."))
    realized_pnl_value = MoneyField(_("realized PnL (valuation currency)"))
    return_pct = models.DecimalField(_("return"), max_digits=20, decimal_places=10)
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"))

    # Read by closed_at and id, never by creation time: no index (docs/performance.md).
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-closed_at"]
        verbose_name = _("trade")
        verbose_name_plural = _("trades")
        indexes = [models.Index(fields=["account", "-closed_at"], name="trade_account_closed")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.realized_pnl} ({self.closed_at:%Y-%m-%d})"


class CashFlow(ScopedModel, TimeStampedModel):
    """Money entering or leaving the account from outside trading: excluded from PnL,
    daily loss and drawdown."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        WITHDRAWAL = "withdrawal", _("Withdrawal")
        TRANSFER = "transfer", _("Transfer")
        ADJUSTMENT = "adjustment", _("Reconciliation adjustment")

    account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        related_name="cash_flows",
        verbose_name=_("account"),
        db_index=False,  # an index below leads with the account (docs/performance.md)
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    asset = models.CharField(_("asset"), max_length=12)
    amount = MoneyField(_("amount"), help_text=_("Positive in, negative out."))
    value = MoneyField(_("value"), help_text=_("In the valuation currency at that time."))
    occurred_at = models.DateTimeField(_("occurred at"))
    external_id = models.CharField(
        _("external id"),
        max_length=80,
        help_text=_("Unique per flow (balanceUpdate event, reconciliation run)."),
    )
    source = models.CharField(_("source"), max_length=16, blank=True)

    # Read by occurred_at and id, never by creation time: no index (docs/performance.md).
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("cash flow")
        verbose_name_plural = _("cash flows")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"], name="cash_flow_unique_external_id"
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="cash_flow_amount_not_0"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.asset}"


class EquitySnapshot(ScopedModel, models.Model):
    account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        related_name="equity_snapshots",
        verbose_name=_("account"),
        db_index=False,  # an index below leads with the account (docs/performance.md)
    )
    taken_at = models.DateTimeField(_("taken at"))
    equity = MoneyField(_("equity"), help_text=_("In the valuation currency."))
    unrealized_pnl = MoneyField(_("unrealized PnL"), default=0)
    net_flows = MoneyField(
        _("net cash flows"),
        default=0,
        help_text=_("Deposits minus withdrawals so far (valuation currency)."),
    )
    balances = models.JSONField(_("balances"), default=dict, blank=True)

    class Meta:
        ordering = ["-taken_at"]
        get_latest_by = "taken_at"
        verbose_name = _("equity snapshot")
        verbose_name_plural = _("equity snapshots")
        constraints = [
            models.UniqueConstraint(fields=["account", "taken_at"], name="equity_unique_time")
        ]

    def __str__(self) -> str:
        return f"{self.equity} @ {self.taken_at:%Y-%m-%d %H:%M}"


class Decision(ScopedModel, models.Model):
    """One evaluation of one config for one account on one candle: what went in, what
    the strategy and the risk engine said, and which orders followed. On PostgreSQL
    the table is partitioned by month of `created_at`."""

    account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        related_name="decisions",
        verbose_name=_("account"),
        db_index=False,  # an index below leads with the account (docs/performance.md)
    )
    strategy_config = models.ForeignKey(
        StrategyConfig,
        models.PROTECT,
        related_name="decisions",
        verbose_name=_("strategy configuration"),
        db_index=False,  # led by decision_config_time (docs/performance.md)
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    symbol = models.CharField(_("symbol"), max_length=20)
    interval = models.CharField(_("interval"), max_length=4)
    candle_open_time = models.DateTimeField(_("candle open time"))
    strategy = models.CharField(_("strategy"), max_length=60)
    strategy_version = models.CharField(_("strategy version"), max_length=20)
    params_fingerprint = models.CharField(_("parameters fingerprint"), max_length=64)
    inputs = models.JSONField(_("inputs"), default=dict, blank=True)
    indicators = models.JSONField(_("indicator values"), default=dict, blank=True)
    signal = models.CharField(_("signal"), max_length=16)
    signal_reason = models.TextField(_("signal reason"), blank=True)
    outcome = models.CharField(
        _("risk outcome"), max_length=12, blank=True, help_text=_("Empty when nothing was sized.")
    )
    risk_verdict = models.JSONField(
        _("risk verdict"), default=dict, blank=True, help_text=_("Every rule with its reason.")
    )
    exits = models.JSONField(_("exit actions"), default=list, blank=True)
    orders_placed = models.JSONField(_("orders placed"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        indexes = [
            models.Index(fields=["account", "-created_at"], name="decision_account_time"),
            models.Index(
                fields=["strategy_config", "symbol", "-created_at"], name="decision_config_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.signal} {self.created_at:%Y-%m-%d %H:%M}"


class KillSwitch(TimeStampedModel):
    """An emergency stop for one account, one organization or every account: while
    engaged (not released) no new entry is opened and resting entries are canceled;
    protective orders stay unless `flatten` sold the positions at market."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("Account")
        ORGANIZATION = "organization", _("Organization")
        GLOBAL = "global", _("Global (every account)")

    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices)
    organization = models.ForeignKey(
        "accounts.Organization",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="kill_switches",
        verbose_name=_("organization"),
        help_text=_("Empty for the global switch."),
    )
    account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="kill_switches",
        verbose_name=_("account"),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    flatten = models.BooleanField(
        _("flatten"), default=False, help_text=_("Sell every open position at market.")
    )
    engaged_at = models.DateTimeField(_("engaged at"), default=timezone.now)
    engaged_by = models.CharField(_("engaged by"), max_length=150)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.CharField(_("released by"), max_length=150, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"  # global switches: platform staff only

    class Meta:
        ordering = ["-engaged_at"]
        verbose_name = _("kill switch")
        verbose_name_plural = _("kill switches")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="global", organization__isnull=True, account__isnull=True)
                    | Q(scope="organization", organization__isnull=False, account__isnull=True)
                    | Q(scope="account", organization__isnull=False, account__isnull=False)
                ),
                name="kill_switch_scope_fields",
            ),
            # At most one engaged switch per target: pressing again finds it.
            models.UniqueConstraint(
                fields=["scope"],
                condition=Q(scope="global", released_at__isnull=True),
                name="kill_switch_one_global",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(scope="organization", released_at__isnull=True),
                name="kill_switch_one_per_organization",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(scope="account", released_at__isnull=True),
                name="kill_switch_one_per_account",
            ),
        ]
        indexes = [
            models.Index(
                fields=["scope"], condition=Q(released_at__isnull=True), name="kill_switch_engaged"
            )
        ]

    def __str__(self) -> str:
        state = _("released") if self.released_at else _("engaged")
        return f"{self.get_scope_display()} kill switch ({state})"

    @property
    def engaged(self) -> bool:
        return self.released_at is None


class GoLiveRequest(TimeStampedModel):
    """A strategy configuration that ran on a paper account, proposed for a live
    account. A risk officer approves it once every checklist item is met; approval
    creates the live configuration (the live account is its own account)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    paper_config = models.ForeignKey(
        StrategyConfig,
        models.PROTECT,
        related_name="go_live_requests",
        verbose_name=_("paper configuration"),
    )
    live_account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        related_name="go_live_requests",
        verbose_name=_("live account"),
    )
    risk_profile = models.ForeignKey(
        "risk.RiskProfile",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="go_live_requests",
        verbose_name=_("risk profile"),
    )
    name = models.CharField(_("live configuration name"), max_length=120)
    strategy = models.CharField(_("strategy"), max_length=60)
    strategy_version = models.CharField(_("strategy version"), max_length=20)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    symbols = models.JSONField(_("symbols"), default=list)
    interval = models.CharField(_("interval"), max_length=4)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.CharField(_("requested by"), max_length=150)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.CharField(_("approved by"), max_length=150, blank=True)
    checklist = models.JSONField(
        _("checklist at approval"),
        default=list,
        blank=True,
        help_text=_("Every item with its value and target when it was approved."),
    )
    live_config = models.OneToOneField(
        StrategyConfig,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="go_live_request",
        verbose_name=_("live configuration"),
    )

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "live_account__organization"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("go-live request")
        verbose_name_plural = _("go-live requests")
        constraints = [
            models.UniqueConstraint(
                fields=["paper_config", "live_account"],
                condition=Q(status="pending"),
                name="go_live_one_pending_per_pair",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.live_account} ({self.get_status_display()})"


class ReconciliationRun(ScopedModel, models.Model):
    """One comparison of an account's exchange state with the database: what was
    booked, adopted, resolved or flagged, and the balance snapshot later runs compare
    against (the first run with balances is the baseline)."""

    class Status(models.TextChoices):
        OK = "ok", _("Consistent")
        CORRECTED = "corrected", _("Differences booked")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(
        ExchangeAccount,
        models.PROTECT,
        related_name="reconciliation_runs",
        verbose_name=_("account"),
        db_index=False,  # led by reconcile_account_time (docs/performance.md)
    )
    trigger = models.CharField(_("trigger"), max_length=16)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    exchange_time_ms = models.BigIntegerField(
        _("balances as of (exchange ms)"), null=True, blank=True
    )
    balances = models.JSONField(_("exchange balances"), default=dict, blank=True)
    reserve = models.JSONField(
        _("unmanaged reserve"),
        default=dict,
        blank=True,
        help_text=_("Per asset: the balance minus what open positions and dust claim."),
    )
    last_cash_flow_id = models.BigIntegerField(
        _("last cash flow in the snapshot"), null=True, blank=True
    )
    trade_watermarks = models.JSONField(
        _("trade watermarks"),
        default=dict,
        blank=True,
        help_text=_("Per symbol: the last exchange trade id this run saw."),
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    findings = models.JSONField(_("findings"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        indexes = [
            models.Index(fields=["account", "-started_at"], name="reconcile_account_time"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.get_status_display()} {self.started_at:%Y-%m-%d %H:%M}"
