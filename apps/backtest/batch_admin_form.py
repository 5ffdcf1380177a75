"""The ops console's form for a batch (sweep, walk-forward, A/B): the single backtest's
settings (BacktestForm's fields, scoping and error mapping) plus the batch's own fields.
Saving is one `services.create_batch` call, which validates everything; this form turns
the submitted text into the service's keywords, as the API does, and reads the grid and
the variant's parameters exactly first (`batch_params`: ranges expanded in Decimal).

On the add page (templates/admin/backtest/backtestbatch/add_form.html),
static/backtest/batch_form.js builds one input row per strategy parameter from
`parameter_schema` and writes the grid and variant JSON from them; the JSON textareas
stay the form's data, so the page works without JavaScript too."""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _

from apps.strategies.engine import registry

from . import services
from .admin import BacktestForm
from .batch_params import ParameterInputErrors, exact_params, expand_grid
from .models import BacktestBatch
from .param_schema import parameter_schema

# The add page's groups: what every batch needs, the base run, then each kind's fields.
FIELDSETS = [
    (None, {"fields": ["organization", "kind", "name"]}),
    (_("Base run"), {"fields": [
        "account", "symbols_text", "interval", "environment", "start", "end", "strategy",
        "params", "risk_profile", "fill_mode", "commission", "slippage", "initial_cash",
        "backfill",
    ]}),
    (_("Sweep and walk-forward"), {"fields": ["grid", "objective"]}),
    (_("Walk-forward"), {"fields": ["folds", "train_ratio", "anchored"]}),
    (_("A/B comparison"), {"fields": ["variant"]}),
]  # fmt: skip

# What static/backtest/batch_form.js writes on the page; {name}s are filled in there.
BUILDER_STRINGS = {
    "parameter": _("Parameter"),
    "type_and_bounds": _("Type and bounds"),
    "sweep": _("Sweep"),
    "values": _("Values"),
    "b_value": _("B's value"),
    "not_swept": _("Not swept"),
    "list": _("List"),
    "range": _("Range"),
    "start": _("start"),
    "stop": _("stop"),
    "step": _("step"),
    "list_placeholder": _("e.g. 5, 10, 20"),
    "int": _("integer"),
    "float": _("number"),
    "bool": _("true or false"),
    "choice": _("one of: {choices}"),
    "between": _("{min} to {max}"),
    "at_least": _("at least {min}"),
    "at_most": _("at most {max}"),
    "default": _("default {value}"),
    "row_count": _("n = {count}"),
    "row_values": _("{count}: {values}"),
    "total": _("Configurations: {count} (at most {max})"),
    "total_walk_forward": _(
        "Runs: {count} configurations × {folds} folds = {runs} (at most {max})"  # noqa: RUF001 - the multiplication sign, on purpose
    ),
    "nothing_swept": _(
        "Choose at least one parameter to sweep; the others keep the base run's values."
    ),
    "unknown_count": _("Configurations: fix the marked values to see the count."),
    "rules_skipped": _(
        "Combinations that break a rule of the strategy are skipped, so the batch may run "
        "fewer: {rules}."
    ),
    "must_number": _("must be a number"),
    "must_integer": _("must be an integer"),
    "must_at_least": _("must be at least {min}"),
    "must_at_most": _("must be at most {max}"),
    "step_above_zero": _("must be above 0"),
    "stop_before_start": _("stop must be at least start"),
    "range_incomplete": _("fill in start, stop and step"),
    "repeated": _("{value} is listed twice"),
    "empty_list": _("list at least one value"),
    "edit_json": _("Edit as JSON"),
    "use_inputs": _("Use the parameter inputs"),
    "json_unreadable": _("This JSON cannot be shown as inputs; edit it here."),
    "variant_strategy": _("B's strategy"),
    "same_as_a": _("Same as A ({strategy})"),
    "variant_risk_profile": _("B's risk profile"),
    "same_risk_profile": _("Same as A"),
    "no_risk_profile": _("None: all-in entries, only the strategy's exits"),
    "keeps_a": _("A: {value}"),
    "keeps_default": _("default: {value}"),
    "nothing_changed": _("Give B at least one change: a strategy, a value or a risk profile."),
}


