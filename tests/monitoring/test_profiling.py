"""On-demand profiling: the all-threads sampler, the Redis protocol, and the command
against a real Celery worker (prefork: parent and children) and a real streams process."""

import json
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from apps.audit.models import AuditEvent
from apps.monitoring import profiling
from apps.monitoring.profiling import ProfileRequest
from tests.support.processes import VENV_BIN, ManagedProcess, child_env, database_url_for


# --- requests --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"seconds": 0}, "seconds"),
        ({"seconds": profiling.MAX_SECONDS + 1}, "seconds"),
        ({"seconds": 1, "interval": 0.0001}, "interval"),
        ({"seconds": 1, "fmt": "pdf"}, "fmt"),
        ({"seconds": 1, "max_bytes": 10}, "max_bytes"),
    ],
)
def test_a_request_out_of_bounds_is_refused_naming_the_field(fields, field):
    with pytest.raises(ValueError, match=field):
        ProfileRequest.new(**fields)


def test_a_request_survives_its_trip_through_json_and_ignores_unknown_keys():
    request = ProfileRequest.new(seconds=2.5, fmt="html")
    again = ProfileRequest.from_dict({**json.loads(json.dumps(request.as_dict())), "x": 1})
    assert again == request
    with pytest.raises(ValueError, match="request_id"):
        ProfileRequest.from_dict({**request.as_dict(), "request_id": "../etc"})


# --- sampling --------------------------------------------------------------------------
class Spinner:
    """A named thread burning CPU in a function whose name the profile must show."""

    def __init__(self, name="spinner"):
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.spin_in_a_recognisable_place, name=name)

    def spin_in_a_recognisable_place(self):
        while not self.stop.is_set():
            sum(i * i for i in range(500))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)


def test_the_sampler_sees_other_threads_but_not_itself_for_the_time_asked():
    with Spinner():
        samples = profiling.sample_threads(0.5, 0.005)
    assert 0.45 <= samples.duration < 1.5
    assert "spinner" in samples.threads
    assert threading.current_thread().name not in samples.threads
    spinner_time = sum(
        spent for stack, spent in samples.records if stack[1] == profiling.thread_root("spinner")
    )
    # Each sample weighs the time since the previous one: the thread's share adds up.
    assert spinner_time == pytest.approx(samples.duration, rel=0.25)
    assert any("spin_in_a_recognisable_place" in frame for stack, _ in samples.records
               for frame in stack)  # fmt: skip


@pytest.mark.parametrize("fmt", profiling.FORMATS)
def test_every_format_renders_the_threads_and_their_functions(fmt):
    with Spinner():
        result = profiling.run_profile(ProfileRequest.new(seconds=0.4, fmt=fmt))
    assert result["samples"] > 5
    assert "spin_in_a_recognisable_place" in result["output"]
    if fmt == "speedscope":
        assert json.loads(result["output"])["$schema"].startswith("https://www.speedscope.app")
    if fmt == "html":
        assert "<html" in result["output"].lower()


def test_output_is_cut_to_the_byte_limit_with_a_note():
    text = "é" * 5_000  # two bytes each: the cut must not split a character
    cut = profiling.bound(text, 1_000)
    assert len(cut.encode()) <= 1_000
    assert cut.endswith(profiling.TRUNCATION_NOTE.format(limit=1_000))
    assert profiling.bound("short", 1_000) == "short"


def test_one_profile_at_a_time_per_process():
    delivered = []
    first = profiling.start_background(ProfileRequest.new(seconds=0.3), delivered.append)
    assert first is not None
    assert profiling.start_background(ProfileRequest.new(seconds=0.3), delivered.append) is None
    first.join(10)
    assert [result["samples"] > 0 for result in delivered] == [True]
    later = profiling.start_background(ProfileRequest.new(seconds=0.1), delivered.append)
    later.join(10)
    assert len(delivered) == 2


