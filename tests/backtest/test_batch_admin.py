"""Batches (sweep, walk-forward, A/B) created from the admin ops console: one
`create_batch` call as the admin user, the children's tasks on the real broker, the
service's errors on their field with nothing created, and the API's roles."""

import base64
import json

import pytest

from apps.audit.models import AuditEvent
from apps.backtest import execute
from apps.backtest.models import Backtest, BacktestBatch, Status
from apps.risk.models import RiskProfile
from tests.accounts.factories import make_account, otp_login
from tests.trading.support import make_config

from .db_support import period
from .test_backtest_product import PARAMS, _staff, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/backtest/backtestbatch/add/"
BATCH_PERMISSIONS = ("view_backtestbatch", "add_backtestbatch", "view_backtest")
QUEUE = "backtest"  # the Celery queue the children's run tasks go to


def change_url(batch) -> str:
    return f"/admin/backtest/backtestbatch/{batch.pk}/change/"


def form_data(desk, **fields) -> dict:
    """The add page's fields as a browser posts them; JSON fields given as Python values."""
    start, end = period()
    data = {
        "organization": desk.org.pk, "kind": "sweep", "name": "", "account": "",
        "symbols_text": "BTCUSDT", "interval": "1h", "environment": "paper",
        "start_0": start.strftime("%Y-%m-%d"), "start_1": start.strftime("%H:%M:%S"),
        "end_0": end.strftime("%Y-%m-%d"), "end_1": end.strftime("%H:%M:%S"),
        "strategy": "trend_following", "params": PARAMS, "risk_profile": "",
        "fill_mode": "next_open", "commission": "0.001", "slippage": "0",
        "initial_cash": "10000", "grid": "", "objective": "sharpe", "folds": "",
        "train_ratio": "", "variant": "",
    } | fields  # fmt: skip
    for name in ("params", "grid", "variant"):
        if not isinstance(data[name], str):
            data[name] = json.dumps(data[name])
    return data


@pytest.fixture
def admin_as(client, redis_client):
    """Sign `client` in to the admin (2FA verified) as a staff user with the batch
    permissions, so only the organization role decides what it may do."""

    def sign_in(user):
        otp_login(client, _staff(user, *BATCH_PERMISSIONS))
        return client

    return sign_in


