#!/usr/bin/env bash
# Makes sure the backing services the test suite talks to are reachable:
# PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 (or DATABASE_URL/REDIS_URL
# hosts). Starts the local ones when they are installed but stopped; otherwise fails
# with a message that names the fix.
set -uo pipefail

pg_host=${PGHOST:-127.0.0.1}; pg_port=${PGPORT:-5432}
redis_host=${REDIS_HOST:-127.0.0.1}; redis_port=${REDIS_PORT:-6379}

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_listening() {
  for _ in $(seq 1 50); do listening "$1" "$2" && return 0; sleep 0.2; done
  return 1
}

if ! listening "$pg_host" "$pg_port"; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering on $pg_host:$pg_port; starting the local cluster"
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>&1 || true
    done
    wait_listening "$pg_host" "$pg_port"
  fi
  listening "$pg_host" "$pg_port" || {
    echo "ERROR: PostgreSQL is not reachable at $pg_host:$pg_port." >&2
    echo "Fix: install and start PostgreSQL (apt-get install postgresql), or set DATABASE_URL." >&2
    exit 1
  }
fi

if ! listening "$redis_host" "$redis_port"; then
  if command -v redis-server >/dev/null; then
    echo "Redis is not answering on $redis_host:$redis_port; starting redis-server"
    mkdir -p var/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" \
      --appendonly no --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log"
    wait_listening "$redis_host" "$redis_port"
  fi
  listening "$redis_host" "$redis_port" || {
    echo "ERROR: Redis is not reachable at $redis_host:$redis_port." >&2
    echo "Fix: install and start Redis (apt-get install redis-server), or set REDIS_URL." >&2
    exit 1
  }
fi
echo "services: PostgreSQL $pg_host:$pg_port and Redis $redis_host:$redis_port are reachable"
