#!/usr/bin/env bash
# The project's test command (`npm test`): brings up the real PostgreSQL and Kafka the
# integration tests talk to, type-checks, lints, runs every bun test suite, and ends with one
# line `tests: N passed, N failed` (the type check and the lint count as one test each).
# Extra arguments go to `bun test` (a file or -t filter). EVNET_SKIP_TYPECHECK=1 and
# EVNET_SKIP_LINT=1 leave those checks out of a quick run.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" # the pinned Bun, also when run outside npm

services=$(bash scripts/services.sh up) || { echo "could not start the test services (see above)" >&2; echo "tests: 0 passed, 1 failed"; exit 1; }
eval "$services"
export TEST_DATABASE_URL="$DATABASE_URL" TEST_DATABASE_SOCKET_DIR="$DATABASE_SOCKET_DIR" TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
unset DATABASE_URL DATABASE_SOCKET_DIR KAFKA_BROKERS

checks=0
failed_checks=0
# check NAME SKIP_VARIABLE COMMAND...: runs a whole-tree check that counts as one test.
check() {
  local name=$1 skip=$2
  shift 2
  if [ "${!skip:-}" = "1" ]; then
    echo "== $name skipped ($skip=1)"
    return
  fi
  echo "== $name ($*)"
  checks=$((checks + 1))
  if ! "$@"; then
    echo "$name failed" >&2
    failed_checks=$((failed_checks + 1))
  fi
}
check "type check" EVNET_SKIP_TYPECHECK bun x tsc --noEmit -p .
check "format and lint" EVNET_SKIP_LINT biome ci --colors=off .

echo "== bun test"
log=$(mktemp)
# bunfig.toml cannot set the per-test timeout (Bun 1.4 ignores [test] timeout): pass it here.
bun test --timeout 60000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
pass=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi # the runner itself failed
passed=$((pass + checks - failed_checks))
failed=$((fail + failed_checks))
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