@pytest.fixture
def submit(django_capture_on_commit_callbacks):
    """POST the add page; the on-commit callbacks run, so queued runs reach the broker."""

    def post(client, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(ADD_URL, data)

    return post


def queued_runs(redis_client) -> list[int]:
    """The backtest ids of the run tasks waiting on the real broker's backtest queue."""
    ids = []
    for raw in redis_client.lrange(QUEUE, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "apps.backtest.tasks.run_backtest"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return sorted(ids)


def created(response) -> BacktestBatch:
    assert response.status_code == 302, response.content.decode()[-3000:]
    batch = BacktestBatch.objects.get()
    assert response["Location"] == change_url(batch)  # straight to its runs and summary
    return batch


def form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    return response.context["adminform"].form.errors


# --- creating each kind ----------------------------------------------------------------


def test_a_sweep_queues_one_run_per_combination(world, admin_as, submit, redis_client):  # noqa: F811
    client = admin_as(world.desk.trader)
    grid = {"fast": [5, 10], "slow": [30, 40, 50]}
    data = form_data(world.desk, name="admin sweep", grid=grid, objective="sortino")
    batch = created(submit(client, data))
    assert (batch.kind, batch.name, batch.organization) == ("sweep", "admin sweep", world.desk.org)
    assert batch.created_by == world.desk.trader.username
    assert (batch.spec["grid"], batch.spec["objective"]) == (grid, "sortino")
    runs = list(batch.runs.order_by("pk"))
    assert sorted((r.params["fast"], r.params["slow"]) for r in runs) == [
        (5, 30), (5, 40), (5, 50), (10, 30), (10, 40), (10, 50),
    ]  # fmt: skip
    assert {(r.status, r.role, r.created_by) for r in runs} == {
        (Status.QUEUED, "sweep", world.desk.trader.username)
    }
    assert queued_runs(redis_client) == [r.pk for r in runs]
    event = AuditEvent.objects.get(action="backtest_batch.created")
    assert (event.actor_id, event.organization_id) == (world.desk.trader.pk, world.desk.org.pk)

    page = client.get(change_url(batch)).content.decode()
    assert all(f"/admin/backtest/backtest/{r.pk}/change/" in page for r in runs)
    assert 'http-equiv="refresh"' not in page  # queued: the page follows the runs live
    assert all(f'<tr data-backtest-id="{r.pk}" data-status="queued">' in page for r in runs)
    assert 'name="_save"' not in page  # and stays read-only
    assert client.post(change_url(batch), {"name": "renamed"}).status_code == 403


def test_a_walk_forward_analysis_creates_the_folds(world, admin_as, submit, redis_client):  # noqa: F811
    client = admin_as(world.desk.trader)
    data = form_data(
        world.desk, kind="walk_forward", grid={"fast": [5, 10]}, folds="3", train_ratio="0.6",
        anchored="on",
    )  # fmt: skip
    batch = created(submit(client, data))
    assert batch.kind == "walk_forward"
    assert (batch.spec["train_ratio"], batch.spec["anchored"]) == (0.6, True)
    windows = batch.spec["windows"]
    assert [w[0] for w in windows] == [1, 2, 3]
    assert len({w[1] for w in windows}) == 1  # anchored: every training window starts at once
    runs = list(batch.runs.order_by("pk"))
    roles = sorted(r.role for r in runs)
    assert roles == ["train 1"] * 2 + ["train 2"] * 2 + ["train 3"] * 2  # tests come later
    for run in runs:
        fold = windows[int(run.role.split()[1]) - 1]
        assert run.end.timestamp() * 1000 == fold[2]  # each run trains on its fold's window
    assert queued_runs(redis_client) == [r.pk for r in runs]


def test_an_ab_comparison_runs_the_base_and_the_variant(world, admin_as, submit, redis_client):  # noqa: F811
    client = admin_as(world.desk.trader)
    data = form_data(world.desk, kind="compare", variant={"params": {"fast": 20, "slow": 60}})
    batch = created(submit(client, data))
    runs = {r.role: r for r in batch.runs.all()}
    assert set(runs) == {"A", "B"}
    assert (runs["A"].params["fast"], runs["A"].params["slow"]) == (10, 30)
    assert (runs["B"].params["fast"], runs["B"].params["slow"]) == (20, 60)
    assert batch.spec["variant"] == {"params": {"fast": 20, "slow": 60}}
    assert queued_runs(redis_client) == sorted(r.pk for r in runs.values())


def test_risk_profiles_are_those_the_user_sees(world, admin_as, submit, redis_client):  # noqa: F811
    cautious = RiskProfile.objects.create(name="cautious")
    hidden = RiskProfile.objects.create(name="another desk's")
    make_config(make_account(world.desk.org), risk_profile=cautious)
    make_config(make_account(world.other.org), risk_profile=hidden)
    client = admin_as(world.desk.trader)

    # Another desk's profile, by id in the variant or chosen as the base's: refused.
    variant = form_data(world.desk, kind="compare", variant={"risk_profile": hidden.pk})
    errors = form_errors(submit(client, variant))
    assert "risk_profile must be the id of a risk profile you see" in errors["variant"][0]
    base = form_data(
        world.desk, kind="compare", risk_profile=hidden.pk, variant={"params": {"fast": 20}}
    )
    assert list(form_errors(submit(client, base))) == ["risk_profile"]
    assert not BacktestBatch.objects.exists()

    data = form_data(world.desk, kind="compare", variant={"risk_profile": cautious.pk})
    batch = created(submit(client, data))
    runs = {r.role: r for r in batch.runs.all()}
    assert (runs["A"].risk_profile_name, runs["B"].risk_profile_name) == ("", "cautious")
    assert runs["A"].risk is None
    cautious.refresh_from_db()  # the stored decimals, as the service read them
    assert runs["B"].risk == execute.risk_snapshot(cautious)
    assert queued_runs(redis_client) == sorted(r.pk for r in runs.values())


def test_the_single_backtest_page_shares_the_risk_profile_field(world, admin_as):  # noqa: F811
    cautious = RiskProfile.objects.create(name="cautious")
    make_config(make_account(world.desk.org), risk_profile=cautious)
    client = admin_as(world.desk.trader)
    _staff(world.desk.trader, "add_backtest")
    response = client.post("/admin/backtest/backtest/add/", form_data(
        world.desk, risk_profile=cautious.pk
    ))  # fmt: skip
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Backtest.objects.get().risk_profile_name == "cautious"


# --- bad input: the service's message on its field, nothing created --------------------

TOO_MANY = {"fast": list(range(2, 40)), "slow": list(range(41, 60))}  # 722 > 500
INVALID = [
    ("unknown grid parameter", {"grid": {"nope": [1, 2]}}, "grid",
     "grid.nope: is not a parameter of this strategy"),
    ("too many combinations", {"grid": TOO_MANY}, "grid",
     "must expand to at most 500 combinations"),
    ("walk-forward too many runs", {"kind": "walk_forward", "grid": {"fast": list(range(2, 28)),
     "slow": list(range(30, 40))}, "folds": "2"}, "grid", "combinations x folds must be at most"),
    ("no folds", {"kind": "walk_forward", "grid": {"fast": [5]}}, "folds",
     "must be an integer from 1 to 50"),
    ("zero folds", {"kind": "walk_forward", "grid": {"fast": [5]}, "folds": "0"}, "folds",
     "must be an integer from 1 to 50"),
    ("train ratio", {"kind": "walk_forward", "grid": {"fast": [5]}, "folds": "2",
     "train_ratio": "2"}, "train_ratio", "must be between 0.1 and 0.95"),
    ("empty variant", {"kind": "compare", "variant": {}}, "variant",
     "must name what B changes"),
    ("variant the same as the base", {"kind": "compare", "variant": {"params": PARAMS}},
     "variant", "must change something"),
    ("variant parameter", {"kind": "compare", "variant": {"params": {"fast": 1}}}, "variant",
     "variant.params.fast"),
    ("grid on an A/B", {"kind": "compare", "grid": {"fast": [5, 10]},
     "variant": {"params": {"fast": 20}}}, "grid", "takes a variant, not a grid"),
    ("variant on a sweep", {"grid": {"fast": [5, 10]}, "variant": {"params": {"fast": 20}}},
     "variant", "only an A/B comparison takes a variant"),
    ("no grid on a sweep", {}, "grid", "grid must map at least one parameter"),
    ("base parameter", {"grid": {"slow": [30]}, "params": {"fast": 1}}, "params", "params.fast"),
    ("base symbol", {"grid": {"fast": [5]}, "symbols_text": "NOPEUSDT"}, "symbols_text",
     "not a known symbol"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field", "message"), [case[1:] for case in INVALID], ids=[c[0] for c in INVALID]
)
def test_bad_input_names_the_field_and_creates_nothing(
    world,  # noqa: F811
    admin_as,
    submit,
    redis_client,
    fields,
    field,
    message,
):
    client = admin_as(world.desk.trader)
    errors = form_errors(submit(client, form_data(world.desk, **fields)))
    assert list(errors) == [field], errors
    assert message in errors[field][0]
    assert not BacktestBatch.objects.exists()
    assert not Backtest.objects.exists()
    assert not AuditEvent.objects.filter(action="backtest_batch.created").exists()
    assert queued_runs(redis_client) == []


# --- who may add ------------------------------------------------------------------------


def test_only_the_trader_role_gets_the_add_button_and_page(world, admin_as, submit, redis_client):  # noqa: F811
    desk = world.desk
    client = admin_as(desk.trader)
    assert ADD_URL in client.get("/admin/backtest/backtestbatch/").content.decode()
    assert client.get(ADD_URL).status_code == 200
    for user in (desk.viewer, desk.risk_officer, world.other.viewer):
        client = admin_as(user)
        assert ADD_URL not in client.get("/admin/backtest/backtestbatch/").content.decode()
        assert client.get(ADD_URL).status_code == 403
        data = form_data(desk, grid={"fast": [5, 10]})
        assert submit(client, data).status_code == 403
    assert not BacktestBatch.objects.exists()
    assert queued_runs(redis_client) == []


def test_another_organizations_trader_cannot_add_to_this_one(world, admin_as, submit, redis_client):  # noqa: F811
    client = admin_as(world.other.trader)
    page = client.get(ADD_URL)
    assert page.status_code == 200  # they may add batches in their own organization
    choices = page.context["adminform"].form.fields["organization"].queryset
    assert list(choices) == [world.other.org]
    errors = form_errors(submit(client, form_data(world.desk, grid={"fast": [5, 10]})))
    assert list(errors) == ["organization"]
    assert not BacktestBatch.objects.exists()
    assert queued_runs(redis_client) == []
