#!/usr/bin/env bash
# idm benchmark (`make bench`). Not a test: numbers only, nothing here fails on a slow result.
#
# Builds the release binary, seeds a fresh database per backend with `idm seed`, starts
# `idm serve` on loopback, drives load with wrk (Debian package; installed if missing) and
# writes bench/results/<date>-<backend>[-<tag>].md (+ raw JSON lines in bench/results/raw/).
# Scenarios whose route is not on this branch yet are reported as "endpoint missing".
#
# Settings (environment):
#   BENCH_BACKENDS      "sqlite postgres"   which backends to run
#   BENCH_USERS         100000              users in total (BENCH_USERS=1000000 for the big run)
#   BENCH_CLIENTS       1 (≥1M users) else 2  clients; users are split evenly
#   BENCH_TERMS         3                   active terms (consent scenario)
#   BENCH_DURATION      10                  seconds per scenario
#   BENCH_CONNECTIONS   32                  wrk connections
#   BENCH_THREADS       2                   wrk threads
#   BENCH_PORT          18080               server port (127.0.0.1 only)
#   BENCH_PG_URL        postgres://postgres@127.0.0.1:5432   server URL without database
#   BENCH_PG_PARAMS     sslmode=disable     query parameters of the server's PostgreSQL URL
#   BENCH_PGBENCH_CLIENTS 8                 pgbench -c
#   BENCH_PGBENCH_SCALE 10                  pgbench -i -s
#   BENCH_BASELINE      1                   also measure read p50 on a 1,000-user database
#   BENCH_SIZE_ROUNDS   3                   rounds of the size and paging comparisons; after the
#                                           first, the 1k and the main database take turns, and
#                                           the report compares medians
#   BENCH_TAG           (empty)             suffix of the result file name
#   BENCH_SKIP_BUILD    0                   1 = use the existing target/release/idm
#   BENCH_WORKDIR       /tmp/idm-bench      SQLite files, logs
#   BENCH_ONLY          (empty)             "lists" = only the list scenarios (1k baseline + main)
#   BENCH_PROPERTY_QUERY properties.employeeNumber=E1-500  property filter of the list-property
#                                           scenario (the seed gives user j of client i E{i}-{j})
#   BENCH_SCENARIOS     (empty)             space-separated scenario names to run (e.g.
#                                           "lifecycle paging-page-1"); empty = all
#   BENCH_IDM           target/release/idm  the binary (A/B of two builds; implies BENCH_SKIP_BUILD=1)
#   BENCH_DB            idm_bench           database name (SQLite file / PostgreSQL database; _1k and
#                                           _pgbench suffixed ones too): two benches on one server
#   BENCH_SEED_ARGS     (empty)             extra `idm seed` arguments, e.g. --no-properties
#                                           (no property definition: A/B of the property path)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

BENCH_BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
BENCH_USERS=${BENCH_USERS:-100000}
if [ "$BENCH_USERS" -ge 1000000 ]; then DEFAULT_CLIENTS=1; else DEFAULT_CLIENTS=2; fi
BENCH_CLIENTS=${BENCH_CLIENTS:-$DEFAULT_CLIENTS}
BENCH_TERMS=${BENCH_TERMS:-3}
BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_PORT=${BENCH_PORT:-18080}
BENCH_PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
BENCH_PGBENCH_CLIENTS=${BENCH_PGBENCH_CLIENTS:-8}
BENCH_PGBENCH_SCALE=${BENCH_PGBENCH_SCALE:-10}
BENCH_BASELINE=${BENCH_BASELINE:-1}
BENCH_TAG=${BENCH_TAG:-}
BENCH_SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
if [ -n "${BENCH_IDM:-}" ]; then BENCH_SKIP_BUILD=1; fi
BENCH_WORKDIR=${BENCH_WORKDIR:-/tmp/idm-bench}
BENCH_ONLY=${BENCH_ONLY:-}
BENCH_PROPERTY_QUERY=${BENCH_PROPERTY_QUERY:-properties.employeeNumber=E1-500}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-}
BENCH_DB=${BENCH_DB:-idm_bench}
BENCH_SEED_ARGS=${BENCH_SEED_ARGS:-}

