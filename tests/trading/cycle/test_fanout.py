"""Fan-out: a closed candle becomes one task per (strategy, version, params, symbol,
interval), whatever the number of accounts sharing it."""

import pytest

from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.trading.cycle.fanout import fan_out
from apps.trading.models import Position
from tests.trading.support import active_account, sync_default_symbols

from .support import BREAKOUT, enabled_config

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def symbols():
    sync_default_symbols()
    sync_default_symbols("live")


def _collect(symbol="BTCUSDT", interval="1m", open_ms=1_700_000_040_000):
    sent = []
    count = fan_out("paper", symbol, interval, open_ms, enqueue=lambda *args: sent.append(args))
    assert count == len(sent)
    return sent


def test_same_parameters_share_one_task_and_different_ones_get_their_own():
    a, b = active_account(), active_account()
    first = enabled_config(a)
    second = enabled_config(b)
    sent = _collect()
    assert len(sent) == 1
    environment, symbol, interval, open_ms, ids = sent[0]
    assert (environment, symbol, interval, open_ms) == ("paper", "BTCUSDT", "1m", 1_700_000_040_000)
    assert sorted(ids) == sorted([first.pk, second.pk])

    other = enabled_config(b, params={**BREAKOUT, "entry_period": 5})
    sent = _collect()
    assert sorted(sorted(args[4]) for args in sent) == sorted(
        [sorted([first.pk, second.pk]), [other.pk]]
    )


def test_only_configs_trading_that_symbol_and_interval_of_active_accounts():
    account = active_account()
    wanted = enabled_config(account, symbols=("BTCUSDT", "ETHUSDT"))
    enabled_config(account, symbols=("ETHUSDT",))  # another symbol
    enabled_config(account, interval="5m")  # another interval
    paused = active_account()
    enabled_config(paused)
    ExchangeAccount.objects.filter(pk=paused.pk).update(status=AccountStatus.PAUSED)
    live = active_account(environment="live")
    enabled_config(live)  # another environment

    sent = _collect()
    assert [args[4] for args in sent] == [[wanted.pk]]
    assert all(isinstance(v, str | int | list) for v in sent[0])  # plain values only


def test_a_paused_account_holding_a_position_keeps_its_exit_management():
    account = active_account()
    config = enabled_config(account)
    Position.objects.create(
        account=account,
        strategy_config=config,
        symbol="BTCUSDT",
        base_asset="BTC",
        quote_asset="USDT",
        status="open",
        quantity="0.1",
        original_quantity="0.1",
    )
    ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.PAUSED)
    assert [args[4] for args in _collect()] == [[config.pk]]
    assert _collect(symbol="ETHUSDT") == []
