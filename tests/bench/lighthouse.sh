#!/usr/bin/env bash
# Lighthouse 12.8.2 (mobile) on the demo: login, Vandaag, a case page, the client page and the
# referral form. A measurement run by hand, not by CI:  bash tests/bench/lighthouse.sh
# Targets: performance >= 0.95, accessibility 1.0, best practices >= 0.95 on every page.
# Needs Node 20, Debian's Chromium (CHROME_PATH) and the project installed (flask, gunicorn).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
BIN=$(dirname "$(command -v flask || echo "$ROOT/.venv/bin/flask")")
OUT=${OUT:-$ROOT/test-artifacts/lighthouse}
mkdir -p "$OUT"

if [ ! -x "$HERE/node_modules/.bin/lighthouse" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --silent)
fi

INSTANCE=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$INSTANCE"
}
trap cleanup EXIT

PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export VRIJBAAN_INSTANCE="$INSTANCE" PUBLIC_BASE_URL="$BASE"
# curl keeps cookies marked Secure to itself over plain http: this local server sends them plain.
export VRIJBAAN_INSECURE_COOKIES=1
unset DATABASE_URL

cd "$ROOT"
"$BIN/flask" --app wsgi init-db >/dev/null
"$BIN/flask" --app wsgi seed-demo >"$INSTANCE/seed.txt"
CLIENT=$(grep -o 'Link voor cliënt[^:]*: [^ ]*' "$INSTANCE/seed.txt" | head -1 | sed 's/.*: //')
REFERRAL=$(grep -o 'Doorverwijsformulier[^:]*: [^ ]*' "$INSTANCE/seed.txt" | head -1 | sed 's/.*: //')

"$BIN/gunicorn" --workers 2 --bind "127.0.0.1:$PORT" --log-level warning wsgi:app &
SERVER_PID=$!
for _ in $(seq 1 50); do
  curl -fs -o /dev/null "$BASE/login" && break
  sleep 0.2
done

# Log in as the demo mediator, as the login form does (CSRF token from the page).
JAR="$INSTANCE/cookies.txt"
TOKEN=$(curl -fs -c "$JAR" "$BASE/login" | grep -o 'name="csrf-token" content="[^"]*"' | sed 's/.*content="//; s/"$//')
curl -fs -o /dev/null -b "$JAR" -c "$JAR" -X POST "$BASE/login" \
  --data-urlencode "csrf_token=$TOKEN" \
  --data-urlencode "email=sara.elamrani@vrijbaan.demo" \
  --data-urlencode "password=vrijbaan-demo-2026"
SESSION=$(awk '$6 == "session" { print $7 }' "$JAR")
[ -n "$SESSION" ] || { echo "login failed" >&2; exit 1; }
CASE=$(curl -fs -b "$JAR" "$BASE/cases/" | grep -o 'href="/cases/[0-9]*"' | head -1 | sed 's/href="//; s/"$//')
printf '{"Cookie": "session=%s"}' "$SESSION" >"$INSTANCE/headers.json"

FLAGS="--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync"
run() {
  local name=$1 url=$2 headers=${3:-}
  local extra=()
  [ -n "$headers" ] && extra=(--extra-headers "$headers")
  # Lighthouse now and then fails to record the trace of a load (NO_NAVSTART): one more try.
  for attempt in 1 2; do
    "$HERE/node_modules/.bin/lighthouse" "$url" --quiet --form-factor=mobile \
      --only-categories=performance,accessibility,best-practices \
      --output=json --output-path="$OUT/$name.json" \
      --chrome-flags="$FLAGS --user-data-dir=$(mktemp -d -p "$INSTANCE")" "${extra[@]}" && return 0
    echo "lighthouse failed on $name (attempt $attempt)" >&2
  done
  return 1
}

run login "$BASE/login"
run vandaag "$BASE/" "$INSTANCE/headers.json"
run case "$BASE$CASE" "$INSTANCE/headers.json"
[ -n "$CLIENT" ] && run client "$CLIENT"
[ -n "$REFERRAL" ] && run referral-form "$REFERRAL"

node - "$OUT" <<'JS'
const fs = require("fs");
const path = require("path");
const dir = process.argv[2];
const pages = ["login", "vandaag", "case", "client", "referral-form"];
const targets = { performance: 0.95, accessibility: 1, "best-practices": 0.95 };
let ok = true;
console.log("page            performance  accessibility  best-practices");
for (const page of pages) {
  const file = path.join(dir, page + ".json");
  if (!fs.existsSync(file)) { console.log(page.padEnd(16) + "(not measured)"); ok = false; continue; }
  const report = JSON.parse(fs.readFileSync(file, "utf8"));
  const scores = Object.keys(targets).map((id) => report.categories[id].score);
  console.log(page.padEnd(16) + scores.map((s, i) => String(s).padEnd(i === 0 ? 13 : 15)).join(""));
  Object.keys(targets).forEach((id) => {
    if (report.categories[id].score >= targets[id]) return;
    ok = false;
    for (const ref of report.categories[id].auditRefs) {
      const audit = report.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
        console.log(`    ${id}: ${audit.id} (${audit.score}) ${audit.displayValue || ""}`);
      }
    }
  });
}
console.log(ok ? "All pages meet the targets." : "Some pages miss a target (see above).");
JS
