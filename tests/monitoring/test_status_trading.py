"""/status for the trading fleet: the streams' shard heartbeats with their age (stale
when old), request weight against the budget, and the largest drawdowns of the
accounts the viewer may see; /readyz stays about the process itself."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.exchange.limiter import Limits
from apps.monitoring.stream_status import stream_heartbeats, weight_usage
from apps.trading.services import record_equity_snapshot
from tests.accounts.factories import make_org, make_user, member, otp_login
from tests.trading.support import active_account

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def ops_client(client):
    otp_login(client, make_user("ops-trading", staff=True))
    return client


def _beat(redis_client, kind, environment, shard, age, **details):
    document = {"shard": f"{shard}/2", "seen_at": time.time() - age, **details}
    redis_client.set(f"spotdesk:heartbeat:{kind}:{environment}:{shard}", json.dumps(document))


def test_stream_heartbeats_are_listed_with_their_age_and_stale_when_old(
    ops_client, redis_client, settings
):
    settings.STREAMS_HEARTBEAT_STALE_SECONDS = 60
    _beat(redis_client, "streams", "paper", 0, 3, streams=12, reconnects=1)
    _beat(redis_client, "userdata", "paper", 1, 400, accounts=5)

    beats = {(b.kind, b.shard): b for b in stream_heartbeats(redis_client)}
    assert not beats[("market data", "0/2")].stale
    assert beats[("user data", "1/2")].stale
    assert 399 <= beats[("user data", "1/2")].age_seconds < 410

    data = ops_client.get("/status?format=json").json()
    rows = {(s["kind"], s["shard"]): s for s in data["streams"]}
    assert rows[("market data", "0/2")]["stale"] is False
    assert rows[("market data", "0/2")]["streams"] == 12
    assert rows[("user data", "1/2")]["stale"] is True
    assert rows[("user data", "1/2")]["accounts"] == 5
    assert data["healthy"] is False  # a stale stream degrades the fleet
    page = ops_client.get("/status").content.decode()
    table = page[page.index('id="streams"') : page.index("</table>", page.index('id="streams"'))]
    assert "user data" in table
    assert 'class="bad">stale' in table
    assert ops_client.get("/readyz").status_code == 200  # /readyz knows nothing of streams


def test_weight_usage_of_the_current_minute_against_the_budget(ops_client, redis_client):
    now_ms = int(time.time() * 1000)
    start = now_ms - now_ms % 60_000
    prefix = "exchange:limiter:default:paper:ip:request_weight:1M"
    redis_client.set(f"{prefix}:{start}", 321)
    redis_client.set(f"{prefix}:{start - 60_000}", 999)  # the minute before: over
    budget = Limits.binance_defaults().weight[0].limit

    (usage,) = weight_usage(redis_client, now_ms=now_ms)
    assert (usage.scope, usage.used, usage.budget) == ("default:paper", 321, budget)

    data = ops_client.get("/status?format=json").json()
    assert data["weight_usage"][0]["scope"] == "default:paper"
    assert data["weight_usage"][0]["budget"] == budget
    assert data["weight_usage"][0]["used"] in (321, 0)  # 0 if the minute just turned


def test_largest_drawdowns_are_scoped_to_what_the_viewer_sees(client, redis_client):
    org, other = make_org(), make_org()
    mine, foreign = active_account(org), active_account(other)
    earlier = timezone.now() - timedelta(hours=3)
    for account, later in ((mine, "800"), (foreign, "500")):
        record_equity_snapshot(account=account, taken_at=earlier, equity=D("1000"))
        record_equity_snapshot(
            account=account, taken_at=earlier + timedelta(hours=1), equity=D(later)
        )
    ExchangeAccount.objects.filter(pk=mine.pk).update(status=AccountStatus.HALTED)
    viewer = member(org, "admin")
    viewer.is_staff = True
    viewer.save(update_fields=["is_staff"])
    otp_login(client, viewer)

    data = client.get("/status?format=json").json()

    assert [r["account_id"] for r in data["largest_drawdowns"]] == [mine.pk]
    assert D(data["largest_drawdowns"][0]["drawdown"]) == D("0.2")
    assert data["largest_drawdowns"][0]["status"] == "halted"
    assert data["accounts_by_status"] == {"halted": 1}
    page = client.get("/status").content.decode()
    table = page[page.index('id="drawdowns"') :]
    assert "20.00 %" in table
    assert foreign.name not in table
