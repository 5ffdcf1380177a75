"""The strategies' declared parameters as the batch add page reads them (json_script
"batch-param-schema", read by static/backtest/batch_form.js): each parameter's type,
bounds and default from the registry, and the service's run limit for the live count.
Built here so the page never guesses a bound the service would then refuse."""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.strategies.engine import registry
from apps.strategies.engine.params import LessThan, ParamSchema

from .services import MAX_RUNS


def parameter_schema() -> dict:
    """``{"max_runs": N, "strategies": {key: {"name", "version", "parameters": [...],
    "rules": [...]}}}``, each parameter as `ParamSchema.form_fields` describes it (name,
    kind, label, help_text, initial, min_value, max_value, choices), in declaration
    order, and the cross-field rules as sentences (a sweep skips the combinations that
    break them)."""
    keys = registry.keys()  # sorted; the registry is not a mapping
    classes = [registry.get(key) for key in keys]
    strategies = {
        cls.key: {
            "name": cls.name,
            "version": cls.version,
            "parameters": cls.schema.form_fields(),
            "rules": rule_sentences(cls.schema),
        }
        for cls in classes
    }
    return {"max_runs": MAX_RUNS, "strategies": strategies}


def rule_sentences(schema: ParamSchema) -> list[str]:
    """The schema's cross-field rules in the user's language."""
    return [
        _("%(lower)s must be below %(upper)s") % {"lower": rule.lower, "upper": rule.upper}
        for rule in schema.checks
        if isinstance(rule, LessThan)
    ]
