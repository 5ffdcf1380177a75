"""The strategies' declared parameters as the batch add page reads them (json_script
"batch-param-schema", read by static/backtest/batch_form.js): each parameter's type,
bounds and default from the registry, and the service's run limit for the live count.
Built here so the page never guesses a bound the service would then refuse."""

from __future__ import annotations

from apps.strategies.engine import registry

from .services import MAX_RUNS


def parameter_schema() -> dict:
    """``{"max_runs": N, "strategies": {key: {"name", "version", "parameters": [...]}}}``,
    each parameter as `ParamSchema.form_fields` describes it (name, kind, label,
    help_text, initial, min_value, max_value, choices), in declaration order."""
    keys = registry.keys()  # sorted; the registry is not a mapping
    classes = [registry.get(key) for key in keys]
    strategies = {
        cls.key: {"name": cls.name, "version": cls.version, "parameters": cls.schema.form_fields()}
        for cls in classes
    }
    return {"max_runs": MAX_RUNS, "strategies": strategies}