class ExactJSONDecoder(json.JSONDecoder):
    """Decimals stay `Decimal` (0.1 is 0.1, not the nearest binary float); NaN and
    Infinity are not JSON numbers here."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "parse_float": Decimal, "parse_constant": _no_constant})


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


class ExactJSONField(forms.JSONField):
    """A JSONField decoded by ExactJSONDecoder, whose text is shown back as typed when
    the form is redisplayed (re-encoding would turn its Decimals into strings)."""

    def __init__(self, **kwargs):
        super().__init__(encoder=DjangoJSONEncoder, decoder=ExactJSONDecoder, **kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValueError:  # the constants above, an integer of 5,000 digits
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def bound_data(self, data, initial):
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        return InvalidJSONInput(data)  # Django's marker for "render this text unchanged"


class BacktestBatchForm(BacktestForm):
    """Built over the Backtest model (see BacktestBatchAdmin.get_form), so the settings
    fields get the same admin widgets as on the single backtest's page."""

    kind = forms.ChoiceField(label=_("kind"), choices=BacktestBatch.Kind.choices)
    # No bounds here: the service's rules and messages apply, as through the API (the
    # form only reads the numbers exactly and expands ranges first: clean_grid).
    grid = ExactJSONField(
        label=_("grid"), required=False,
        help_text=_('Each parameter and the values to try, e.g. {"fast": [5, 10], "slow": [30]}, '
                    'or a range with its stop included, e.g. '
                    '{"fast": {"start": 5, "stop": 20, "step": 5}} (5, 10, 15, 20). Parameters '
                    "not named keep the base run's values."),
    )  # fmt: skip
    objective = forms.ChoiceField(
        label=_("objective"), choices=[(o, o) for o in services.OBJECTIVES], initial="sharpe",
        help_text=_("How runs are ranked, and how each fold's best is chosen."),
    )  # fmt: skip
    folds = forms.IntegerField(label=_("folds"), required=False)
    train_ratio = forms.FloatField(
        label=_("train ratio"), required=False,
        help_text=_("The training window's share of training + test; empty: 0.7."),
    )  # fmt: skip
    anchored = forms.BooleanField(
        label=_("anchored"), required=False,
        help_text=_("Every training window starts at the start of the period."),
    )  # fmt: skip
    variant = ExactJSONField(
        label=_("variant"), required=False,
        help_text=_('What B changes: strategy, params and/or risk_profile (an id, or null for '
                    'none), e.g. {"params": {"fast": 20}}. With the base run\'s strategy, the '
                    'parameters B does not name keep the base run\'s values.'),
    )  # fmt: skip

    builder_strings = BUILDER_STRINGS  # for the add page's json_script

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = _("Empty: the kind and the base run's name.")

    def parameter_schema(self) -> dict:
        """For the add page's json_script: every strategy's parameters and the run limit."""
        return parameter_schema()

    def clean_grid(self):
        """Lists and ranges as exact values of each parameter's type; the service then
        checks the combinations. Anything else is left for the service to name."""
        grid = self.cleaned_data.get("grid")
        strategy = self.cleaned_data.get("strategy")
        if self.cleaned_data.get("kind") == BacktestBatch.Kind.COMPARE or not strategy:
            return grid
        if not isinstance(grid, dict) or not grid:
            return grid
        schema = registry.get(strategy).schema
        try:
            return expand_grid(schema, grid, max_configurations=services.MAX_RUNS)
        except ParameterInputErrors as exc:
            raise forms.ValidationError(exc.messages(), code="invalid") from None

    def clean_variant(self):
        """B's parameters as exact values (the service lays them over A's when B keeps
        A's strategy); a risk profile id becomes the profile, looked up among those the
        user sees (as the API does). The service checks the rest."""
        variant = self.cleaned_data.get("variant")
        if not isinstance(variant, dict):
            return variant
        if self.cleaned_data.get("kind") == BacktestBatch.Kind.COMPARE:
            variant = self._exact_variant_params(variant)
        if variant.get("risk_profile") is None:
            return variant
        value = variant["risk_profile"]
        visible = self.fields["risk_profile"].queryset  # the base's choices: scoped to the user
        is_id = isinstance(value, int) and not isinstance(value, bool)
        found = visible.filter(pk=value).first() if is_id else None
        if found is None:
            raise forms.ValidationError(
                _("risk_profile must be the id of a risk profile you see."), code="invalid"
            )
        return {**variant, "risk_profile": found}

    def _exact_variant_params(self, variant: dict) -> dict:
        params = variant.get("params")
        base_strategy = self.cleaned_data.get("strategy")
        strategy = variant.get("strategy", base_strategy)
        registered = registry.keys()  # a list: the registry is not a mapping
        if not isinstance(params, dict) or strategy not in registered:
            return variant  # the service names what is wrong
        try:
            exact = exact_params(registry.get(strategy).schema, params, path="variant.params")
        except ParameterInputErrors as exc:
            raise forms.ValidationError(exc.messages(), code="invalid") from None
        return {**variant, "params": exact}

    def create(self):
        data = self.cleaned_data
        return services.create_batch(
            actor=self.actor,
            kind=data["kind"],
            name=data.get("name") or None,
            grid=data.get("grid"),
            objective=data["objective"],
            folds=data.get("folds"),
            train_ratio=data.get("train_ratio"),
            anchored=data.get("anchored", False),
            variant=data.get("variant"),
            **self.settings(),
        )
