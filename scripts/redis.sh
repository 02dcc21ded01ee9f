#!/usr/bin/env bash
# Make sure Redis answers at REDIS_URL (for `make run`): if nothing listens there, start a private redis-server
# under $KILN_DATA_DIR/redis on that port, with an append-only file fsynced once a second, so queued messages
# and concurrency leases survive its restart (at most a second of writes is lost) instead of waiting for the reaper.
set -euo pipefail
: "${REDIS_URL:?}" "${KILN_DATA_DIR:?}"
redis_host=$(python3 -c "import urllib.parse,os;u=urllib.parse.urlparse(os.environ['REDIS_URL']);print(u.hostname or '127.0.0.1', u.port or 6379)")
read -r rhost rport <<<"$redis_host"
if ! (exec 3<>"/dev/tcp/$rhost/$rport") 2>/dev/null; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "kiln: no Redis at $rhost:$rport; starting a private one under $KILN_DATA_DIR/redis"
    mkdir -p "$KILN_DATA_DIR/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$rport" --dir "$KILN_DATA_DIR/redis" --save "" --appendonly yes --appendfsync everysec \
      --pidfile "$KILN_DATA_DIR/redis/redis.pid" --logfile "$KILN_DATA_DIR/redis/redis.log"
    for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/$rhost/$rport") 2>/dev/null && break; sleep 0.1; done
  else
    echo "kiln: no Redis answers at $REDIS_URL and redis-server is not installed; install Redis or set REDIS_URL" >&2
    exit 1
  fi
fi

