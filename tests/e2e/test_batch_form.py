"""The batch add page in a real browser: the parameter rows built from the strategy's
schema (static/backtest/batch_form.js), the live configuration count, a server error
shown on its row and the typed values kept, and the batch created with the expected
grid or variant."""

import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from apps.backtest.models import BacktestBatch
from apps.strategies.engine import registry
from tests.accounts.factories import PASSWORD, code_for, make_org, member, totp_device
from tests.e2e.test_dashboard import _shot
from tests.support.processes import database_url_for, running_daphne
from tests.trading.support import sync_default_symbols

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADD_PATH = "/admin/backtest/backtestbatch/add/"
PERMISSIONS = ("view_backtestbatch", "add_backtestbatch", "view_backtest")


@pytest.fixture
def own_daphne(django_db_blocker):
    """A daphne for this test alone, not the session's: Django's flush between
    transactional tests numbers the content types anew, and a daphne that served an
    earlier test would log this test's admin addition (LogEntry) under a content type
    id it cached then and that no longer exists."""
    with django_db_blocker.unblock():
        database_url = database_url_for(connection.settings_dict)
    with running_daphne(database_url) as server:
        yield server


@pytest.fixture
def desk():
    sync_default_symbols("paper")
    organization = make_org("E2E batches")
    trader = member(organization, "trader", username="trader-e2e")
    trader.is_staff = True
    trader.save()
    trader.user_permissions.add(*Permission.objects.filter(codename__in=PERMISSIONS))
    device = totp_device(trader)
    connection.close()  # the browser's requests run in daphne, on their own connections
    return {"organization": organization, "device": device}


def _log_in(page, base_url: str, device) -> None:
    """The site's login (password and TOTP code), then on to the add page."""
    page.goto(f"{base_url}/accounts/login/?next={ADD_PATH}")
    page.fill("#id_username", "trader-e2e")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", code_for(device))
    page.click("button[type=submit]")
    page.wait_for_url(f"**{ADD_PATH}")


def _open_add_page(page, base_url, desk, *, kind: str, strategy: str, params: str) -> None:
    _log_in(page, base_url, desk["device"])
    page.select_option("#id_organization", str(desk["organization"].pk))
    page.select_option("#id_kind", kind)
    page.fill("#id_symbols_text", "BTCUSDT")
    page.select_option("#id_interval", "1h")
    page.select_option("#id_environment", "paper")
    for field, day in (("start", "2024-01-01"), ("end", "2024-02-01")):
        page.fill(f"#id_{field}_0", day)
        page.fill(f"#id_{field}_1", "00:00:00")
    page.select_option("#id_strategy", strategy)
    page.fill("#id_params", params)


def _row_names(page, table: str) -> list[str]:
    return page.locator(f"#{table} tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.param)"
    )


def _fill_range(page, name: str, start: str, stop: str, step: str) -> None:
    page.select_option(f"#grid-param-{name}-mode", "range")
    page.fill(f"#grid-param-{name}-start", start)
    page.fill(f"#grid-param-{name}-stop", stop)
    page.fill(f"#grid-param-{name}-step", step)


def _summary(page) -> str:
    return page.locator("#grid-builder-summary").inner_text()


def _save(page) -> None:
    with page.expect_navigation():
        page.click("input[name=_save]")


