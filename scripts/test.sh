#!/usr/bin/env bash
# The project's test command (`npm test`): brings up the real PostgreSQL and Kafka the
# integration tests talk to, type-checks, runs every bun test suite, and ends with one line
# `tests: N passed, N failed`. Extra arguments go to `bun test` (a file or -t filter).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" # the pinned Bun, also when run outside npm

services=$(bash scripts/services.sh up) || { echo "could not start the test services (see above)" >&2; echo "tests: 0 passed, 1 failed"; exit 1; }
eval "$services"
export TEST_DATABASE_URL="$DATABASE_URL" TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
unset DATABASE_URL KAFKA_BROKERS

failed_checks=0
if [ "${EVNET_SKIP_TYPECHECK:-}" = "1" ]; then
  echo "== type check skipped (EVNET_SKIP_TYPECHECK=1)"
else
  echo "== type check (tsc --noEmit)"
  if ! bun x tsc --noEmit -p .; then
    echo "type check failed" >&2
    failed_checks=1
  fi
fi

echo "== bun test"
log=$(mktemp)
# bunfig.toml cannot set the per-test timeout (Bun 1.4 ignores [test] timeout): pass it here.
bun test --timeout 60000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
pass=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi # the runner itself failed
passed=$pass; [ "${EVNET_SKIP_TYPECHECK:-}" = "1" ] || passed=$((pass + 1 - failed_checks))
failed=$((fail + failed_checks))
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