def test_output_names_follow_the_format_and_the_process():
    assert profiling.format_for_path("p.html") == "html"
    assert profiling.format_for_path("p.speedscope.json") == "speedscope"
    assert profiling.format_for_path(None) == "text"
    assert profiling.output_path("out/p.html", "a", "a", 7) == "out/p.html"
    assert profiling.output_path("out/p.html", "a-7", "a", 7) == "out/p.7.html"
    assert profiling.output_path("out.d/profile", "a-7", "a", 7) == "out.d/profile.7"


def _frame(function, path):
    return f"{function}\x00{path}\x001"


def test_self_time_is_summed_by_kind_of_code_and_waits_go_to_their_caller():
    spotdesk = str(Path(profiling.__file__))
    lib = "/usr/lib/python3.11"
    head = [profiling.PROCESS_ROOT, profiling.thread_root("t")]
    records = [
        # a socket read under Spotdesk code is Spotdesk's time
        ([*head, _frame("f", spotdesk), _frame("recv", f"{lib}/socket.py")], 1.0),
        # a select() under the database driver is a wait for PostgreSQL, not idleness
        ([*head, _frame("execute", "/x/site-packages/psycopg/cursor.py"),
          _frame("select", f"{lib}/selectors.py")], 3.0),
        # an event loop in select() and a pool thread on its queue are idle
        ([*head, _frame("_run_once", f"{lib}/asyncio/base_events.py"),
          _frame("select", f"{lib}/selectors.py")], 2.0),
        ([*head, _frame("_worker", f"{lib}/concurrent/futures/thread.py"),
          _frame("SimpleQueue.get", "<built-in>")], 0.5),
        # Django's own `apps` package is not Spotdesk code
        ([*head, _frame("populate", "/x/site-packages/django/apps/registry.py")], 0.25),
    ]  # fmt: skip
    samples = profiling.Samples(records, time.time(), 6.75, 1.0, 5, {"t": 5}, 0.001, 0.001)
    root = profiling.to_session(samples, "test").root_frame()
    rows = dict(profiling.breakdown(profiling.self_times(root)))
    assert rows == {
        "PostgreSQL driver (psycopg, incl. waiting for the server)": pytest.approx(3.0),
        profiling.IDLE: pytest.approx(2.5),
        profiling.SPOTDESK_CODE: pytest.approx(1.0),
        "other (standard library, other packages)": pytest.approx(0.25),
    }


# --- the Redis protocol ------------------------------------------------------------------
def test_a_listener_registers_takes_one_request_and_stores_its_result(redis_client):
    listener = profiling.ProfileListener("unit@here", lambda: redis_client, kind="streams",
                                         poll=0.05).start()  # fmt: skip
    try:
        deadline = time.monotonic() + 5
        while "unit@here" not in profiling.live_listeners(redis_client):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        details = profiling.live_listeners(redis_client)["unit@here"]
        assert details["kind"] == "streams"
        assert redis_client.ttl(profiling.listener_key("unit@here")) > 0
        request = ProfileRequest.new(seconds=0.3)
        profiling.post_request(redis_client, "unit@here", request)
        result_id = profiling.child_result_id(request.request_id, details["pid"])
        results = profiling.wait_for_results(redis_client, [result_id], 10, poll=0.05)
    finally:
        listener.stop()
    result = results[result_id]
    assert result["samples"] > 0
    # The listener samples from its own thread and leaves it out.
    assert "spotdesk-profile-listener-streams" not in result["threads"]
    assert redis_client.get(profiling.result_key(result_id)) is None  # read once, then gone
    assert redis_client.get(profiling.request_key("unit@here")) is None
    assert "unit@here" not in profiling.live_listeners(redis_client)


def test_a_result_that_never_comes_is_reported_missing(redis_client):
    waited = []
    found = profiling.wait_for_results(
        redis_client, ["nobody"], 0.2, poll=0.05, sleep=lambda s: (waited.append(s), time.sleep(s))
    )
    assert found == {"nobody": None}
    assert waited


