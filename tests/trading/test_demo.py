"""The demo seeds paper accounts whose keys the paper exchange really accepts."""

import io

import pytest
from django.core.management import call_command

from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.core.demo import ensure_demo_superuser
from apps.exchange.for_account import gateway_for_account
from apps.paper_exchange.config import ExchangeConfig, default_data_dir
from apps.paper_exchange.server.app import ServerThread
from apps.strategies.models import StrategyConfig

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_provisions_keys_the_paper_exchange_then_accepts(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # Nothing listens here while seeding: keys go into the state file, as in `make run`.
    settings.PAPER_EXCHANGE_URL = "http://127.0.0.1:9"
    ensure_demo_superuser()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    accounts = list(ExchangeAccount.objects.order_by("name"))
    assert [a.name for a in accounts] == [
        "Paper BTC mean reversion", "Paper ETH trend", "Paper XRP/ETH breakout",
    ]  # fmt: skip
    assert {a.status for a in accounts} == {AccountStatus.ACTIVE}
    configs = StrategyConfig.objects.filter(enabled=True)
    assert sorted(s for c in configs for s in c.symbols) == ["BTCUSDT", "ETHUSDT", "XRPETH"]
    assert "paper account 'Paper ETH trend' (created)" in out.getvalue()

    # The paper exchange started afterwards on that state file knows every key.
    server = ServerThread(
        ExchangeConfig(port=0, data_dir=default_data_dir(), synthetic_history_days=1,
                       state_file=tmp_path / "paper_exchange_state.json", test_clock=True)
    ).start()  # fmt: skip
    try:
        settings.PAPER_EXCHANGE_URL = server.url
        balances = {
            a.name: {b["asset"]: b["free"] for b in gateway_for_account(a).account()["balances"]}
            for a in accounts
        }
    finally:
        server.stop()
    assert balances["Paper ETH trend"]["USDT"].startswith("10000")
    assert balances["Paper XRP/ETH breakout"]["ETH"].startswith("10")

    # Seeding again keeps what exists and provisions nothing new.
    settings.PAPER_EXCHANGE_URL = "http://127.0.0.1:9"
    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert ExchangeAccount.objects.count() == 3
    assert "(exists)" in again.getvalue()