UPC=$((BENCH_USERS / BENCH_CLIENTS))
IDM=${BENCH_IDM:-"$ROOT/target/release/idm"}
BASE="http://127.0.0.1:$BENCH_PORT"
CORE="/nevisidm/api/core/v1"
# The ★ read of a seeded profile, and the first page of the users list.
READ_PATH="$CORE/c1/profiles/c1-u1-p/unit"
PAGE_1_PATH="$CORE/clients/c1/users?limit=100"
SECRET="bench-hs256-secret-0123456789abcdef"
export BENCH_LUA_DIR="$ROOT/bench/wrk"
mkdir -p "$BENCH_WORKDIR" "$ROOT/bench/results/raw"
SERVER_PID=""

# Whether scenario $1 is selected by BENCH_SCENARIOS (empty: every scenario).
wanted() {
  [ -z "$BENCH_SCENARIOS" ] && return 0
  # A later round (read-r2) runs with its scenario (read).
  case " $BENCH_SCENARIOS " in *" ${1%-r[0-9]*} "*) return 0 ;; esac
  return 1
}

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap cleanup EXIT

ensure_tools() {
  if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk (Debian package)"
    if command -v apt-get >/dev/null 2>&1; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null; }
    fi
  fi
  command -v wrk >/dev/null 2>&1 || { echo "bench: wrk is required (apt-get install wrk)" >&2; exit 1; }
  command -v curl >/dev/null 2>&1 || { echo "bench: curl is required" >&2; exit 1; }
  command -v python3 >/dev/null 2>&1 || { echo "bench: python3 is required (report writer)" >&2; exit 1; }
}

# Server environment: quiet logs (every request is an info event), fixed secrets.
server_env() {
  export IDM__DATABASE__URL="$1"
  export IDM__AUTH__HS256_SECRET="$SECRET"
  export IDM__XTOKEN__SECRET="bench-xtoken-secret-0123456789abcdef"
  export IDM__BOOTSTRAP__ADMIN_PASSWORD="Bench-Adm1n-password"
  export IDM__SERVER__HOST=127.0.0.1
  export IDM__SERVER__PORT="$BENCH_PORT"
  export IDM__LOG__LEVEL="${BENCH_LOG_LEVEL:-warn}"
}

fresh_db() { # backend name -> prints URL
  case "$1" in
    sqlite)
      rm -f "$BENCH_WORKDIR/$2.db" "$BENCH_WORKDIR/$2.db-wal" "$BENCH_WORKDIR/$2.db-shm"
      echo "sqlite://$BENCH_WORKDIR/$2.db" ;;
    postgres)
      psql -q "$BENCH_PG_URL/postgres" -c "DROP DATABASE IF EXISTS $2" -c "CREATE DATABASE $2" >/dev/null
      # TLS on loopback only costs CPU (measured: ~14 % of read throughput); a deployment
      # across hosts keeps its own sslmode.
      echo "$BENCH_PG_URL/$2?${BENCH_PG_PARAMS:-sslmode=disable}" ;;
  esac
}

drop_db() {
  case "$1" in
    sqlite) rm -f "$BENCH_WORKDIR/$2.db" "$BENCH_WORKDIR/$2.db-wal" "$BENCH_WORKDIR/$2.db-shm" ;;
    postgres) psql -q "$BENCH_PG_URL/postgres" -c "DROP DATABASE IF EXISTS $2" >/dev/null ;;
  esac
}

emit() { echo "$1" >>"$OUT"; }

