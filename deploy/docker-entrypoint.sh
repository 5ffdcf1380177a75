#!/usr/bin/env bash
# Container entrypoint: runs Django's system checks (daphne and Celery don't), then
# becomes the requested role.
set -euo pipefail
role=${1:-web}
shift || true

check() { python manage.py check --deploy --fail-level WARNING; }

# prometheus_client's multiprocess mode needs an empty directory per container start.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "${PROMETHEUS_MULTIPROC_DIR:?}" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi

case "$role" in
  web)
    check
    exec daphne -b 0.0.0.0 -p "${WEB_PORT:-8000}" --proxy-headers config.asgi:application "$@" ;;
  worker)
    check
    exec celery -A celery_worker worker -Q "${WORKER_QUEUES:-execution,default}" \
      --concurrency "${WORKER_CONCURRENCY:-4}" --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
  worker-backtest)
    check
    exec celery -A celery_worker worker -Q backtest \
      --concurrency "${WORKER_CONCURRENCY:-2}" --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
  beat)
    check
    exec celery -A celery_worker beat --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
  streams)
    check
    # In a StatefulSet the pod ordinal (spotdesk-streams-<i>) is the shard index.
    if [ $# -eq 0 ] && [ -n "${STREAMS_SHARD_COUNT:-}" ]; then
      set -- --shard "${HOSTNAME##*-}/${STREAMS_SHARD_COUNT}"
    fi
    exec python manage.py run_streams "$@" ;;
  flower)
    # Flower reads FLOWER_BASIC_AUTH (user:password) from the environment.
    exec celery -A celery_worker flower --port=5555 "$@" ;;
  paper-exchange)
    exec python manage.py run_paper_exchange --host 0.0.0.0 --port "${PAPER_EXCHANGE_PORT:-9100}" "$@" ;;
  migrate)
    check
    exec python manage.py migrate --noinput "$@" ;;
  manage)
    exec python manage.py "$@" ;;
  *)
    exec "$role" "$@" ;;
esac
