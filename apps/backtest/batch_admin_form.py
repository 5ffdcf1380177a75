"""The ops console's form for a batch (sweep, walk-forward, A/B): the single backtest's
settings (BacktestForm's fields, scoping and error mapping) plus the batch's own fields.
Saving is one `services.create_batch` call, which validates everything; this form only
turns the submitted text into the service's keywords, as the API does."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .admin import BacktestForm
from .models import BacktestBatch

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


class BacktestBatchForm(BacktestForm):
    """Built over the Backtest model (see BacktestBatchAdmin.get_form), so the settings
    fields get the same admin widgets as on the single backtest's page."""

    kind = forms.ChoiceField(label=_("kind"), choices=BacktestBatch.Kind.choices)
    # No bounds here: the service's rules and messages apply, as through the API.
    grid = forms.JSONField(
        label=_("grid"), required=False,
        help_text=_('Each parameter and the values to try, e.g. {"fast": [5, 10], "slow": [30]}.'),
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
    variant = forms.JSONField(
        label=_("variant"), required=False,
        help_text=_('What B changes: strategy, params and/or risk_profile (an id), e.g. '
                    '{"params": {"fast": 20, "slow": 60}}.'),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = _("Empty: the kind and the base run's name.")

    def clean_variant(self):
        """A risk profile id in the variant becomes the profile, looked up among those
        the user sees (as the API does); the service checks the rest."""
        variant = self.cleaned_data.get("variant")
        if not isinstance(variant, dict) or variant.get("risk_profile") is None:
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
