"""Backtests in the ops console: create one or a batch (sweep, walk-forward, A/B), watch
its progress (live over /ws/live/, by static/dashboard/backtest.js), read its result with
server-side SVG charts, export it, and start a paper run of its configuration. Every
write is a service call."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.forms import modelform_factory
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from apps.accounts.actors import Actor
from apps.accounts.admin import OrganizationScopedAdmin
from apps.accounts.admin_forms import ServiceModelForm
from apps.accounts.models import Environment, ExchangeAccount, Organization
from apps.accounts.roles import Action
from apps.core import errors
from apps.risk.models import RiskProfile
from apps.strategies.engine import registry
from apps.strategies.selectors import risk_profiles_for

from . import exports, services
from .charts import drawdown_svg, equity_svg
from .models import FINISHED, Backtest, BacktestBatch, BacktestCriteria


class BacktestForm(ServiceModelForm):
    strategy = forms.ChoiceField(label=_("strategy"), choices=())
    symbols_text = forms.CharField(
        label=_("symbols"), help_text=_("Comma-separated, e.g. BTCUSDT, ETHUSDT.")
    )
    params = forms.JSONField(
        label=_("parameters"), required=False,
        help_text=_("Missing parameters take the strategy's defaults."),
    )  # fmt: skip
    risk_profile = forms.ModelChoiceField(
        label=_("risk profile"), queryset=RiskProfile.objects.none(), required=False,
        help_text=_("Empty: all-in entries, only the strategy's exits."),
    )  # fmt: skip

    class Meta:
        model = Backtest
        fields = [
            "organization", "account", "name", "strategy", "params", "interval", "environment",
            "start", "end", "fill_mode", "commission", "slippage", "initial_cash", "backfill",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        registered = registry.keys()  # a sorted list (the registry is not a mapping)
        self.fields["strategy"].choices = [(key, key) for key in registered]
        self.fields["name"].required = False
        if self.actor is not None:
            user = self.actor.user
            self.fields["organization"].queryset = Organization.objects.for_user(user, Action.TRADE)
            self.fields["account"].queryset = ExchangeAccount.objects.for_user(user, Action.TRADE)
            # Profiles have no organization: only those the user's configs use.
            self.fields["risk_profile"].queryset = risk_profiles_for(user)

    def settings(self) -> dict:
        """The service's keywords for what a backtest and a batch share (not the name)."""
        data = self.cleaned_data
        return {
            "organization": data["organization"],
            "account": data.get("account"),
            "strategy": data["strategy"],
            "params": data.get("params") or {},
            "risk_profile": data.get("risk_profile"),
            "symbols": [s.strip() for s in data["symbols_text"].split(",") if s.strip()],
            "interval": data["interval"],
            "environment": data["environment"],
            "start": data["start"],
            "end": data["end"],
            "fill_mode": data["fill_mode"],
            "commission": data["commission"],
            "slippage": data["slippage"],
            "initial_cash": data["initial_cash"],
            "backfill": data.get("backfill", False),
        }

    def create(self):
        name = self.cleaned_data.get("name") or None
        return services.create_backtest(actor=self.actor, name=name, **self.settings())

    def perform(self):
        try:
            return self.create()
        except errors.ValidationError as exc:
            # The service names a path (params.fast, symbols[0]); the error goes on its field.
            base = exc.field.split(".", 1)[0].split("[", 1)[0]
            exc.field = {"symbols": "symbols_text"}.get(base, base)
            raise


class PaperRunForm(forms.Form):
    account = forms.ModelChoiceField(
        label=_("paper account"), queryset=ExchangeAccount.objects.none()
    )
    name = forms.CharField(label=_("configuration name"), max_length=120, required=False)

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts


_RESULT_FIELDS = (
    "status_badge", "progress_bar", "error", "metrics_table", "monte_carlo_table", "charts",
    "trades_table", "links",
)  # fmt: skip
_SETTINGS_FIELDS = (
    "organization", "account", "batch", "role", "name", "source_config", "strategy",
    "strategy_version", "params", "risk_profile_name", "environment", "symbols", "interval",
    "start", "end", "fill_mode", "commission", "slippage", "initial_cash", "backfill",
    "created_by", "started_at", "finished_at",
)  # fmt: skip


def _rows(pairs) -> str:
    return format_html(
        "<table>{}</table>",
        format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", pairs),
    )