seed() { # url clients upc label
  server_env "$1"
  log "seeding $2 client(s) x $3 users ($4)"
  local json
  # shellcheck disable=SC2086 # BENCH_SEED_ARGS is a list of arguments
  json=$("$IDM" seed --clients "$2" --users-per-client "$3" --terms "$BENCH_TERMS" $BENCH_SEED_ARGS --json 2>>"$BENCH_WORKDIR/seed.log" | tail -1)
  log "seeded: $json"
  emit "{\"kind\":\"seed\",\"label\":\"$4\",\"result\":$json}"
  # PostgreSQL: vacuum what the seed loaded, as `pgbench -i` does before the ceilings are
  # measured. Otherwise autovacuum's insert-triggered passes over the freshly loaded tables
  # (and their 19 users indexes) start within a minute and run during the scenarios.
  case "$1" in
    postgres*)
      local t0=$SECONDS
      psql -q "$1" -c "VACUUM (ANALYZE)" >/dev/null
      log "vacuumed after seeding ($((SECONDS - t0)) s)" ;;
  esac
}

start_server() { # url
  server_env "$1"
  "$IDM" serve >>"$BENCH_WORKDIR/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS "$BASE/health" >/dev/null 2>&1; then
      TOKEN=$("$IDM" token --client-ext-id Default --user-ext-id admin --ttl 7200)
      export BENCH_TOKEN="$TOKEN"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench: server died, see $BENCH_WORKDIR/server.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "bench: server did not come up" >&2
  exit 1
}

