"""`python manage.py profile_process --target NAME [--seconds 30] [--out profile.html]`:
profile a running worker or streams process, every thread, without restarting it.

A Celery worker (its node name, e.g. ``celery@host``) is reached through the
``spotdesk_profile`` remote-control command, a streams process (``--list`` shows its
name) through its Redis listener. The request is audited; the profile comes back through
Redis and is written to ``--out`` (stdout for text without ``--out``). See
docs/operations.md, "Profiling a running process".
"""

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import record_event
from apps.core.redis import get_redis
from apps.monitoring import profiling

# Room for rendering and for Redis after the sampling itself.
RESULT_GRACE_SECONDS = 30.0


class Command(BaseCommand):
    help = "Profile a running Celery worker or streams process (all threads) for a while."

    def add_arguments(self, parser):
        parser.add_argument("--target", help="worker node name (celery@host) or listener name")
        parser.add_argument("--seconds", type=float, default=30.0)
        parser.add_argument("--interval", type=float, default=profiling.DEFAULT_INTERVAL)
        parser.add_argument(
            "--format",
            choices=profiling.FORMATS,
            default=None,
            help="default: from --out (.html, .json = speedscope), else text",
        )
        parser.add_argument("--out", help="file to write (children get .<pid> before the suffix)")
        parser.add_argument("--max-bytes", type=int, default=profiling.DEFAULT_MAX_BYTES)
        parser.add_argument("--list", action="store_true", help="list profilable processes")
        parser.add_argument("--timeout", type=float, default=5.0, help="control reply timeout")

    def handle(self, *args, **options):
        redis = get_redis(timeout=5.0)
        if options["list"]:
            return self._list(redis, options["timeout"])
        target = options["target"]
        if not target:
            raise CommandError("--target: required (run with --list to see the names)")
        fmt = options["format"] or profiling.format_for_path(options["out"])
        if fmt != "text" and not options["out"]:
            raise CommandError(f"--out: required for the {fmt} format")
        try:
            request = profiling.ProfileRequest.new(
                seconds=options["seconds"], interval=options["interval"], fmt=fmt,
                max_bytes=options["max_bytes"],
            )  # fmt: skip
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        record_event(
            action="operations.process_profiled",
            actor_username=_operator(),
            object_type="process",
            object_id=target,
            changes={"request_id": request.request_id, "seconds": request.seconds,
                     "interval": request.interval, "format": fmt},
        )  # fmt: skip
        result_ids = self._send(redis, target, request, options["timeout"])
        self.stderr.write(f"profiling {target} for {request.seconds:g} s ({len(result_ids)} "
                          f"process(es)) ...")  # fmt: skip
        results = profiling.wait_for_results(
            redis, result_ids, request.seconds + RESULT_GRACE_SECONDS
        )
        self._write(results, result_ids, options["out"])

    def _send(self, redis, target: str, request, timeout: float) -> list[str]:
        listeners = profiling.live_listeners(redis)
        if target in listeners:
            profiling.post_request(redis, target, request)
            return [profiling.child_result_id(request.request_id, listeners[target]["pid"])]
        from celery_worker import app

        replies = app.control.broadcast(
            "spotdesk_profile", destination=[target], reply=True, timeout=timeout,
            arguments={"request": request.as_dict()},
        )  # fmt: skip
        answer = next((reply[target] for reply in replies if target in reply), None)
        if answer is None:
            raise CommandError(
                f"--target: no worker or listener named {target} answered "
                "(run with --list to see the names)"
            )
        if "error" in answer:
            raise CommandError(f"{target}: {answer['error']}")
        return list(answer["results"])

    def _write(self, results: dict, result_ids: list[str], out: str | None) -> None:
        missing = 0
        for result_id in result_ids:
            result = results[result_id]
            if result is None:
                missing += 1
                self.stderr.write(f"no profile came back for {result_id}")
                continue
            if "error" in result:
                self.stderr.write(f"pid {result.get('pid')}: {result['error']}")
                continue
            summary = (f"pid {result['pid']} on {result['host']}: {result['samples']} samples "
                       f"over {result['seconds']:.1f} s, {len(result['threads'])} thread(s), "
                       f"{result['cpu_seconds']:.2f} CPU s")  # fmt: skip
            if out:
                path = Path(profiling.output_path(out, result_id, result_ids[0], result["pid"]))
                path.write_text(result["output"], encoding="utf-8")
                self.stdout.write(f"{summary} -> {path}")
            else:
                self.stdout.write(summary)
                self.stdout.write(result["output"])
        if missing:
            raise CommandError(f"{missing} profile(s) did not come back in time")

    def _list(self, redis, timeout: float) -> None:
        from celery_worker import app

        for name, details in sorted(profiling.live_listeners(redis).items()):
            if details.get("kind") != "worker-child":  # reached through their worker
                self.stdout.write(f"{name}  ({details['kind']}, pid {details['pid']})")
        for reply in app.control.ping(timeout=timeout) or []:
            for name in reply:
                self.stdout.write(f"{name}  (celery worker)")


def _operator() -> str:
    try:
        return f"{getpass.getuser()} (manage.py)"
    except (KeyError, OSError):
        return "manage.py"