@admin.register(Backtest)
class BacktestAdmin(OrganizationScopedAdmin):
    form = BacktestForm
    change_form_template = "admin/backtest/backtest/change_form.html"
    list_display = ("name", "organization", "strategy", "interval", "status", "progress",
                    "created_at")  # fmt: skip
    list_filter = ("status", "strategy", "interval")
    search_fields = ("name", "organization__name", "strategy")
    list_select_related = ("organization",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:  # the result page: every field is read-only
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organization", "account", "name", "strategy", "params", "risk_profile",
                    "symbols_text", "interval", "environment", "start", "end", "fill_mode",
                    "commission", "slippage", "initial_cash", "backfill"]  # fmt: skip
        return [*_RESULT_FIELDS, *_SETTINGS_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else (*_RESULT_FIELDS, *_SETTINGS_FIELDS)

    def has_change_permission(self, request, obj=None):
        return False  # a result never changes; the page is read-only

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        # An unfinished run's status and progress follow it over /ws/live/; the page
        # reloads once it finishes, to render its metrics, charts and exports.
        live = obj if obj is not None and obj.status not in FINISHED else None
        extra = {"live_backtest": live, "live_progress": live is not None}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    @admin.display(description=_("status"))
    def status_badge(self, obj):
        # data-field: the hook static/dashboard/backtest.js rewrites as the run moves on.
        return format_html(
            '<span class="badge backtest-{}" data-field="status">{}</span>',
            obj.status, obj.get_status_display(),
        )  # fmt: skip

    @admin.display(description=_("progress"))
    def progress_bar(self, obj):
        return format_html(
            '<progress max="100" value="{0}" data-field="progress-bar">{0}%</progress> '
            '<span data-field="progress">{0}%</span>',
            obj.progress,
        )

    @admin.display(description=_("metrics"))
    def metrics_table(self, obj):
        return _rows(sorted(obj.metrics.items()))

    @admin.display(description=_("Monte Carlo (trade order reshuffled)"))
    def monte_carlo_table(self, obj):
        mc = obj.monte_carlo
        if not mc:
            return "-"
        rows = [(f"max drawdown {p}", v) for p, v in mc["max_drawdown"].items()]
        rows += [(f"total return {p}", v) for p, v in mc["total_return"].items()]
        rows += [("probability of loss", mc["probability_of_loss"]),
                 ("simulations", mc["simulations"])]  # fmt: skip
        return _rows(rows)

    @admin.display(description=_("charts"))
    def charts(self, obj):
        times, equity = obj.unpack_curve()
        if equity.size == 0:
            return "-"
        # Our own SVG: every text in it is escaped by charts.line_chart.
        return mark_safe(equity_svg(times, equity) + "<br>" + drawdown_svg(times, equity))  # noqa: S308

    @admin.display(description=_("trades (first 200)"))
    def trades_table(self, obj):
        columns = ("symbol", "entry_price", "exit_price", "quantity", "pnl", "fees", "exit_reason")
        header = format_html_join("", "<th>{}</th>", ((c,) for c in columns))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            ((format_html_join("", "<td>{}</td>", ((t.get(c),) for c in columns)),)
             for t in obj.trades[:200]),
        )  # fmt: skip
        return format_html("<table><tr>{}</tr>{}</table>", header, body)

    @admin.display(description=_("export and paper run"))
    def links(self, obj):
        if obj.status != "done":
            return "-"
        exports_links = format_html_join(
            " ", '<a href="{}">{}</a>',
            ((reverse("admin:backtest_backtest_export", args=[obj.pk, f]), f.upper())
             for f in exports.FORMATS),
        )  # fmt: skip
        paper = reverse("admin:backtest_backtest_paper_run", args=[obj.pk])
        return format_html('{} | <a href="{}">{}</a>', exports_links, paper, _("Start a paper run"))

    def get_urls(self):
        extra = [
            path("<int:object_id>/export/<str:fmt>/", self.admin_site.admin_view(self.export_view),
                 name="backtest_backtest_export"),
            path("<int:object_id>/paper-run/", self.admin_site.admin_view(self.paper_run_view),
                 name="backtest_backtest_paper_run"),
        ]  # fmt: skip
        return extra + super().get_urls()

    def export_view(self, request, object_id, fmt):
        if fmt not in exports.FORMATS:
            raise Http404
        backtest = get_object_or_404(self.get_queryset(request), pk=object_id, status="done")
        content, content_type, filename = exports.export(backtest, fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def paper_run_view(self, request, object_id):
        backtest = get_object_or_404(self.get_queryset(request), pk=object_id, status="done")
        accounts = ExchangeAccount.objects.for_user(request.user, Action.TRADE).filter(
            organization_id=backtest.organization_id, environment=Environment.PAPER
        )
        form = PaperRunForm(request.POST or None, accounts=accounts)
        if request.method == "POST" and form.is_valid():
            try:
                config = services.start_paper_run(
                    actor=Actor.from_request(request),
                    backtest=backtest,
                    account=form.cleaned_data["account"],
                    name=form.cleaned_data["name"] or None,
                )
            except errors.ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            except errors.SpotdeskError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Paper configuration created, paused: resume it to start."),
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:strategies_strategyconfig_change", args=[config.pk]))
        return TemplateResponse(
            request,
            "admin/backtest/paper_run.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Start a paper run of %(name)s") % {"name": backtest.name},
                "form": form,
                "backtest": backtest,
                "opts": self.model._meta,
            },
        )


_RUNS_SHOWN = 500  # the runs table's length
_BATCH_FIELDS = (
    "organization", "name", "kind", "status_badge", "progress_bar", "spec", "summary_table",
    "runs_table", "created_by", "finished_at",
)  # fmt: skip