# Probe a route once: "missing" if the route is not registered (404 errors.invalidUri or 405),
# else the status. Writes create data (a consent, a user): harmless for the measurements.
probe() { # method path [body]
  local body_file="$BENCH_WORKDIR/probe.body" status
  if [ $# -ge 3 ]; then
    status=$(curl -sS -o "$body_file" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $BENCH_TOKEN" \
      -H 'Content-Type: application/json' --data "$3" "$BASE$2")
  else
    status=$(curl -sS -o "$body_file" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $BENCH_TOKEN" "$BASE$2")
  fi
  if { [ "$status" = 404 ] && grep -q 'errors.invalidUri' "$body_file"; } || [ "$status" = 405 ]; then
    echo missing
  else
    echo "$status"
  fi
}

# Runs wrk with a scenario script; emits one scenario line. Extra env for the Lua goes before.
run_wrk() { # name script url-path [note]
  local name=$1 script=$2 path=$3 note=${4:-}
  if ! wanted "$name"; then return; fi
  log "scenario $name: wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_DURATION}s ($script)"
  local raw line
  raw=$(BENCH_PATH="$path" wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${BENCH_DURATION}s" \
    --timeout 10s -s "$BENCH_LUA_DIR/$script" "$BASE$path" 2>&1) || true
  line=$(printf '%s\n' "$raw" | sed -n 's/^BENCHJSON //p' | tail -1)
  if [ -z "$line" ]; then
    printf '%s\n' "$raw" >&2
    emit "{\"kind\":\"scenario\",\"name\":\"$name\",\"failed\":true,\"note\":\"wrk produced no summary\"}"
    return
  fi
  log "  $line"
  emit "{\"kind\":\"scenario\",\"name\":\"$name\",\"note\":\"$note\",\"connections\":$BENCH_CONNECTIONS,\"delay_ms\":${BENCH_DELAY_MS:-0},\"result\":$line}"
}

missing() { # name route
  log "scenario $1: endpoint missing ($2)"
  emit "{\"kind\":\"scenario\",\"name\":\"$1\",\"missing\":true,\"note\":\"endpoint missing: $2\"}"
}

last_rps() { # scenario name -> rps of its last line in $OUT
  python3 - "$OUT" "$1" <<'EOF'
import json, sys
rps = 0
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("kind") == "scenario" and d.get("name") == sys.argv[2] and "result" in d:
        rps = d["result"]["rps"]
print(int(rps))
EOF
}

half_rate() { # name script path saturated-name
  local sat pace conns
  sat=$(last_rps "$4")
  if [ "$sat" -le 0 ]; then return; fi
  # Paced load: every connection waits BENCH_PACE_MS (default 10) after each answer, so the
  # offered rate is about connections * 1000 / (pace + latency); pick the connection count
  # that offers half the saturating rate (latency assumed ~0.5 ms at that load).
  pace=${BENCH_PACE_MS:-10}
  conns=$(( (sat / 2 * (pace * 2 + 1) + 1999) / 2000 ))
  [ "$conns" -lt 1 ] && conns=1
  BENCH_CONNECTIONS=$conns BENCH_DELAY_MS=$pace run_wrk "$1" "$2" "$3" \
    "paced: $conns connections x 1 request per ${pace} ms + latency, target $((sat / 2)) req/s"
}

# pgbench $1 (-S or -N) -M prepared with $2 clients on database $3: prints "tps latency_ms".
pgbench_run() {
  local out tps lat
  out=$(pgbench "$1" -M prepared -c "$2" -j 2 -T "$BENCH_DURATION" "$BENCH_PG_URL/$3" 2>&1 || true)
  tps=$(printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | tail -1)
  lat=$(printf '%s\n' "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' | tail -1)
  echo "${tps:-0} ${lat:-0}"
}

pgbench_ceiling() {
  local db=${BENCH_DB}_pgbench tps lat
  if ! command -v pgbench >/dev/null 2>&1; then
    emit "{\"kind\":\"pgbench\",\"tps\":0,\"latency_ms\":0,\"clients\":0,\"scale\":0}"
    return
  fi
  log "pgbench ceiling: -i -s $BENCH_PGBENCH_SCALE, then -S -M prepared -c $BENCH_PGBENCH_CLIENTS -j 2 -T $BENCH_DURATION"
  psql -q "$BENCH_PG_URL/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  pgbench -q -i -s "$BENCH_PGBENCH_SCALE" "$BENCH_PG_URL/$db" >/dev/null 2>&1
  read -r tps lat < <(pgbench_run -S "$BENCH_PGBENCH_CLIENTS" "$db")
  log "  pgbench -S tps=$tps latency=${lat}ms"
  # The write ceiling for the admin lifecycle: pgbench's simple-update transaction (-N). Run
  # twice: with pgbench's client count (comparable with earlier reports) and with wrk's
  # connection count, the issue's "same client count", which gives the lifecycle verdict.
  local ntps nlat stps slat
  read -r ntps nlat < <(pgbench_run -N "$BENCH_PGBENCH_CLIENTS" "$db")
  log "  pgbench -N -c $BENCH_PGBENCH_CLIENTS tps=$ntps latency=${nlat}ms"
  read -r stps slat < <(pgbench_run -N "$BENCH_CONNECTIONS" "$db")
  log "  pgbench -N -c $BENCH_CONNECTIONS tps=$stps latency=${slat}ms"
  psql -q "$BENCH_PG_URL/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null
  emit "{\"kind\":\"pgbench\",\"tps\":${tps:-0},\"latency_ms\":${lat:-0},\"update_tps\":${ntps:-0},\"update_latency_ms\":${nlat:-0},\"update_same_clients\":$BENCH_CONNECTIONS,\"update_same_tps\":${stps:-0},\"update_same_latency_ms\":${slat:-0},\"clients\":$BENCH_PGBENCH_CLIENTS,\"scale\":$BENCH_PGBENCH_SCALE}"
}

machine_facts() { # backend
  local mem cpu pgv commit dirty
  mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
  cpu=$(awk -F: '/model name/ {gsub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo)
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git diff --quiet HEAD 2>/dev/null && echo false || echo true)
  pgv=""
  if [ "$1" = postgres ]; then pgv=$(psql -tA "$BENCH_PG_URL/postgres" -c 'SHOW server_version' 2>/dev/null || true); fi
  python3 - <<EOF >>"$OUT"
import json
print(json.dumps({"kind": "meta", "backend": "$1", "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cores": $(nproc), "memory": "$mem", "cpu": "$cpu", "kernel": "$(uname -r)",
  "load_start": "$(cut -d' ' -f1-3 /proc/loadavg)", "commit": "$commit", "dirty": "$dirty" == "true", "postgres": "$pgv", "wrk": "$(wrk -v 2>&1 | head -1 | cut -c1-40)",
  "rustc": "$(rustc --version 2>/dev/null)",
  "settings": {"users": $BENCH_USERS, "clients": $BENCH_CLIENTS, "users_per_client": $UPC,
    "terms": $BENCH_TERMS, "duration_s": $BENCH_DURATION, "connections": $BENCH_CONNECTIONS,
    "wrk_threads": $BENCH_THREADS, "pgbench_clients": $BENCH_PGBENCH_CLIENTS,
    "pgbench_scale": $BENCH_PGBENCH_SCALE, "log_level": "${BENCH_LOG_LEVEL:-warn}",
    "seed_args": "$BENCH_SEED_ARGS", "scenarios": "$BENCH_SCENARIOS", "binary": "$IDM", "size_rounds": ${BENCH_SIZE_ROUNDS:-3}}}))
EOF
}

# The list-query scenarios (issue 13) on the running server; $1 = name suffix ("" or "-1k").
list_scenarios() {
  local suffix=$1 note=$2
  if [ "$(probe GET "$CORE/clients/c1/users?contacts.email_SW=c1-u1%40")" != 200 ]; then
    missing "list-email-prefix$suffix" "GET core/clients/:c/users?contacts.email_SW="
  else
    run_wrk "list-email-prefix$suffix" email_prefix.lua "$CORE/clients/c1/users" \
      "contacts.email_SW=<one user's prefix>, $note"
  fi
  if [ -z "$BENCH_PROPERTY_QUERY" ]; then
    missing "list-property$suffix" "set BENCH_PROPERTY_QUERY (custom properties)"
  elif [ "$(probe GET "$CORE/clients/c1/users?$BENCH_PROPERTY_QUERY")" != 200 ]; then
    missing "list-property$suffix" "GET core/clients/:c/users?$BENCH_PROPERTY_QUERY"
  else
    run_wrk "list-property$suffix" property_filter.lua "$CORE/clients/c1/users" \
      "$BENCH_PROPERTY_QUERY, $note"
  fi
}

# BENCH_ONLY=lists: the list scenarios alone, at 1,000 users and at BENCH_USERS (one client).
bench_lists() { # backend
  local backend=$1 url stamp result
  stamp=$(date -u +%Y-%m-%d)
  result="$ROOT/bench/results/$stamp-$backend-lists${BENCH_TAG:+-$BENCH_TAG}"
  OUT="$result.jsonl.tmp"
  : >"$OUT"
  BENCH_CLIENTS=1
  UPC=$BENCH_USERS
  machine_facts "$backend"
  url=$(fresh_db "$backend" "${BENCH_DB}_1k")
  seed "$url" 1 1000 baseline-1k
  start_server "$url"
  BENCH_CLIENTS=1 BENCH_UPC=1000 list_scenarios -1k "1 client x 1,000 users"
  cleanup
  drop_db "$backend" "${BENCH_DB}_1k"
  url=$(fresh_db "$backend" "$BENCH_DB")
  seed "$url" 1 "$UPC" main
  start_server "$url"
  BENCH_CLIENTS=1 BENCH_UPC=$UPC list_scenarios "" "1 client x $UPC users"
  cleanup
  emit "{\"kind\":\"load\",\"load_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
  if [ "${BENCH_KEEP_DB:-0}" != 1 ]; then drop_db "$backend" "$BENCH_DB"; fi
  mv "$OUT" "$ROOT/bench/results/raw/$(basename "$result").jsonl"
  python3 "$ROOT/bench/report.py" "$ROOT/bench/results/raw/$(basename "$result").jsonl" >"$result.md"
  log "wrote $result.md"
}

# The size and paging verdicts compare p50s measured minutes apart, and this box's load moves
# in between: the 1k baseline runs first, often on a quieter box (load 2 there, 8 by the end
# of a run). Rounds 2..BENCH_SIZE_ROUNDS let the two databases take turns, minutes apart no
# more; the report compares the medians. Leaves the main server running.
size_rounds() { # main-url 1k-url read-served(0/1) page-n-path
  local r
  for r in $(seq 2 "${BENCH_SIZE_ROUNDS:-3}"); do
    if [ "$3" = 1 ]; then
      if [ -n "$2" ]; then
        cleanup
        start_server "$2"
        BENCH_CLIENTS=1 BENCH_UPC=1000 run_wrk "read-1k-r$r" read.lua "$READ_PATH" "1 client x 1,000 users, round $r"
        cleanup
        start_server "$1"
      fi
      run_wrk "read-r$r" read.lua "$READ_PATH" "round $r"
    fi
    if [ -n "$4" ]; then
      run_wrk "paging-page-1-r$r" plain.lua "$PAGE_1_PATH" "round $r"
      run_wrk "paging-page-n-r$r" plain.lua "$4" "round $r"
    fi
  done
}

bench_backend() { # backend
  local backend=$1 url url_1k="" stamp result
  stamp=$(date -u +%Y-%m-%d)
  result="$ROOT/bench/results/$stamp-$backend${BENCH_TAG:+-$BENCH_TAG}"
  OUT="$result.jsonl.tmp"
  : >"$OUT"
  machine_facts "$backend"

  if [ "$backend" = postgres ]; then pgbench_ceiling; fi

  # Baseline for "p50 at the full size within 20 % of p50 at 1,000 users".
  if [ "$BENCH_BASELINE" = 1 ] && [ "$BENCH_USERS" -gt 1000 ]; then
    url=$(fresh_db "$backend" "${BENCH_DB}_1k")
    seed "$url" 1 1000 baseline-1k
    start_server "$url"
    if [ "$(probe GET "$READ_PATH")" = missing ]; then
      missing read-1k "GET core/:c/profiles/:p/unit"
    else
      BENCH_CLIENTS=1 BENCH_UPC=1000 run_wrk read-1k read.lua "$READ_PATH" "1 client x 1,000 users"
    fi
    BENCH_CLIENTS=1 BENCH_UPC=1000 list_scenarios -1k "1 client x 1,000 users"
    cleanup
    url_1k=$url
  fi

  url=$(fresh_db "$backend" "$BENCH_DB")
  seed "$url" "$BENCH_CLIENTS" "$UPC" main
  start_server "$url"
  export BENCH_CLIENTS BENCH_UPC=$UPC BENCH_TERMS

  run_wrk health plain.lua /health "ceiling: no auth, no database"
  half_rate health-half plain.lua /health health

  run_wrk read-client read_client.lua "$CORE/clients/c1" "stand-in read: GET core/clients/:c, Root admin bearer token"
  half_rate read-client-half read_client.lua "$CORE/clients/c1" read-client

  local read_served=0
  if [ "$(probe GET "$READ_PATH")" = missing ]; then
    missing read "GET core/:c/profiles/:p/unit"
  else
    read_served=1
    run_wrk read read.lua "$READ_PATH" "random profile of $BENCH_USERS, Root admin bearer token"
    half_rate read-half read.lua "$READ_PATH" read
  fi

  if [ "$(probe POST "$CORE/c1/users/c1-u1/consents" '{"termsExtId":"t1"}')" = missing ]; then
    missing consents "POST core/:c/users/:u/consents"
  else
    run_wrk consents consents.lua "$CORE/c1/users/c1-u1/consents" "random user and terms; 422 = already consented"
  fi

  BENCH_THREADS=1 BENCH_PATCH_CLIENTS=${BENCH_PATCH_CLIENTS:-1} run_wrk patch-contention patch_client.lua "$CORE/clients/c1" \
    "all connections PATCH client c1 with the version they last saw"

  if [ "$(probe POST "$CORE/c1/users" '{"extId":"lc-probe","loginId":"lc-probe"}')" = missing ]; then
    missing lifecycle "POST/PATCH/DELETE core/:c/users"
  else
    BENCH_RUN_ID=$(date +%s) run_wrk lifecycle lifecycle.lua "$CORE/c1/users" "create -> patch -> disable -> delete in client c1"
  fi

  # Credentials (issue 12): the lifecycle with a password, then logins against a few users.
  if [ "$(probe POST "$CORE/c1/users/c1-u1/password" '{"password":"Bench-Passw0rd-1"}')" = missing ]; then
    missing credential-lifecycle "POST core/:c/users/:u/password"
  else
    BENCH_RUN_ID=$(date +%s) run_wrk credential-lifecycle credentials.lua "$CORE/c1/users" \
      "create user -> set password (argon2id) -> delete, in client c1"
    local login_users=${BENCH_LOGIN_USERS:-32} j
    # The password setup (argon2id per user) only serves the login scenario.
    wanted login || login_users=1
    for j in $(seq 2 "$login_users"); do
      probe POST "$CORE/c1/users/c1-u$j/password" '{"password":"Bench-Passw0rd-1"}' >/dev/null
    done
    BENCH_LOGIN_USERS=$login_users run_wrk login login.lua "/nevisidm/api/auth/v1/c1/users/c1-u1/password/login" \
      "right password, random one of $login_users users (argon2id verify per request)"
  fi

  local pages last_page token page_n=""
  pages=$(( (UPC + 99) / 100 ))
  last_page=$(( pages < 10000 ? pages : 10000 ))
  if [ "$(probe GET "$PAGE_1_PATH")" = missing ]; then
    missing paging "GET core/clients/:c/users"
  else
    run_wrk paging-page-1 plain.lua "$PAGE_1_PATH" "page 1 of $pages"
    # Token of the page after user (last_page-1)*100: created millis are deterministic (idm seed).
    local j=$(( (last_page - 1) * 100 ))
    token="$((1577836800000 + j - 1))_c1-u$j"
    page_n="$CORE/clients/c1/users?limit=100&continuationToken=$token"
    run_wrk paging-page-n plain.lua "$page_n" "page $last_page of $pages"
  fi
  size_rounds "$url" "$url_1k" "$read_served" "$page_n"
  list_scenarios "" "$BENCH_CLIENTS client(s) x $UPC users"
  cleanup
  if [ -n "$url_1k" ]; then drop_db "$backend" "${BENCH_DB}_1k"; fi
  emit "{\"kind\":\"load\",\"load_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
  if [ "${BENCH_KEEP_DB:-0}" != 1 ]; then drop_db "$backend" "$BENCH_DB"; fi

  mv "$OUT" "$ROOT/bench/results/raw/$(basename "$result").jsonl"
  python3 "$ROOT/bench/report.py" "$ROOT/bench/results/raw/$(basename "$result").jsonl" >"$result.md"
  log "wrote $result.md"
  python3 "$ROOT/bench/report.py" --index "$ROOT/bench/results" >"$ROOT/bench/results/README.md"
}

ensure_tools
if [ "$BENCH_SKIP_BUILD" != 1 ]; then
  log "building release binary"
  cargo build --release -p idm-server
fi
for b in $BENCH_BACKENDS; do
  if [ "$b" = postgres ] && ! psql -q "$BENCH_PG_URL/postgres" -c 'SELECT 1' >/dev/null 2>&1; then
    log "PostgreSQL not reachable at $BENCH_PG_URL (set BENCH_PG_URL): skipping the postgres run"
    continue
  fi
  if [ "$b" = postgres ] && ! command -v pgbench >/dev/null 2>&1; then
    log "pgbench missing (Debian: postgresql-contrib / postgresql client): the pgbench ceiling will be 0"
  fi
  if [ "$BENCH_ONLY" = lists ]; then bench_lists "$b"; else bench_backend "$b"; fi
done
