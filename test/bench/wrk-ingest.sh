#!/usr/bin/env bash
# Single-heartbeat ingest measured as a user runs it: `npm start` (every role in one process) on a
# fresh database, 1,000 node tokens, wrk from outside the process (1 thread, 100 keep-alive
# connections), alternating with a bare node:http server answering 202 in the same run. Prints,
# per run, requests/s, p50/p99, and the server's CPU per 1,000 requests (utime+stime from /proc),
# which a busy shared machine disturbs far less than requests/s; for the engine also the CPU of the
# Postgres backends serving its database per 1,000 requests, which shares the same cores ("-" for
# the bare server, which Postgres does nothing for).
#
#   test/bench/wrk-ingest.sh [rounds=3] [seconds=10]      (needs wrk, psql, Postgres and Redis)
#   ENGINE_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the engine (written when it stops).
set -euo pipefail
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
DB=lifeline_wrk_$$
PG=${BENCH_PG_URL:-postgres://root@127.0.0.1:5432}
ENGINE_PORT=${ENGINE_PORT:-18710}
BARE_PORT=${BARE_PORT:-18711}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$PG/postgres" -c "drop database if exists $DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q "$PG/postgres" -c "create database $DB" >/dev/null

export DATABASE_URL="$PG/$DB" PORT=$ENGINE_PORT LIFELINE_QUEUE_PREFIX="wrk$$" LOG_LEVEL=warn
export LIFELINE_ADMIN_TOKEN="wrk-admin-token-$$-0123456789"
(cd "$ROOT" && exec node ${ENGINE_NODE_FLAGS:-} dist/workers/main.js) >"$WORK/engine.log" 2>&1 &
pids+=($!); ENGINE=$!
node -e "require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(202, { 'content-type': 'application/json' }); s.end('{\"accepted\":1}'); }); }).listen($BARE_PORT)" &
pids+=($!); BARE=$!
until curl -sf "http://127.0.0.1:$ENGINE_PORT/healthz" >/dev/null; do sleep 0.5; done

node -e "
const base = 'http://127.0.0.1:$ENGINE_PORT', out = [];
let next = 0;
(async () => {
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (next < 1000) {
      const i = next++;
      const r = await fetch(base + '/v1/nodes', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.LIFELINE_ADMIN_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'wrk-' + i }) });
      out[i] = (await r.json()).token;
    }
  }));
  require('node:fs').writeFileSync('$WORK/tokens.txt', out.join('\n') + '\n');
})();"

TICK=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
backends() { psql -qAt "$PG/postgres" -c "select pid from pg_stat_activity where datname = '$DB'"; }
# Postgres does nothing for the bare server: its backends are read only around runs given "postgres",
# and the column reads "-" for the others, so every line has the same columns.
run() { # label pid port [postgres]
  WRK_TOKENS="$WORK/tokens.txt" wrk -t1 -c100 -d3s -s "$ROOT/test/bench/wrk-heartbeats.lua" "http://127.0.0.1:$3" >/dev/null
  local c0 c1 out rps pg=0 p pg_per1k=-
  local -A before=()
  if [[ ${4:-} == postgres ]]; then for p in $(backends); do before[$p]=$(cpu "$p"); done; fi
  c0=$(cpu "$2")
  out=$(WRK_TOKENS="$WORK/tokens.txt" wrk -t1 -c100 -d"${SECONDS_PER_RUN}s" -s "$ROOT/test/bench/wrk-heartbeats.lua" "http://127.0.0.1:$3" | grep '^RESULT')
  c1=$(cpu "$2")
  rps=$(sed 's/.*rps=\([0-9]*\).*/\1/' <<<"$out")
  per1k() { awk -v d="$1" -v t="$TICK" -v n=$((rps * SECONDS_PER_RUN)) 'BEGIN { printf "%.1f", d / t * 1e6 / n }'; }
  if [[ ${4:-} == postgres ]]; then
    # A backend opened during the run counts from zero; one closed during it is missed.
    for p in $(backends); do pg=$((pg + $(cpu "$p") - ${before[$p]:-0})); done
    pg_per1k=$(per1k "$pg")
  fi
  echo "$1 load=$(cut -d' ' -f1 /proc/loadavg) ${out#RESULT } cpu_ms_per_1k=$(per1k $((c1 - c0))) postgres_cpu_ms_per_1k=$pg_per1k"
}
echo "# $(date -u +%FT%TZ) $(git -C "$ROOT" describe --always --dirty) load: $(cut -d' ' -f1-3 /proc/loadavg)"
# The engine's code is warm before the first measured run, as a running engine's would be.
WRK_TOKENS="$WORK/tokens.txt" wrk -t1 -c100 -d10s -s "$ROOT/test/bench/wrk-heartbeats.lua" "http://127.0.0.1:$ENGINE_PORT" >/dev/null
for _ in $(seq "$ROUNDS"); do
  run bare "$BARE" "$BARE_PORT"
  run lifeline "$ENGINE" "$ENGINE_PORT" postgres
done