def test_a_sweep_built_from_two_ranges(page, own_daphne, desk):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _open_add_page(page, own_daphne.base_url, desk, kind="sweep", strategy="breakout", params="{}")
    # Without JavaScript the textareas are the form; with it, inputs replace them.
    assert page.locator("#id_grid").is_hidden()
    breakout = [p.name for p in registry.get("breakout").schema.params]
    assert _row_names(page, "grid-builder-table") == breakout
    assert page.locator("fieldset:has(#id_variant)").is_hidden()

    # Another strategy: its parameters, with their type, bounds and default.
    page.select_option("#id_strategy", "trend_following")
    trend = [p.name for p in registry.get("trend_following").schema.params]
    assert _row_names(page, "grid-builder-table") == trend
    bounds = page.locator('#grid-builder-table tr[data-param="fast"] .param-bounds').inner_text()
    assert bounds == "integer · 2 to 200 · default 12"
    assert _summary(page).startswith("Choose at least one parameter to sweep")
    assert page.locator("#grid-builder-rules").is_hidden()

    # "Edit as JSON" hands over the textarea; back to the inputs, they show what it says.
    page.click("#grid-builder-json-toggle")
    page.fill("#id_grid", '{"fast": [5, 10], "slow": {"start": 30, "stop": 40, "step": 10}}')
    page.click("#grid-builder-json-toggle")
    assert page.locator("#id_grid").is_hidden()
    assert page.input_value("#grid-param-fast-values") == "5, 10"
    assert page.input_value("#grid-param-slow-mode") == "range"
    assert _summary(page) == "Configurations: 4 (at most 500)"
    # The strategy's cross-field rule: the combinations that break it will be skipped.
    assert page.locator("#grid-builder-rules").inner_text() == (
        "Combinations that break a rule of the strategy are skipped, so the batch may run "
        "fewer: fast must be below slow."
    )
    page.select_option("#grid-param-fast-mode", "")
    page.select_option("#grid-param-slow-mode", "")

    _fill_range(page, "fast", "5", "20", "5")
    assert page.locator("#grid-param-fast-note").inner_text() == "n = 4: 5, 10, 15, 20"
    _fill_range(page, "atr_stop", "0.1", "0.3", "0.1")
    assert page.locator("#grid-param-atr_stop-note").inner_text() == "n = 3: 0.1, 0.2, 0.3"
    assert _summary(page) == "Configurations: 12 (at most 500)"
    grid_json = {
        "fast": {"start": 5, "stop": 20, "step": 5},
        "atr_stop": {"start": 0.1, "stop": 0.3, "step": 0.1},
    }
    assert json.loads(page.input_value("#id_grid")) == grid_json
    assert '"step": 0.1' in page.input_value("#id_grid")  # as typed, not 0.1000000000000000055

    # A walk-forward multiplies by its folds; past the service's limit the count says so.
    page.select_option("#id_kind", "walk_forward")
    page.fill("#id_folds", "3")
    assert _summary(page) == "Runs: 12 configurations \u00d7 3 folds = 36 (at most 500)"
    page.fill("#grid-param-fast-stop", "200")
    assert _summary(page) == "Runs: 120 configurations \u00d7 3 folds = 360 (at most 500)"
    page.fill("#id_folds", "5")
    assert page.locator("#grid-builder-summary.over-limit").count() == 1
    page.select_option("#id_kind", "sweep")
    page.fill("#grid-param-fast-stop", "20")
    assert _summary(page) == "Configurations: 12 (at most 500)"

    # A step of 0: marked at once; the server refuses it too and names the parameter.
    page.fill("#grid-param-fast-step", "0")
    assert page.locator("#grid-param-fast-step").get_attribute("aria-invalid") == "true"
    assert page.locator("#grid-param-fast-note").inner_text() == "step: must be above 0"
    _save(page)
    assert page.url.endswith(ADD_PATH)
    assert "grid.fast.step: must be above 0" in page.locator(".field-grid .errorlist").inner_text()
    assert page.locator('#grid-builder-table tr[data-param="fast"].param-row-error').count() == 1
    # The rows come back as they were typed.
    assert page.input_value("#grid-param-fast-start") == "5"
    assert page.input_value("#grid-param-atr_stop-step") == "0.1"
    assert not BacktestBatch.objects.exists()
    _shot(page, "batch-grid-error")

    page.fill("#grid-param-fast-step", "5")
    assert _summary(page) == "Configurations: 12 (at most 500)"
    _save(page)
    batch = BacktestBatch.objects.get()
    assert page.url.endswith(f"/admin/backtest/backtestbatch/{batch.pk}/change/")
    assert batch.kind == "sweep"
    assert batch.spec["grid"] == {"fast": [5, 10, 15, 20], "atr_stop": [0.1, 0.2, 0.3]}
    assert batch.runs.count() == 12
    assert batch.spec["skipped_by_rules"] == 0
    assert errors == []


def test_an_ab_comparison_built_from_overrides(page, own_daphne, desk):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _open_add_page(
        page,
        own_daphne.base_url,
        desk,
        kind="compare",
        strategy="trend_following",
        params='{"fast": 10, "slow": 30}',
    )
    assert page.locator("fieldset:has(#id_grid)").is_hidden()
    assert page.locator("#id_variant").is_hidden()
    assert page.locator("#variant-builder-summary").inner_text() == (
        "Give B at least one change: a strategy, a value or a risk profile."
    )
    # Each row shows what B keeps when left empty: A's value, else the default.
    assert page.get_attribute("#variant-param-fast", "placeholder") == "A: 10"
    assert page.get_attribute("#variant-param-adx_period", "placeholder") == "A: 14"

    page.fill("#variant-param-slow", "60")
    page.fill("#variant-param-atr_stop", "0.1")
    assert json.loads(page.input_value("#id_variant")) == {"params": {"slow": 60, "atr_stop": 0.1}}
    page.fill("#variant-param-fast", "1")
    assert page.locator("#variant-param-fast-note").inner_text() == "must be at least 2"
    page.fill("#variant-param-fast", "")

    # Another strategy for B: its own rows, starting from its defaults.
    page.select_option("#variant-strategy", "breakout")
    assert _row_names(page, "variant-builder-table") == [
        p.name for p in registry.get("breakout").schema.params
    ]
    assert page.get_attribute("#variant-param-entry_period", "placeholder") == "default: 20"
    assert json.loads(page.input_value("#id_variant")) == {"strategy": "breakout"}
    page.select_option("#variant-strategy", "")
    page.fill("#variant-param-slow", "60")
    page.fill("#variant-param-atr_stop", "0.1")
    page.select_option("#variant-risk-profile", "none")
    assert json.loads(page.input_value("#id_variant")) == {
        "params": {"slow": 60, "atr_stop": 0.1},
        "risk_profile": None,
    }
    _shot(page, "batch-variant")

    _save(page)
    batch = BacktestBatch.objects.get()
    assert page.url.endswith(f"/admin/backtest/backtestbatch/{batch.pk}/change/")
    runs = {r.role: r for r in batch.runs.all()}
    assert (runs["A"].params["fast"], runs["A"].params["slow"]) == (10, 30)
    # B changes what it names and keeps the rest of A's parameters.
    assert (runs["B"].params["fast"], runs["B"].params["slow"]) == (10, 60)
    assert runs["B"].params["atr_stop"] == 0.1
    assert runs["B"].start == datetime(2024, 1, 1, tzinfo=UTC)
    assert batch.spec["variant"] == {"params": {"slow": 60, "atr_stop": 0.1}}  # as asked
    assert errors == []