@admin.register(BacktestBatch)
class BacktestBatchAdmin(OrganizationScopedAdmin):
    list_display = ("name", "organization", "kind", "status", "progress", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("name", "organization__name")
    change_form_template = "admin/backtest/backtest/change_form.html"
    # The parameter inputs for the grid and the variant (static/backtest/batch_form.js).
    add_form_template = "admin/backtest/backtestbatch/add_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:  # the result page: every field is read-only
            kwargs["form"] = forms.ModelForm
            return super().get_form(request, obj, change=change, **kwargs)
        # Imported here: that module builds on BacktestForm, defined above.
        from .batch_admin_form import FIELDSETS, BacktestBatchForm

        # Over the Backtest model, so the base run's fields (account, period, fill
        # model...) get the same admin widgets as on a single backtest's add page.
        form = modelform_factory(
            Backtest,
            form=BacktestBatchForm,
            fields=flatten_fieldsets(FIELDSETS),
            formfield_callback=partial(self.formfield_for_dbfield, request=request),
        )
        form.actor = Actor.from_request(request)
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            from .batch_admin_form import FIELDSETS

            return FIELDSETS
        return [(None, {"fields": _BATCH_FIELDS})]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else _BATCH_FIELDS

    def has_add_permission(self, request):
        # As through the API: the trader role in at least one organization.
        return (
            super().has_add_permission(request)
            and Organization.objects.for_user(request.user, Action.TRADE).exists()
        )

    def has_change_permission(self, request, obj=None):
        return False  # a batch never changes; the page is read-only

    def response_post_save_add(self, request, obj):
        return redirect(reverse("admin:backtest_backtestbatch_change", args=[obj.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # An unfinished batch and the unfinished runs of its table follow over /ws/live/
        # (static/dashboard/backtest.js): the page reloads once the runs it follows are
        # done, or the batch is (its summary written), or, following no run, once the
        # batch moved on (runs it does not show yet, e.g. walk-forward test runs).
        # Decided here, on the row the fields show: read again (as in change_view), it
        # could be finished while the fields show it running, or the other way round.
        live = obj if change and obj is not None and obj.status not in FINISHED else None
        context.update({"live_batch": live, "live_progress": live is not None})
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _shown_runs(batch):
        return batch.runs.order_by("pk")[:_RUNS_SHOWN]

    # data-batch-id, data-status, data-field: the batch's own hooks in backtest.js (two
    # elements of one batch, each brought to the state the channel pushes).
    @admin.display(description=_("status"))
    def status_badge(self, obj):
        return format_html(
            '<span data-batch-id="{}" data-status="{}" data-progress="{}">'
            '<span class="badge backtest-{}" data-field="status">{}</span></span>',
            obj.pk, obj.status, obj.progress, obj.status, obj.get_status_display(),
        )  # fmt: skip

    @admin.display(description=_("progress"))
    def progress_bar(self, obj):
        return format_html(
            '<span data-batch-id="{0}" data-status="{1}" data-progress="{2}">'
            '<progress max="100" value="{2}" data-field="progress-bar">{2}%</progress> '
            '<span data-field="progress">{2}%</span></span>',
            obj.pk, obj.status, obj.progress,
        )  # fmt: skip

    @admin.display(description=_("summary"))
    def summary_table(self, obj):
        return _rows((k, v) for k, v in obj.summary.items() if k not in ("ranking", "folds"))

    @admin.display(description=_("runs"))
    def runs_table(self, obj):
        # data-backtest-id, data-status, data-field: static/dashboard/backtest.js's hooks.
        rows = (
            (r.pk, r.status, reverse("admin:backtest_backtest_change", args=[r.pk]), r.name,
             r.status, r.get_status_display(), r.metrics.get("total_return", "-"),
             r.metrics.get("sharpe", "-"))
            for r in self._shown_runs(obj)
        )  # fmt: skip
        body = format_html_join(
            "",
            '<tr data-backtest-id="{}" data-status="{}"><td><a href="{}">{}</a></td>'
            '<td><span class="badge backtest-{}" data-field="status">{}</span></td>'
            "<td>{}</td><td>{}</td></tr>",
            rows,
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("run"), _("status"), _("total return"), _("Sharpe"), body,
        )  # fmt: skip


class CriteriaForm(ServiceModelForm):
    class Meta:
        model = BacktestCriteria
        fields = ["organization", "enabled", "min_sharpe", "min_trades", "min_profit_factor",
                  "max_drawdown", "min_period_days", "max_age_days"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "organization" in self.fields and self.actor is not None:
            self.fields["organization"].queryset = Organization.objects.for_user(
                self.actor.user, Action.RISK
            )

    def perform(self):
        data = dict(self.cleaned_data)
        organization = data.pop("organization", None) or self.instance.organization
        return services.set_backtest_criteria(actor=self.actor, organization=organization, **data)


@admin.register(BacktestCriteria)
class BacktestCriteriaAdmin(OrganizationScopedAdmin):
    form = CriteriaForm
    list_display = ("organization", "enabled", "min_sharpe", "min_trades", "min_period_days")

    def get_readonly_fields(self, request, obj=None):
        return ("organization",) if obj else ()
