"""Ramp-up: a newly live config trades from the symbol's minimum order up to the wanted
size, linearly over the ramp days from its approval; paper configs are never reduced."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest

from apps.strategies.models import StrategyConfig
from apps.trading.rampup import ramp_quantity, ramp_started_at
from tests.accounts.factories import make_org
from tests.trading.support import active_account, make_config, sync_default_symbols
from tests.trading.test_golive import Scene, key_rights  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db]

D = Decimal
DAY = timedelta(days=1)


def _sizes(config, start, days):
    return [
        ramp_quantity(config=config, wanted=D("1.5"), min_quantity=D("0.1"), now=start + d * DAY)
        for d in days
    ]


def test_paper_configs_trade_the_wanted_size_from_day_one():
    sync_default_symbols("paper")
    config = make_config(active_account(make_org()))
    assert _sizes(config, config.created_at, [0, 1, 30]) == [D("1.5")] * 3


def test_a_live_config_grows_linearly_from_the_minimum_over_seven_days():
    sync_default_symbols("live")
    config = make_config(active_account(make_org(), environment="live"))
    start = ramp_started_at(config)
    assert start == config.created_at  # no go-live request: from its creation
    sizes = _sizes(config, start, [0, 1, 3.5, 7, 10])
    step = (D("1.5") - D("0.1")) / 7
    assert sizes[0] == D("0.1")
    assert sizes[1] == D("0.1") + step
    assert sizes[2] == D("0.1") + step * D("3.5")
    assert sizes[3] == D("1.5")
    assert sizes[4] == D("1.5")
    assert all(a <= b for a, b in itertools.pairwise(sizes))


def test_the_ramp_counts_from_the_go_live_approval(key_rights, settings):  # noqa: F811
    settings.TRADING_RAMP_UP_DAYS = 4
    scene = Scene(key_rights)
    request = scene.approve()
    config = StrategyConfig.objects.get(pk=request.live_config_id)
    assert ramp_started_at(config) == request.approved_at
    sizes = _sizes(config, request.approved_at, [-1, 0, 2, 4])
    assert sizes == [D("0.1"), D("0.1"), D("0.8"), D("1.5")]


def test_a_wanted_size_below_the_minimum_is_left_alone(settings):
    settings.TRADING_RAMP_UP_DAYS = 0
    sync_default_symbols("live")
    config = make_config(active_account(make_org(), environment="live"))
    assert ramp_quantity(config=config, wanted=D("0.05"), min_quantity=D("0.1"),
                         now=config.created_at) == D("0.05")  # fmt: skip
    # Ramp-up switched off: the wanted size at once.
    assert ramp_quantity(config=config, wanted=D("2"), min_quantity=D("0.1"),
                         now=config.created_at) == D("2")  # fmt: skip
