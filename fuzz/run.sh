#!/usr/bin/env bash
# make fuzz: schemathesis against a freshly started release server on a throw-away database —
# SQLite, then PostgreSQL — on loopback, authenticated as the bootstrap admin. Bounded in time
# and examples.
#
#   FUZZ_BACKENDS     "sqlite postgres" (default) or one of them
#   FUZZ_PG_URL       PostgreSQL server URL without database (default
#                     postgres://postgres@127.0.0.1:5432); a database idm_fuzz_<pid> is
#                     created for the run and dropped after it
#   FUZZ_MAX_TIME     seconds of schemathesis per backend (default 300)
#   FUZZ_MAX_EXAMPLES examples per operation and phase (default 400)
#   FUZZ_WORKERS      concurrent schemathesis workers (default 4)
#   FUZZ_SEED         seed for a reproducible run (default: random)
#   FUZZ_MIN_REQUESTS fail if the server saw fewer requests (default 5000)
#
# Exit status: 0 only when, on every backend, schemathesis found nothing, the server answered no
# request with a status >= 500, and at least FUZZ_MIN_REQUESTS requests were made.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/fuzz/.venv"
SCHEMATHESIS_VERSION=4.32.5
MAX_TIME=${FUZZ_MAX_TIME:-300}
BACKENDS=${FUZZ_BACKENDS:-"sqlite postgres"}
PG_URL=${FUZZ_PG_URL:-postgres://postgres@127.0.0.1:5432}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-400}
WORKERS=${FUZZ_WORKERS:-4}
MIN_REQUESTS=${FUZZ_MIN_REQUESTS:-5000}
SECRET="fuzz-only-hs256-secret-0123456789"

if [ ! -x "$VENV/bin/st" ]; then
    echo "fuzz: installing schemathesis $SCHEMATHESIS_VERSION into fuzz/.venv"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

echo "fuzz: building the release server"
cargo build --release --quiet -p idm-server
BIN="$ROOT/target/release/idm"

fuzz_backend() {
BACKEND=$1
WORK="$ROOT/fuzz/work/$(date +%Y%m%d-%H%M%S)-$BACKEND"
mkdir -p "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"

# The server runs in the work dir so no config/default.toml is read: only these settings.
export IDM__SERVER__HOST=127.0.0.1
export IDM__SERVER__PORT=$PORT
if [ "$BACKEND" = postgres ]; then
    PG_DB="idm_fuzz_$$"
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB" >/dev/null
    export IDM__DATABASE__URL="$PG_URL/$PG_DB"
else
    export IDM__DATABASE__URL="sqlite://$WORK/idm.db"
fi
export IDM__AUTH__HS256_SECRET=$SECRET
export IDM__XTOKEN__SECRET=$SECRET
export IDM__BOOTSTRAP__ADMIN_PASSWORD="Fuzz-Admin-Passw0rd"
export IDM__LOG__LEVEL=warn

(cd "$WORK" && exec "$BIN" serve) >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
stop_server() {
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$BACKEND" = postgres ]; then
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
    fi
}
trap stop_server EXIT

for _ in $(seq 1 100); do
    if curl -fsS "$BASE/ready" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "fuzz: the server did not start:"; cat "$WORK/server.log"; exit 1
    fi
    sleep 0.2
done
TOKEN=$(cd "$WORK" && "$BIN" token --client-ext-id Default --user-ext-id admin --ttl 86400)

requests_total() {
    curl -fsS "$BASE/metrics" | awk '/^idm_http_requests_total\{/ { n += $NF } END { printf "%d\n", n }'
}
server_errors() {
    curl -fsS "$BASE/metrics" | awk '/^idm_http_requests_total\{/ && /status="5[0-9][0-9]"/ { n += $NF } END { printf "%d\n", n }'
}

SEED_ARGS=()
if [ -n "${FUZZ_SEED:-}" ]; then SEED_ARGS=(--seed "$FUZZ_SEED"); fi

echo "fuzz: schemathesis $BASE/openapi.json (max ${MAX_TIME}s, ${MAX_EXAMPLES} examples/operation, ${WORKERS} workers); work dir $WORK"
set +e
# Run from the work dir: schemathesis keeps a .schemathesis/ cache in its working directory.
(cd "$WORK" && "$VENV/bin/st" run "$BASE/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing,stateful \
    --max-time "$MAX_TIME" \
    --max-examples "$MAX_EXAMPLES" \
    --workers "$WORKERS" \
    --request-timeout 10 \
    --generation-database none \
    --suppress-health-check all \
    --report junit --report-dir "$WORK/report" \
    --no-color "${SEED_ARGS[@]}") 2>&1 | tee "$WORK/schemathesis.txt"
ST_STATUS=${PIPESTATUS[0]}
set -e

REQUESTS=$(requests_total)
ERRORS=$(server_errors)
echo
echo "================ fuzz summary ($BACKEND) ================"
echo "schemathesis exit status:        $ST_STATUS"
echo "requests seen by the server:     $REQUESTS (minimum $MIN_REQUESTS)"
echo "responses with status >= 500:    $ERRORS"
echo "server log (warnings and errors): $WORK/server.log ($(wc -l <"$WORK/server.log") lines)"
echo "schemathesis output:             $WORK/schemathesis.txt"
echo "=============================================="
stop_server
trap - EXIT
if [ "$ST_STATUS" -ne 0 ] || [ "$ERRORS" -ne 0 ] || [ "$REQUESTS" -lt "$MIN_REQUESTS" ]; then
    echo "fuzz ($BACKEND): FAILED"
    return 1
fi
echo "fuzz ($BACKEND): OK"
}

FAILED=""
for backend in $BACKENDS; do
    fuzz_backend "$backend" || FAILED="$FAILED $backend"
done
if [ -n "$FAILED" ]; then
    echo "fuzz: FAILED on:$FAILED"
    exit 1
fi
echo "fuzz: OK on $BACKENDS"