# --- real processes ----------------------------------------------------------------------
def _wait(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(message())


@pytest.fixture
def prefork_worker(redis_client):
    """A real worker with the default prefork pool, two children, its own queue."""
    name = f"profiling-{int(time.time())}@localhost"
    env = child_env(DATABASE_URL=database_url_for(connection.settings_dict))
    worker = ManagedProcess(
        "celery-prefork",
        [str(VENV_BIN / "celery"), "-A", "celery_worker", "worker", "-Q", "profiling-test",
         "--pool=prefork", "--concurrency=2", "-n", name, "--without-gossip",
         "--without-mingle", "--loglevel=INFO"],
        env,
    )  # fmt: skip
    from celery_worker import app

    try:
        _wait(
            lambda: app.control.ping(destination=[name], timeout=1),
            90,
            lambda: worker.output()[-3000:],
        )
        worker.hostname = name
        yield worker
    finally:
        worker.stop()


def _parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # after "pid (name) state"


def _audited(target):
    return AuditEvent.objects.filter(action="operations.process_profiled", object_id=target)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_profiling_a_running_prefork_worker_covers_the_parent_and_every_child(
    prefork_worker, redis_client, tmp_path, capsys
):
    from celery_worker import app

    def children_listening():
        # This worker's children only: other tests' prefork workers may still be alive
        # and registered in the same Redis database.
        found = profiling.live_listeners(redis_client).values()
        children = [
            d for d in found
            if d["kind"] == "worker-child" and _parent_pid(d["pid"]) == prefork_worker.popen.pid
        ]  # fmt: skip
        return children if len(children) == 2 else None

    children = _wait(children_listening, 60, lambda: prefork_worker.output()[-3000:])
    out = tmp_path / "worker.txt"
    call_command("profile_process", target=prefork_worker.hostname, seconds=2, out=str(out))

    parent = out.read_text()
    assert "[thread] MainThread" in parent
    written = sorted(path.name for path in tmp_path.iterdir())
    expected = sorted(["worker.txt", *(f"worker.{d['pid']}.txt" for d in children)])
    assert written == expected, capsys.readouterr()
    for child in children:
        assert "[thread] MainThread" in (tmp_path / f"worker.{child['pid']}.txt").read_text()
    summary = capsys.readouterr().out
    assert summary.count(" samples over ") == 3
    event = _audited(prefork_worker.hostname).get()
    assert event.changes["seconds"] == 2
    assert event.changes["format"] == "text"
    # The worker kept running and answers as before.
    assert prefork_worker.popen.poll() is None
    assert app.control.ping(destination=[prefork_worker.hostname], timeout=5)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_unknown_target_fails_fast_and_names_the_fix(redis_client):
    from django.core.management.base import CommandError

    started = time.monotonic()
    with pytest.raises(CommandError, match="--list"):
        call_command("profile_process", target="nobody@nowhere", seconds=1, timeout=1)
    assert time.monotonic() - started < 10


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_profiling_a_running_streams_process_through_its_listener(redis_client, tmp_path, capsys):
    env = child_env(
        DATABASE_URL=database_url_for(connection.settings_dict),
        # No exchange answers here: the process keeps retrying, which is all we need.
        PAPER_EXCHANGE_URL="http://127.0.0.1:9",
        STREAMS_METRICS_PORT="0",
    )
    streams = ManagedProcess(
        "run-streams",
        [str(VENV_BIN / "python"), "manage.py", "run_streams", "--environment", "paper",
         "--refresh", "1"],
        env,
    )  # fmt: skip
    try:
        listeners = _wait(
            lambda: {n: d for n, d in profiling.live_listeners(redis_client).items()
                     if d["kind"] == "streams"},
            60,
            lambda: streams.output()[-3000:],
        )  # fmt: skip
        ((name, details),) = listeners.items()
        assert name == profiling.streams_listener_name("paper", 0)
        assert details["pid"] == streams.popen.pid
        call_command("profile_process", list=True)
        assert name in capsys.readouterr().out

        out = tmp_path / "streams.html"
        call_command("profile_process", target=name, seconds=2, out=str(out))
        assert "<html" in out.read_text().lower()
        assert _audited(name).get().changes["format"] == "html"
        call_command("profile_process", target=name, seconds=1)
        text = capsys.readouterr().out
        assert "[thread] MainThread" in text
        assert "spotdesk-profile-listener" not in text
        assert streams.popen.poll() is None
    finally:
        streams.stop()
