"""What `make run` starts: every process, and a Redis only when none answers."""

import pytest

from apps.core.errors import ConfigurationError
from apps.core.standalone import procfile_lines, redis_process, write_procfile
from tests.support.processes import free_port


def test_all_processes_are_started(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    lines = procfile_lines(host="127.0.0.1", port=8123)
    assert {"web", "worker", "beat", "paper", "streams"} <= set(lines)
    assert "run_streams --shard 0/1" in lines["streams"]
    assert "config.asgi:application" in lines["web"]
    assert "-p 8123" in lines["web"]
    assert "-Q execution,default,backtest" in lines["worker"]
    assert "run_paper_exchange" in lines["paper"]
    assert "--port 9100" in lines["paper"]
    assert "redis" not in lines  # the test Redis answers
    procfile = write_procfile(lines, tmp_path / "Procfile")
    assert procfile.read_text().count("\n") == len(lines)


def test_no_redis_is_started_when_one_answers(settings, tmp_path):
    assert redis_process(settings.REDIS_URL, tmp_path) is None


def test_a_local_redis_is_started_under_var_when_none_answers(tmp_path):
    port = free_port()
    line = redis_process(f"redis://127.0.0.1:{port}/0", tmp_path)
    assert line is not None
    assert f"--port {port}" in line
    assert str(tmp_path / "redis") in line


def test_an_unreachable_remote_redis_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        redis_process(f"redis://redis.invalid:{free_port()}/0", tmp_path)
    assert "REDIS_URL" in caught.value.message


def test_web_starts_only_once_the_paper_exchange_listens(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    web = procfile_lines(host="127.0.0.1", port=8123)["web"]
    wait, _, serve = web.partition(" && ")
    assert "apps.core.waitfor 127.0.0.1:9100" in wait
    assert "daphne" in serve


def test_waitfor_reports_a_port_that_never_opens():
    from apps.core.waitfor import main

    assert main([f"127.0.0.1:{free_port()}", "--timeout", "0.5"]) == 1
